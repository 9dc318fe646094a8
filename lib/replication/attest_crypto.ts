/**
 * The crypto of attestations shared by both sides: the proof key derived
 * from a challenge's nonce, and keyed BLAKE3 proofs over shard bytes.
 *
 * @module
 */
import { type TesseraId, toHex } from "../core/mod.ts";
import { blake3, blake3Keyed } from "../codec/mod.ts";

const encoder = new TextEncoder();
const KEY_DOMAIN = encoder.encode("tesseras-attestation-key-v1\n");
/** Domain tag, id and nonce, reused: both sides derive a key per request. */
let keyInput = new Uint8Array(KEY_DOMAIN.length + 64 + 32);
keyInput.set(KEY_DOMAIN);

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
  // At most 3 UTF-8 bytes per UTF-16 unit (ids are 64 ASCII hex digits).
  const need = KEY_DOMAIN.length + tesseraId.length * 3 + nonce.length;
  if (keyInput.length < need) {
    keyInput = new Uint8Array(need);
    keyInput.set(KEY_DOMAIN);
  }
  const { written } = encoder.encodeInto(
    tesseraId,
    keyInput.subarray(KEY_DOMAIN.length),
  );
  const end = KEY_DOMAIN.length + written;
  keyInput.set(nonce, end);
  return blake3(keyInput.subarray(0, end + nonce.length));
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
