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
  toHex,
} from "../core/mod.ts";
import { createBlake3 } from "./blake3.ts";

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
  const h = createBlake3().update(DIGEST_DOMAIN);
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setFloat64(0, shard.size, true);
  view.setUint32(8, shard.groups.length, true);
  h.update(head);
  const field = new Uint8Array(12);
  const fv = new DataView(field.buffer);
  for (const g of shard.groups) {
    fv.setUint32(0, g.group, true);
    fv.setUint32(4, g.bytes.length, true);
    fv.setUint32(8, g.siblings.length, true);
    h.update(field).update(g.bytes).update(g.siblings);
  }
  return toHex(h.digest());
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
