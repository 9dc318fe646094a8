/**
 * Placing our tesseras on peers: encode, find the closest diverse peers,
 * push, record, credit.
 *
 * @module
 */
import {
  assertTesseraId,
  assertTesseraSize,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex, type EncodedTessera, encodeTessera } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";
import { placementTolerance } from "./distributor.ts";
import { pushShards } from "./push.ts";
import type { ReplicateOptions, ReplicationReport } from "./types.ts";

/** Internal: `putTessera`. */
export async function putTessera(
  ctx: ServiceContext,
  data: Uint8Array,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  assertTesseraSize(data.length);
  const id = blake3Hex(data);
  await ctx.blobs.put(id, data, { signal: options.signal });
  return await replicateTessera(ctx, id, options);
}

/** Internal: `replicateTessera`. */
export async function replicateTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  assertTesseraId(id);
  const data = await ctx.blobs.get(id, { signal: options.signal });
  if (!data) {
    throw new TesserasError(
      "NOT_FOUND",
      `tessera ${id} is not in our blob store: put the file first`,
    );
  }
  const encoded = encodeTessera(data, { thresholds: ctx.thresholds });
  if (encoded.id !== id) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `our stored copy of tessera ${id} is corrupt: restore it from a backup, or delete it and retrieve it from the network`,
    );
  }
  return await replicateEncoded(ctx, encoded, options);
}

async function replicateEncoded(
  ctx: ServiceContext,
  encoded: EncodedTessera,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  const { id, plan, fragments } = encoded;
  // Track first: even a partial placement is then known to repair.
  await ctx.holders.track(id, {
    plan,
    checksums: fragments.map((f) => f.id.checksum),
  });
  const small = plan.tier === "small" || plan.shardCount === 1;
  const result = await pushShards(ctx, {
    tesseraId: id,
    plan,
    fragments,
    ...(small
      ? { copies: ctx.config.smallReplicas }
      : { indices: fragments.map((f) => f.id.index) }),
  }, options);
  if (result.candidates.length === 0) {
    throw new TesserasError(
      "UNREACHABLE",
      `no peers known to place tessera ${id} on: connect to a bootstrap node (it stays tracked; repair will place it later)`,
    );
  }
  const records = await ctx.holders.holders(id);
  const report: ReplicationReport = {
    tesseraId: id,
    plan,
    placed: result.placed.map((p) => ({ index: p.index, peerId: p.peer.id })),
    unplaced: result.unplaced,
    failures: result.failures,
    peers: new Set(records.map((r) => r.peerId)).size,
    tolerance: placementTolerance(plan, records),
    bytesSent: result.bytesSent,
  };
  ctx.log.info(
    "replicated {tessera}: {placed} placements on {peers} peers, tolerates {tolerance} losses, {unplaced} unplaced",
    {
      tessera: id,
      tier: plan.tier,
      placed: report.placed.length,
      peers: report.peers,
      tolerance: report.tolerance,
      unplaced: report.unplaced.length,
    },
  );
  return report;
}
