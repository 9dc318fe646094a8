/**
 * Tessera fragmentation: choose the tier by size, cut and encode, and put
 * the bytes back together.
 *
 * @module
 */
import {
  assertTesseraSize,
  DEFAULT_TIER_THRESHOLDS,
  type Fragment,
  type FragmentationTier,
  type FragmentPlan,
  type TesseraId,
  TesserasError,
  TIER_SHAPES,
  type TierThresholds,
  toHex,
} from "../core/mod.ts";
import { blake3 } from "./blake3.ts";
import { encodeShards, rsReconstruct } from "./reed_solomon.ts";

/** Options of {@linkcode planTessera} and {@linkcode encodeTessera}. */
export interface PlanOptions {
  /**
   * Tier thresholds; the defaults are SPEC §2's (4 MiB, 256 MiB). The
   * simulator scales them down to exercise every tier with small data.
   */
  readonly thresholds?: TierThresholds;
}

/** What {@linkcode encodeTessera} returns. */
export interface EncodedTessera {
  /** BLAKE3 of the content, lowercase hex. */
  readonly id: TesseraId;
  /** How it was cut. */
  readonly plan: FragmentPlan;
  /** Every shard, by index, with its checksum. */
  readonly fragments: Fragment[];
}

/**
 * The fragment plan for a tessera of `size` bytes. Throws `TOO_LARGE`
 * above 1 GiB and `INVALID_INPUT` for a negative or fractional size.
 *
 * @example
 * ```ts
 * planTessera(5 * 1024 * 1024).tier; // "medium"
 * ```
 */
export function planTessera(
  size: number,
  options: PlanOptions = {},
): FragmentPlan {
  assertTesseraSize(size);
  const t = options.thresholds ?? DEFAULT_TIER_THRESHOLDS;
  if (!(t.mediumFrom >= 1 && t.largeFrom >= t.mediumFrom)) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid tier thresholds ${t.mediumFrom}/${t.largeFrom}: need 1 <= mediumFrom <= largeFrom`,
    );
  }
  const tier: FragmentationTier = size < t.mediumFrom
    ? "small"
    : size < t.largeFrom
    ? "medium"
    : "large";
  const { dataShards, parityShards } = TIER_SHAPES[tier];
  return {
    size,
    tier,
    dataShards,
    parityShards,
    shardCount: dataShards + parityShards,
    shardSize: tier === "small" ? size : Math.ceil(size / dataShards),
  };
}

/**
 * Cut `data` into checksummed fragments by its tier: Small gives one
 * fragment (index 0 of 1); Medium and Large give Reed-Solomon shards
 * (16+8, 48+24). To save memory, the fragments' bytes are views of `data`
 * where they can be (the whole file for Small, every unpadded data shard):
 * do not modify `data` while the fragments are in use.
 *
 * @example
 * ```ts
 * const { id, plan, fragments } = encodeTessera(new Uint8Array(10));
 * fragments.length; // 1 (Small tier)
 * ```
 */
export function encodeTessera(
  data: Uint8Array,
  options: PlanOptions = {},
): EncodedTessera {
  const plan = planTessera(data.length, options);
  const id = toHex(blake3(data));
  const shards = plan.tier === "small"
    ? [data]
    : encodeShards(data, plan.dataShards, plan.parityShards, false);
  const fragments = shards.map((bytes, index): Fragment => ({
    id: {
      tesseraId: id,
      index,
      shardCount: plan.shardCount,
      checksum: toHex(blake3(bytes)),
    },
    data: bytes,
  }));
  return { id, plan, fragments };
}

/**
 * The original bytes from any `plan.dataShards` shards (missing ones
 * `null`). Throws `INSUFFICIENT_SHARDS` when too few are present and
 * `INVALID_INPUT` when shard count or sizes disagree with the plan. Does
 * not verify checksums: callers verify shards before passing them.
 *
 * @example
 * ```ts
 * const { plan, fragments } = encodeTessera(new Uint8Array(10));
 * decodeTessera(plan, fragments.map((f) => f.data)).length; // 10
 * ```
 */
export function decodeTessera(
  plan: FragmentPlan,
  shards: readonly (Uint8Array | null | undefined)[],
): Uint8Array {
  if (shards.length !== plan.shardCount) {
    throw new TesserasError(
      "INVALID_INPUT",
      `plan has ${plan.shardCount} shards but ${shards.length} slots were given: pass null for missing shards`,
    );
  }
  for (let i = 0; i < shards.length; i++) {
    const s = shards[i];
    if (s != null && s.length !== plan.shardSize) {
      throw new TesserasError(
        "INVALID_INPUT",
        `shard ${i} is ${s.length} bytes; the plan says ${plan.shardSize}`,
      );
    }
  }
  if (
    plan.tier === "small" || plan.parityShards === 0 && plan.dataShards === 1
  ) {
    const s = shards[0];
    if (s == null) {
      throw new TesserasError(
        "INSUFFICIENT_SHARDS",
        "the whole-file fragment of this Small tessera is missing: fetch it from another holder",
      );
    }
    return s.subarray(0, plan.size);
  }
  const all = rsReconstruct(shards, plan);
  const out = new Uint8Array(plan.size);
  for (let i = 0, off = 0; i < plan.dataShards && off < plan.size; i++) {
    const take = Math.min(plan.shardSize, plan.size - off);
    out.set(all[i].subarray(0, take), off);
    off += take;
  }
  return out;
}
