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

/** The value of one hex digit's char code (either case), or -1. */
function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20; // "A"-"F" to "a"-"f"; no other code lands there
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

function badHex(): TesserasError {
  return new TesserasError("INVALID_INPUT", "invalid hex string");
}
