/**
 * Fragments: the tiers that decide how a tessera is cut, the plan for one
 * tessera, and the identity and wire envelope of one shard.
 *
 * @module
 */
import type { SignedManifest } from "./signed_manifest.ts";
import type { Checksum, TesseraId } from "./tessera.ts";

/** How a tessera is cut, chosen by its size. */
export type FragmentationTier = "small" | "medium" | "large";

/** Size thresholds and Reed-Solomon shapes of the three tiers. */
export interface TierThresholds {
  /** Sizes strictly below this are Small (whole-file replicas). */
  readonly mediumFrom: number;
  /** Sizes at or above this are Large. */
  readonly largeFrom: number;
}

/** The thresholds of SPEC §2: Small < 4 MiB ≤ Medium < 256 MiB ≤ Large. */
export const DEFAULT_TIER_THRESHOLDS: TierThresholds = {
  mediumFrom: 4 * 1024 * 1024,
  largeFrom: 256 * 1024 * 1024,
};

/** Data and parity shard counts of each tier. */
export const TIER_SHAPES: Readonly<
  Record<FragmentationTier, { dataShards: number; parityShards: number }>
> = {
  small: { dataShards: 1, parityShards: 0 },
  medium: { dataShards: 16, parityShards: 8 },
  large: { dataShards: 48, parityShards: 24 },
};

/**
 * How one tessera is fragmented. For the Small tier there is one fragment
 * (index 0 of 1) holding the whole file, replicated to several peers.
 */
export interface FragmentPlan {
  /** Original tessera size in bytes. */
  readonly size: number;
  /** Tier chosen by size. */
  readonly tier: FragmentationTier;
  /** Number of data shards (1 for Small). */
  readonly dataShards: number;
  /** Number of parity shards (0 for Small). */
  readonly parityShards: number;
  /** `dataShards + parityShards`. */
  readonly shardCount: number;
  /** Bytes per shard: `ceil(size / dataShards)` (the whole size for Small). */
  readonly shardSize: number;
}

/**
 * The plan's six fields alone, in a fixed order: what a record, a canonical
 * manifest or a wire message carries of a plan (an object that is a plan
 * and more leaves the rest behind).
 *
 * @example
 * ```ts
 * const plan: FragmentPlan = { size: 10, tier: "small", dataShards: 1, parityShards: 0, shardCount: 1, shardSize: 10 };
 * planFields({ ...plan, extra: 1 } as FragmentPlan); // the six fields only
 * ```
 */
export function planFields(plan: FragmentPlan): FragmentPlan {
  return {
    size: plan.size,
    tier: plan.tier,
    dataShards: plan.dataShards,
    parityShards: plan.parityShards,
    shardCount: plan.shardCount,
    shardSize: plan.shardSize,
  };
}

/** Identity of one stored shard. */
export interface FragmentId {
  /** Tessera this shard belongs to. */
  readonly tesseraId: TesseraId;
  /** Shard index, `0 <= index < shardCount`. */
  readonly index: number;
  /** Total shards of the tessera. */
  readonly shardCount: number;
  /** BLAKE3 of the shard bytes. */
  readonly checksum: Checksum;
}

/** A shard with its bytes. */
export interface Fragment {
  /** Identity and checksum. */
  readonly id: FragmentId;
  /** The shard bytes. */
  readonly data: Uint8Array;
}

/** A fragment with its metadata, as sent on the wire by `Replicate`. */
export interface FragmentEnvelope {
  /** Which shard this is. */
  readonly fragment: FragmentId;
  /** The tessera's fragment plan. */
  readonly plan: FragmentPlan;
  /** Original tessera size (equals `plan.size`). */
  readonly originalSize: number;
  /** Declared size of `data`; checked on receive. */
  readonly fragmentSize: number;
  /** The shard bytes (empty when they came as `spooled`). */
  readonly data: Uint8Array;
  /**
   * Receive side only: the shard's bytes, written by the transport to a
   * temp file of the fragment store as they arrived and hashed on the
   * way, instead of `data` (the receiver then owns the file: it stores or
   * discards it).
   */
  readonly spooled?: SpooledShard;
  /**
   * Send side only, to a `DhtPort` that `sendsShardParts`: the shard's
   * bytes read in pieces as they go out, instead of `data` (then empty),
   * so a push never holds a whole shard.
   */
  readonly parts?: ShardParts;
  /**
   * The owner's signed manifest of the tessera (lib/core/manifest.ts):
   * the receiver refuses the shard unless it matches, and keeps it.
   */
  readonly manifest?: SignedManifest;
}

/**
 * A pushed shard's bytes in a temp file (see
 * {@linkcode FragmentEnvelope.spooled}): written, not yet fsynced.
 */
export interface SpooledShard {
  /** The temp file, from the fragment store's `tempPath`. */
  readonly path: string;
  /** Bytes written. */
  readonly size: number;
  /** BLAKE3 of the bytes (the root of their chunk tree), hex. */
  readonly checksum: string;
  /** The chunk tree's outboard (docs/proofs.md), built on the way. */
  readonly outboard: Uint8Array;
}

/** A shard's bytes, read by range (see {@linkcode FragmentEnvelope.parts}). */
export interface ShardParts {
  /** `length` bytes from `offset`; rejects when they cannot be read. */
  read(
    offset: number,
    length: number,
    options?: { readonly signal?: AbortSignal },
  ): Promise<Uint8Array>;
}

/** Answer to a `Replicate`. */
export interface ReplicateAck {
  /** Whether the fragment was stored. */
  readonly accepted: boolean;
  /** Indices of this tessera that the receiver now holds. */
  readonly heldIndices: readonly number[];
  /** Error code when not accepted (e.g. `DEFICIT_EXCEEDED`). */
  readonly errorCode?: string;
  /** Human-readable reason when not accepted. */
  readonly reason?: string;
}

/**
 * Whether a tessera of this plan is kept as whole copies (one shard that is
 * the whole file, replicated) rather than as Reed-Solomon shards: the Small
 * tier, and any plan of a single shard. The one place this rule is written.
 *
 * @example
 * ```ts
 * import { isWholeCopy } from "./fragment.ts";
 * isWholeCopy({ tier: "small", shardCount: 1 }); // true
 * isWholeCopy({ tier: "medium", shardCount: 24 }); // false
 * ```
 */
export function isWholeCopy(
  plan: Pick<FragmentPlan, "tier" | "shardCount">,
): boolean {
  return plan.tier === "small" || plan.shardCount === 1;
}
