/**
 * Lowercase hex encoding, used for ids and checksums everywhere.
 *
 * @module
 */
import { TesserasError } from "./errors.ts";

const DIGIT_CODES = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/** Char codes of one piece of output; reused by every call. */
const codes: number[] = [];
/** Bytes hexed per `String.fromCharCode` call (its arguments are bounded). */
const PIECE = 4096;

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0, 255])); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  // One flat string per piece: ids and proofs are compared and copied
  // byte by byte later, which a rope of two-character pieces slows down.
  let out = "";
  for (let at = 0; at < bytes.length; at += PIECE) {
    const end = Math.min(bytes.length, at + PIECE);
    // Setting the length, even to the same value, costs more than the
    // hexing of a digest: only on a change of size.
    const length = 2 * (end - at);
    if (codes.length !== length) codes.length = length;
    for (let i = at, j = 0; i < end; i++, j += 2) {
      codes[j] = DIGIT_CODES[bytes[i] >>> 4];
      codes[j + 1] = DIGIT_CODES[bytes[i] & 15];
    }
    out += String.fromCharCode.apply(null, codes);
  }
  return out;
}

/**
 * Bytes of a hex string; throws `INVALID_INPUT` on odd length or a
 * non-hex character.
 *
 * @example
 * ```ts
 * fromHex("00ff"); // Uint8Array [0, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw badHex();
  // Char codes, not a regex and `parseInt` per byte: every chunk proof
  // checked turns a checksum back into bytes.
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw badHex();
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Write the bytes of `hex` (either case) into `out` from its start, as
 * many as both hold; returns how many the hex spells (its length / 2),
 * or -1 for non-hex or an odd length, so that a caller can check the
 * count: no array is allocated, unlike {@linkcode fromHex}.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(2);
 * hexInto(out, "00ff"); // 2; out is [0, 255]
 * ```
 */
export function hexInto(out: Uint8Array, hex: string): number {
  if (hex.length % 2 !== 0) return -1;
  const n = hex.length / 2;
  for (let i = 0; i < n; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return -1;
    if (i < out.length) out[i] = (hi << 4) | lo;
  }
  return n;
}

/**
 * Whether `hex` (either case) spells exactly `bytes`: a compare without
 * turning the hex into bytes first (a chunk proof's check compares its
 * root with a checksum kept as hex). `false` for non-hex.
 *
 * @example
 * ```ts
 * equalsHex(new Uint8Array([0, 255]), "00FF"); // true
 * ```
 */
export function equalsHex(bytes: Uint8Array, hex: string): boolean {
  if (hex.length !== 2 * bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0 || ((hi << 4) | lo) !== bytes[i]) return false;
  }
  return true;
}

/** The value of one hex digit's char code (either case), or -1. */
function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20; // "A"-"F" to "a"-"f"; no other code lands there
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

function badHex(): TesserasError {
  return new TesserasError("INVALID_INPUT", "invalid hex string");
}
