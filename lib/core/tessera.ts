/**
 * Tessera identity: a tessera is immutable bytes, named by the BLAKE3-256
 * of its content as 64 lowercase hex characters.
 *
 * @module
 */
import { TesserasError } from "./errors.ts";

/** BLAKE3-256 of a tessera's content, 64 lowercase hex characters. */
export type TesseraId = string;

/** Libp2p peer id string (base58btc), also used as the ledger's key. */
export type PeerId = string;

/** Hex-encoded BLAKE3-256 checksum (64 lowercase hex characters). */
export type Checksum = string;

/** The largest tessera accepted: 1 GiB. */
export const MAX_TESSERA_SIZE = 1_073_741_824;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * True when `value` is a well-formed tessera id (or checksum): exactly 64
 * lowercase hex characters, so it can never carry a path separator.
 *
 * @example
 * ```ts
 * isTesseraId("ab".repeat(32)); // true
 * isTesseraId("../etc/passwd"); // false
 * ```
 */
export function isTesseraId(value: unknown): value is TesseraId {
  return typeof value === "string" && HEX64.test(value);
}

/**
 * Throws `INVALID_ID` unless `value` is a well-formed tessera id.
 *
 * @example
 * ```ts
 * assertTesseraId("00".repeat(32));
 * ```
 */
export function assertTesseraId(value: unknown): asserts value is TesseraId {
  if (!isTesseraId(value)) {
    const shown = typeof value === "string"
      ? JSON.stringify(value.slice(0, 80))
      : typeof value;
    throw new TesserasError(
      "INVALID_ID",
      `invalid tessera id ${shown}: expected 64 lowercase hex characters`,
    );
  }
}

/**
 * Throws `TOO_LARGE` when `size` exceeds {@linkcode MAX_TESSERA_SIZE}, and
 * `INVALID_INPUT` when it is not a non-negative integer.
 *
 * @example
 * ```ts
 * assertTesseraSize(4096);
 * ```
 */
export function assertTesseraSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TesserasError("INVALID_INPUT", `invalid tessera size ${size}`);
  }
  if (size > MAX_TESSERA_SIZE) {
    throw new TesserasError(
      "TOO_LARGE",
      `tessera is ${size} bytes; the limit is ${MAX_TESSERA_SIZE} bytes (1 GiB): split it into smaller tesseras`,
    );
  }
}
