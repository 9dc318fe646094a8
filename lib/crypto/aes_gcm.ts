/**
 * AES-256-GCM through WebCrypto, with the failure of authentication turned
 * into a `TesserasError` that says what it means.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { source } from "./bytes.ts";

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
/** Bytes of the GCM tag appended to every ciphertext. */
export const TAG_BYTES = 16;

/**
 * Import 32 raw bytes as an AES-256-GCM key.
 *
 * @example
 * ```ts
 * const key = await importAesKey(new Uint8Array(32));
 * key.algorithm.name; // "AES-GCM"
 * ```
 */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== KEY_BYTES) {
    throw new TesserasError(
      "INVALID_INPUT",
      `an AES-256 key has ${KEY_BYTES} bytes, got ${raw.length}`,
    );
  }
  return await crypto.subtle.importKey("raw", source(raw), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** The nonce and associated data of one GCM operation. */
export interface GcmParams {
  /** 12-byte nonce, never reused with one key. */
  readonly iv: Uint8Array;
  /** Authenticated, unencrypted data. */
  readonly aad: Uint8Array;
}

/** {@linkcode GcmParams} and what to say when authentication fails. */
export interface GcmOpenParams extends GcmParams {
  /** The error message (what was altered, or what key was wrong). */
  readonly failure: string;
}

/**
 * `plain` encrypted and authenticated (ciphertext then 16-byte tag).
 *
 * @example
 * ```ts
 * const key = await importAesKey(new Uint8Array(32));
 * const iv = new Uint8Array(12), aad = new Uint8Array(0);
 * (await gcmSeal(key, new Uint8Array(5), { iv, aad })).length; // 21
 * ```
 */
export async function gcmSeal(
  key: CryptoKey,
  plain: Uint8Array,
  params: GcmParams,
): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.encrypt(
      algorithm(params),
      key,
      source(plain),
    ),
  );
}

/**
 * The plaintext of `sealed`; `CHECKSUM_MISMATCH` with `params.failure` as the
 * message when the tag does not verify (wrong key, altered bytes, wrong
 * nonce or associated data: GCM cannot tell which).
 *
 * @example
 * ```ts
 * const key = await importAesKey(new Uint8Array(32));
 * const p = { iv: new Uint8Array(12), aad: new Uint8Array(0) };
 * const sealed = await gcmSeal(key, new Uint8Array(5), p);
 * (await gcmOpen(key, sealed, { ...p, failure: "altered" })).length; // 5
 * ```
 */
export async function gcmOpen(
  key: CryptoKey,
  sealed: Uint8Array,
  params: GcmOpenParams,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        algorithm(params),
        key,
        source(sealed),
      ),
    );
  } catch (cause) {
    throw new TesserasError("CHECKSUM_MISMATCH", params.failure, { cause });
  }
}

function algorithm(params: GcmParams): AesGcmParams {
  return {
    name: "AES-GCM",
    iv: source(params.iv),
    additionalData: source(params.aad),
  };
}
