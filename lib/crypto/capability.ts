/**
 * The read capability of a private tessera (`tesseras share ID`): its id
 * and content key in one copyable token, `tsr1…`, in bech32m (BIP 350):
 * lower-case letters and digits without look-alikes, one word for a
 * double click, and a 30-bit checksum (BCH) that catches typos. The data
 * is a version byte (0), the 32-byte tessera id, then the 32-byte key:
 * 114 characters in all.
 *
 * Whoever holds the token can read the tessera; the bare id reveals only
 * what the ciphertext does (its size, hence its tier).
 *
 * @module
 */
import { fromHex, type TesseraId, TesserasError, toHex } from "../core/mod.ts";
import { bech32m } from "@scure/base";

/** Human-readable prefix of a read capability. */
export const CAPABILITY_PREFIX = "tsr";
const VERSION = 0;
const DATA_BYTES = 65;
const MAX_LENGTH = 200;

/** What a read capability grants. */
export interface ReadCapability {
  /** The private tessera's id. */
  readonly id: TesseraId;
  /** Its 32-byte content key. */
  readonly key: Uint8Array;
}

/**
 * The token for `capability`.
 *
 * @example
 * ```ts
 * const token = formatCapability({ id: "ab".repeat(32), key: new Uint8Array(32) });
 * token.startsWith("tsr1"); // true
 * token.length; // 114
 * ```
 */
export function formatCapability(capability: ReadCapability): string {
  if (!/^[0-9a-f]{64}$/.test(capability.id)) {
    throw new TesserasError(
      "INVALID_ID",
      `"${capability.id}" is not a tessera id`,
    );
  }
  if (capability.key.length !== 32) {
    throw new TesserasError("INVALID_INPUT", "a content key has 32 bytes");
  }
  const data = new Uint8Array(DATA_BYTES);
  data[0] = VERSION;
  data.set(fromHex(capability.id), 1);
  data.set(capability.key, 33);
  return bech32m.encode(CAPABILITY_PREFIX, bech32m.toWords(data), MAX_LENGTH);
}

/**
 * True when `text` looks like a read capability rather than a bare id
 * (it starts with `tsr1`); {@linkcode parseCapability} still checks it.
 *
 * @example
 * ```ts
 * looksLikeCapability("tsr1qqq"); // true
 * looksLikeCapability("ab".repeat(32)); // false
 * ```
 */
export function looksLikeCapability(text: string): boolean {
  return text.trim().toLowerCase().startsWith(`${CAPABILITY_PREFIX}1`);
}

/**
 * The id and key in a token; `INVALID_INPUT` for anything malformed
 * (wrong prefix, a mistyped character, a cut-off token).
 *
 * @example
 * ```ts
 * const key = new Uint8Array(32).fill(7);
 * const token = formatCapability({ id: "ab".repeat(32), key });
 * parseCapability(token).id; // "abab…"
 * ```
 */
export function parseCapability(text: string): ReadCapability {
  const token = text.trim().toLowerCase();
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(token as `${string}1${string}`, MAX_LENGTH);
  } catch (cause) {
    throw new TesserasError(
      "INVALID_INPUT",
      "this is not a valid read capability (tsr1…): a character is mistyped or missing; copy the whole token again",
      { cause },
    );
  }
  if (decoded.prefix !== CAPABILITY_PREFIX) {
    throw new TesserasError(
      "INVALID_INPUT",
      `a read capability starts with ${CAPABILITY_PREFIX}1, not ${decoded.prefix}1`,
    );
  }
  const data = bech32m.fromWords(decoded.words);
  if (data.length !== DATA_BYTES || data[0] !== VERSION) {
    throw new TesserasError(
      "INVALID_INPUT",
      "this read capability's format is not known to this version of tesseras",
    );
  }
  return { id: toHex(data.subarray(1, 33)), key: data.slice(33) };
}
