/**
 * What a holder signs in a chunk-proof answer (docs/proofs.md): the
 * attestation's signed bytes with, as each shard's proof, a domain-tagged
 * BLAKE3 digest of that shard's proofs, in which each sampled group
 * stands as its chaining value (the 32 bytes the shard's tree gives it)
 * and its siblings as they are. One function for the holder that signs
 * and the requester that checks.
 *
 * Why chaining values and not the group's bytes: the requester computes
 * each group's chaining value anyway, to walk it up to the checksum, and
 * the holder often knows it without hashing (an intact one-group shard's
 * is its checksum). A chaining value binds the group's bytes and its
 * position as BLAKE3 binds a message, so the signature binds the nonce,
 * the holder, the shard index and the sampled bytes as before, at one
 * hash of the bytes per attestation instead of three.
 *
 * @module
 */
import {
  attestationSigningBytes,
  type GroupProofData,
  hexInto,
  type ProofAnswer,
  type ShardProofs,
  smallBytes,
} from "../core/mod.ts";
import { blake3, blake3Hex } from "./blake3.ts";
import { subtreeCv } from "./blake3_tree.ts";
import { CV_BYTES, GROUP_BYTES, GROUP_CHUNKS } from "./chunk_tree.ts";

const DIGEST_DOMAIN = new TextEncoder().encode("tesseras/chunk-proofs/v2\n");

/** Groups past this index have chunk counters past 2^40: not a shard's. */
const MAX_GROUP = 2 ** 37;

/**
 * The chaining value a proof's group stands as in the signed digest: the
 * BLAKE3 chaining value of its bytes at its place in a shard of `size`
 * bytes (the root hash, that is the checksum, when the shard is one
 * group), which is what a requester walks up to the checksum. A proof
 * that cannot be a group (a bad index, more than a group of bytes) stands
 * as the plain BLAKE3 of its bytes: it fails the requester's check
 * whatever it is signed as.
 *
 * @example
 * ```ts
 * import { blake3 } from "./blake3.ts";
 * const shard = new Uint8Array(400);
 * const cv = proofGroupCv({ group: 0, bytes: shard, siblings: new Uint8Array(0) }, 400);
 * // cv equals blake3(shard): a one-group shard's group is its root
 * ```
 */
export function proofGroupCv(proof: GroupProofData, size: number): Uint8Array {
  const { group, bytes } = proof;
  if (
    Number.isInteger(group) && group >= 0 && group < MAX_GROUP &&
    bytes.length <= GROUP_BYTES
  ) {
    return subtreeCv(
      bytes,
      group * GROUP_CHUNKS,
      group === 0 && size <= GROUP_BYTES,
    );
  }
  return blake3(bytes);
}

/**
 * The digest of one shard's proofs that the signature covers, hex:
 * BLAKE3 over a domain tag, the size, the group count and, per group, its
 * index, its chaining value ({@linkcode proofGroupCv}, or `cvs[i]` when
 * the caller has it already: 32 bytes or their hex) and its siblings,
 * length-prefixed.
 *
 * @example
 * ```ts
 * shardProofsDigest({ index: 0, checksum: "00".repeat(32), size: 0, groups: [] }).length; // 64
 * ```
 */
export function shardProofsDigest(
  shard: ShardProofs,
  cvs?: readonly (Uint8Array | string)[],
): string {
  const { groups } = shard;
  let length = DIGEST_DOMAIN.length + 12;
  for (const g of groups) length += 8 + CV_BYTES + g.siblings.length;
  // One buffer from the small-bytes slab and one hash: a one-group
  // shard's digest is one chunk, with no buffer of its own to allocate.
  const buf = smallBytes(length);
  buf.set(DIGEST_DOMAIN);
  let at = DIGEST_DOMAIN.length;
  new DataView(buf.buffer, buf.byteOffset + at, 8).setFloat64(
    0,
    shard.size,
    true,
  );
  writeU32(buf, at + 8, groups.length);
  at += 12;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    writeU32(buf, at, g.group);
    writeU32(buf, at + 4, g.siblings.length);
    writeCv(buf, at + 8, cvs?.[i] ?? proofGroupCv(g, shard.size));
    buf.set(g.siblings, at + 8 + CV_BYTES);
    at += 8 + CV_BYTES + g.siblings.length;
  }
  return blake3Hex(buf);
}

/** A chaining value (32 bytes, or their hex) into `out` at `at`. */
function writeCv(out: Uint8Array, at: number, cv: Uint8Array | string): void {
  if (typeof cv !== "string") {
    if (cv.length !== CV_BYTES) {
      throw new RangeError(`a chaining value is ${CV_BYTES} bytes`);
    }
    out.set(cv, at);
  } else if (hexInto(out.subarray(at, at + CV_BYTES), cv) !== CV_BYTES) {
    throw new RangeError(`a chaining value is ${CV_BYTES} bytes`);
  }
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

/**
 * The bytes the holder signs: the attestation's signed bytes with each
 * shard's {@linkcode shardProofsDigest} as its proof (`digests[i]` for
 * shard `i` when the caller computed them already).
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
  digests?: readonly string[],
): Uint8Array {
  const { tesseraId, holder, nonce, timestamp } = answer;
  const entries = answer.shards.map((s, i) => ({
    index: s.index,
    checksum: s.checksum,
    proof: digests?.[i] ?? shardProofsDigest(s),
  }));
  return attestationSigningBytes({
    tesseraId,
    holder,
    nonce,
    entries,
    timestamp,
  });
}
