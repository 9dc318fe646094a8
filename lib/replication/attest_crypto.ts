/**
 * The crypto of attestations shared by both sides: the proof key derived
 * from a challenge's nonce, and keyed BLAKE3 proofs over shard bytes.
 *
 * @module
 */
import { type TesseraId, toHex } from "../core/mod.ts";
import { blake3, blake3Keyed } from "../codec/mod.ts";

const KEY_DOMAIN = new TextEncoder().encode("tesseras-attestation-key-v1\n");

/**
 * The 32-byte proof key for a challenge: BLAKE3 of a domain tag, the
 * tessera id and the nonce, so a key never serves two purposes.
 *
 * @example
 * ```ts
 * const key = attestationKey("ab".repeat(32), nonce);
 * ```
 */
export function attestationKey(
  tesseraId: TesseraId,
  nonce: Uint8Array,
): Uint8Array {
  const id = new TextEncoder().encode(tesseraId);
  const buf = new Uint8Array(KEY_DOMAIN.length + id.length + nonce.length);
  buf.set(KEY_DOMAIN);
  buf.set(id, KEY_DOMAIN.length);
  buf.set(nonce, KEY_DOMAIN.length + id.length);
  return blake3(buf);
}

/**
 * The proof for one shard: keyed BLAKE3 of its bytes under `key`, hex.
 * Computing it needs the bytes themselves, not just their checksum.
 *
 * @example
 * ```ts
 * const proof = attestationProof(attestationKey(id, nonce), shardBytes);
 * ```
 */
export function attestationProof(key: Uint8Array, shard: Uint8Array): string {
  return toHex(blake3Keyed(key, shard));
}
