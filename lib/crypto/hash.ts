/**
 * HKDF-SHA256 (RFC 5869) through WebCrypto, with tesseras' info strings
 * in one place so no two derived keys ever share one.
 *
 * @module
 */
import { concatBytes, source } from "./bytes.ts";

/** Options of {@linkcode hkdfSha256}. */
export interface HkdfOptions {
  /** Salt (default: empty, which HKDF treats as 32 zero bytes). */
  readonly salt?: Uint8Array;
  /** Output length in bytes (default 32). */
  readonly length?: number;
}

/**
 * `length` bytes of HKDF-SHA256 of `ikm` for the context string `info`.
 *
 * @example
 * ```ts
 * const key = await hkdfSha256(new Uint8Array(32), "tesseras/v1/example");
 * key.length; // 32
 * ```
 */
export async function hkdfSha256(
  ikm: Uint8Array,
  info: string,
  options: HkdfOptions = {},
): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey(
    "raw",
    source(ikm),
    "HKDF",
    false,
    [
      "deriveBits",
    ],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: source(options.salt ?? new Uint8Array(0)),
      info: new TextEncoder().encode(info),
    },
    base,
    8 * (options.length ?? 32),
  );
  return new Uint8Array(bits);
}

/**
 * SHA-256 of the concatenation of `parts`.
 *
 * @example
 * ```ts
 * (await sha256(new Uint8Array([1]), new Uint8Array([2]))).length; // 32
 * ```
 */
export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const joined = source(concatBytes(parts));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}
