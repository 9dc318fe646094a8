/**
 * Our own tesseras' shards, recomputed from the blob store: the owner
 * needs them to check keyed proofs and to repair without fetching.
 *
 * @module
 */
import {
  type Checksum,
  type Fragment,
  type FragmentPlan,
  type IoOptions,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex, planTessera, rsEncode } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";

/** Internal: our shards of one tessera. */
export interface OwnShards {
  readonly plan: FragmentPlan;
  /** Shard bytes by index. */
  readonly shards: readonly Uint8Array[];
}

/**
 * Internal: the shards of our blob `id`, or `null` when we have no blob.
 * One hash (the id check) instead of one per shard: shards of a blob that
 * hashes to its id are the shards whose checksums we recorded. Throws
 * `CHECKSUM_MISMATCH` when the blob no longer hashes to its id.
 */
export async function ownShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions = {},
): Promise<OwnShards | null> {
  const data = await ctx.blobs.get(id, options);
  if (!data) return null;
  if (blake3Hex(data) !== id) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `our stored copy of tessera ${id} is corrupt: restore it from a backup, or delete it and retrieve it from the network`,
    );
  }
  const plan = planTessera(data.length, { thresholds: ctx.thresholds });
  const shards = plan.tier === "small"
    ? [data]
    : rsEncode(data, plan.dataShards, plan.parityShards);
  return { plan, shards };
}

/** Internal: shards as fragments, with the checksums we recorded. */
export function asFragments(
  id: TesseraId,
  own: OwnShards,
  checksums: readonly Checksum[],
): Fragment[] {
  return own.shards.map((data, index) => ({
    id: {
      tesseraId: id,
      index,
      shardCount: own.plan.shardCount,
      checksum: checksums[index],
    },
    data,
  }));
}
