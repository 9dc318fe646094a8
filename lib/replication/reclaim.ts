/**
 * The owner takes its tessera back (docs/stewards.md): while it was away
 * its stewards placed lost shards on new holders its registry does not
 * name, and a holder it dropped (away past the grace) may be back with
 * its shards. Before an owner's repair places anything, it asks the DHT
 * for the tessera's announced holders, proves those its registry does
 * not know (chunk proofs against its checksums: announced.ts) and counts
 * what they prove as live, so it places only what nobody holds. Without
 * it the owner placed again every shard a steward had placed.
 *
 * @module
 */
import { type IoOptions, isWholeCopy } from "../core/mod.ts";
import { proveAnnounced } from "./announced.ts";
import type { ServiceContext } from "./context.ts";
import { deficitOf, type Inspection } from "./health.ts";

/**
 * Internal: `inspection` with the shards proven on announced holders it
 * did not know added to its live placements (and to the registry, on
 * the owner's ledger as stored for it), or `inspection` itself when none
 * were. Only an owner's: a steward proves its announced holders before
 * it repairs (steward.ts).
 */
export async function adoptAnnounced(
  ctx: ServiceContext,
  inspection: Inspection,
  options: IoOptions,
): Promise<Inspection> {
  const { report, tracked } = inspection;
  if (ctx.stewardCopies !== undefined || !ctx.dht.findHolders) {
    return inspection;
  }
  const id = report.tesseraId;
  const known = new Set(report.holders.map((h) => h.peerId));
  const found = (await ctx.dht.findHolders(id, options)).filter((p) =>
    p.id !== ctx.selfId && !known.has(p.id)
  );
  if (found.length === 0) return inspection;
  const { proven, refuted } = await proveAnnounced(ctx, {
    id,
    checksums: tracked.checksums,
    shardSize: report.plan.shardSize,
    peers: found,
  }, options);
  for (const peer of refuted) {
    ctx.standing.lied(peer, ctx.clock.now());
    ctx.log.warn(
      "peer {peer} announced holding {tessera} but proved no shard of it",
      { peer, tessera: id },
    );
  }
  if (proven.length === 0) return inspection;
  for (const p of proven) {
    // Stored for us: the holder charged us when a steward placed it.
    await ctx.ledger.recordTheyStoreForUs(p.peerId, report.plan.shardSize);
  }
  const live = [...inspection.live, ...proven];
  const liveIndices = [...new Set(live.map((l) => l.index))].sort((a, b) =>
    a - b
  );
  const covered = new Set(liveIndices);
  return {
    ...inspection,
    records: await ctx.holders.holders(id),
    live,
    deficit: deficitOf(ctx, report.plan, live),
    report: {
      ...report,
      liveIndices,
      lostIndices: isWholeCopy(report.plan)
        ? report.lostIndices
        : report.lostIndices.filter((i) => !covered.has(i)),
      livePlacements: live.length,
    },
  };
}
