/**
 * Chunk-proof attestations (docs/proofs.md): a holder's signed answer to
 * a fresh-nonce challenge with, per shard, sampled 8 KiB groups of the
 * shard and their sibling paths to its checksum, which anyone who knows
 * the checksum can check without the shard's bytes.
 *
 * @module
 */

/** One sampled group of a shard and its path to the checksum. */
export interface GroupProofData {
  /** The group's index in the shard. */
  readonly group: number;
  /** The group's bytes. */
  readonly bytes: Uint8Array;
  /** The siblings' chaining values from the group up, 32 bytes each. */
  readonly siblings: Uint8Array;
}

/** The proofs of one shard in an answer. */
export interface ShardProofs {
  /** The shard's index. */
  readonly index: number;
  /** Its checksum as the holder records it, hex. */
  readonly checksum: string;
  /** Its size in bytes. */
  readonly size: number;
  /** The sampled groups with their paths, ascending. */
  readonly groups: readonly GroupProofData[];
}

/** A holder's signed answer to a chunk-proof challenge. */
export interface ProofAnswer {
  /** The tessera. */
  readonly tesseraId: string;
  /** The holder (its peer id). */
  readonly holder: string;
  /** The challenge's nonce, echoed. */
  readonly nonce: Uint8Array;
  /** Per shard held and asked. */
  readonly shards: readonly ShardProofs[];
  /** When the holder answered, ms since the epoch. */
  readonly timestamp: number;
  /** The holder's signature over the answer's signing bytes. */
  readonly signature: Uint8Array;
}
