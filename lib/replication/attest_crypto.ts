/**
 * The crypto of attestations shared by both sides: keyed BLAKE3 proofs
 * over shard bytes, keyed by the challenge's nonce.
 *
 * The nonce is 32 fresh random bytes, a key no one could predict, so it
 * keys the proof directly: deriving a key from it would cost both sides
 * one more hash per challenge and prove nothing more.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { blake3KeyedHex } from "../codec/mod.ts";

/**
 * The proof for one shard: BLAKE3 keyed with the challenge's 32-byte
 * `nonce` over the shard's bytes, hex. Computing it needs the bytes
 * themselves, not just their checksum, and an old proof does not answer
 * a new nonce.
 *
 * @example
 * ```ts
 * declare const shard: Uint8Array;
 * const proof = attestationProof(crypto.getRandomValues(new Uint8Array(32)), shard);
 * ```
 */
export function attestationProof(nonce: Uint8Array, shard: Uint8Array): string {
  assertNonce(nonce);
  return blake3KeyedHex(nonce, shard);
}

/** Internal: throw `INVALID_INPUT` unless `nonce` is 32 bytes. */
export function assertNonce(nonce: unknown): asserts nonce is Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) {
    throw new TesserasError(
      "INVALID_INPUT",
      "attestation nonce must be 32 random bytes",
    );
  }
}
