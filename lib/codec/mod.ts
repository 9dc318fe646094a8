/**
 * Erasure coding and hashing: BLAKE3 for ids, checksums and keyed proofs;
 * Reed-Solomon over GF(2^8), byte-identical to the Rust
 * `reed-solomon-erasure` crate; the tier planner that cuts a tessera into
 * fragments and puts it back together (the streaming put that turns a
 * file into shards without holding it in memory is the replication
 * service's stripe pass, `lib/replication/stripes.ts`, over the blob
 * port's staging); and the proof kernel
 * over BLAKE3's chunk tree (outboards, chunk proofs of sampled groups,
 * verified streaming), with which anyone holding a shard's checksum
 * alone can audit a holder (docs/proofs.md).
 *
 * The kernels are WebAssembly SIMD generated from source by
 * `scripts/build_wasm.ts` and embedded as base64 (so `deno compile`
 * carries them); engines without wasm SIMD fall back to portable
 * TypeScript.
 *
 * Imports only `lib/core`.
 *
 * @example
 * ```ts
 * import { decodeTessera, encodeTessera } from "./mod.ts";
 * const { id, plan, fragments } = encodeTessera(new Uint8Array(5 << 20));
 * const shards: (Uint8Array | null)[] = fragments.map((f) => f.data);
 * shards[0] = null; // lose any 8 of 24
 * decodeTessera(plan, shards).length; // 5 MiB
 * ```
 *
 * @module
 */
export {
  blake3,
  type Blake3Hasher,
  blake3Hex,
  blake3Keyed,
  blake3KeyedHex,
  type Blake3Options,
  createBlake3,
} from "./blake3.ts";
export { rsEncode, rsReconstruct, type RsShape } from "./reed_solomon.ts";
export {
  copyFileHashed,
  type CopyHashedOptions,
  type FileHash,
  hashFile,
  type HashFileOptions,
  hashFileSliced,
} from "./hash_file.ts";
export {
  importedHashes,
  type SlicedDigest,
  SlicedHash,
  type Slices,
} from "./sliced_hash.ts";
export {
  decodeTessera,
  type EncodedTessera,
  encodeTessera,
  type PlanOptions,
  planTessera,
} from "./plan.ts";
export {
  ChunkTree,
  GROUP_BYTES,
  type PathStep,
  type TreeChild,
  type TreeNode,
} from "./chunk_tree.ts";
export {
  type BuiltOutboard,
  bytesEqual,
  checkOutboard,
  OutboardBuilder,
  outboardOf,
  outboardOfFile,
  type OutboardTarget,
} from "./outboard.ts";
export {
  type GroupProof,
  type ProofSource,
  type ProofTarget,
  proveGroups,
  verifyGroupProofs,
} from "./chunk_proof.ts";
export {
  passChance,
  type PassChanceOptions,
  SAMPLE_COUNT,
  sampleGroups,
  type SampleOptions,
  type SampleSeed,
} from "./sample.ts";
export { ShardVerifier, verifiedShardStream } from "./verified_stream.ts";
export { ProofError, type ProofFault } from "./proof_error.ts";
export {
  bytesReadAt,
  type CountingReadAt,
  countingReadAt,
  fileReadAt,
  type ReadAt,
} from "./read_at.ts";
export {
  judgeAnswer,
  type JudgedAnswer,
  judgeProofs,
  type KnownShard,
  type ProofChallenge,
  type ShardVerdict,
} from "./proof_verdict.ts";
export {
  proofAnswerSigningBytes,
  proofGroupCv,
  shardProofsDigest,
} from "./proof_signing.ts";
export { readFull, statImportSource } from "./file_io.ts";
