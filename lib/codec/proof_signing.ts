/**
 * What a holder signs in a chunk-proof answer (docs/proofs.md): the
 * attestation's signed bytes with, as each shard's proof, a domain-tagged
 * BLAKE3 digest of every byte of that shard's proofs. One function for
 * the holder that signs and the requester that checks.
 *
 * @module
 */
import {
  attestationSigningBytes,
  type ProofAnswer,
  type ShardProofs,
} from "../core/mod.ts";
import { blake3Hex } from "./blake3.ts";

const DIGEST_DOMAIN = new TextEncoder().encode("tesseras/chunk-proofs/v1\n");

/**
 * The digest of one shard's proofs that the signature covers, hex:
 * BLAKE3 over a domain tag, the size, and each group's index, bytes and
 * siblings, every field length-prefixed.
 *
 * @example
 * ```ts
 * shardProofsDigest({ index: 0, checksum: "00".repeat(32), size: 0, groups: [] }).length; // 64
 * ```
 */
export function shardProofsDigest(shard: ShardProofs): string {
  // One buffer and one hash, not a streaming hasher fed field by field:
  // the same digest (BLAKE3 of the concatenation), and proofs of small
  // shards fit a chunk, hashed without a hasher at all.
  let length = DIGEST_DOMAIN.length + 12;
  for (const g of shard.groups) {
    length += 12 + g.bytes.length + g.siblings.length;
  }
  const buf = new Uint8Array(length);
  const view = new DataView(buf.buffer);
  buf.set(DIGEST_DOMAIN);
  let at = DIGEST_DOMAIN.length;
  view.setFloat64(at, shard.size, true);
  view.setUint32(at + 8, shard.groups.length, true);
  at += 12;
  for (const g of shard.groups) {
    view.setUint32(at, g.group, true);
    view.setUint32(at + 4, g.bytes.length, true);
    view.setUint32(at + 8, g.siblings.length, true);
    buf.set(g.bytes, at + 12);
    buf.set(g.siblings, at + 12 + g.bytes.length);
    at += 12 + g.bytes.length + g.siblings.length;
  }
  return blake3Hex(buf);
}

/**
 * The bytes the holder signs: the attestation's signed bytes with each
 * shard's {@linkcode shardProofsDigest} as its proof.
 *
 * @example
 * ```ts
 * proofAnswerSigningBytes({
 *   tesseraId: "00".repeat(32), holder: "peer", nonce: new Uint8Array(32),
 *   shards: [], timestamp: 0,
 * });
 * ```
 */
export function proofAnswerSigningBytes(
  answer: Omit<ProofAnswer, "signature">,
): Uint8Array {
  const { tesseraId, holder, nonce, timestamp } = answer;
  const entries = answer.shards.map((s) => ({
    index: s.index,
    checksum: s.checksum,
    proof: shardProofsDigest(s),
  }));
  return attestationSigningBytes({
    tesseraId,
    holder,
    nonce,
    entries,
    timestamp,
  });
}
