/**
 * Repair that repairs: after a health check, drop the holders that lost
 * their shards, rebuild what is missing from our blob or from any
 * `dataShards` survivors, and place it on new diverse peers (keeping the
 * subnet cap together with the holders that remain).
 *
 * @module
 */
import {
  type ErrorCode,
  type IoOptions,
  isTesserasError,
  type PeerId,
  type PeerInfo,
  type ShardRef,
  type TesseraHealth,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { collectShards } from "./collect.ts";
import type { ServiceContext } from "./context.ts";
import { placementTolerance } from "./distributor.ts";
import { rebuildStriped } from "./stripes.ts";
import { inspect } from "./health.ts";
import { type OwnShards, type ShardLoader, shardLoader } from "./own_shards.ts";
import { type PushResult, pushShards } from "./push.ts";
import type {
  CheckOptions,
  HealthReport,
  HolderAssignment,
  RepairReport,
  SweepOptions,
  SweepReport,
} from "./types.ts";

/** Internal: `repairTessera`. */
export async function repairTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: CheckOptions,
): Promise<RepairReport> {
  const { report, own } = await inspect(ctx, id, options);
  noteProofs(ctx, report);
  return await repairFrom(ctx, report, own, options);
}

/**
 * What a check tells the standing memory: holders that proved every
 * shard asked are preferred for new placements, and every shard a holder
 * answered for (proven or not) is no longer pending. Silent holders stay
 * pending: their credit is not trusted until they answer.
 */
function noteProofs(ctx: ServiceContext, report: HealthReport): void {
  const standing = ctx.standing;
  for (const h of report.holders) {
    if (h.status === "attested") standing.proven(h.peerId);
    if (h.status === "unreachable" || h.status === "grace") continue;
    for (const index of h.indices) {
      standing.settled(h.peerId, `${report.tesseraId}/${index}`);
    }
  }
}

/** Internal: repair after the check `report`; `own` is our encoded blob. */
async function repairFrom(
  ctx: ServiceContext,
  report: HealthReport,
  own: OwnShards | null,
  options: IoOptions,
): Promise<RepairReport> {
  const { signal } = options;
  const id = report.tesseraId;
  const plan = report.plan;
  const small = plan.tier === "small" || plan.shardCount === 1;
  const tracked = await ctx.holders.get(id);
  const checksums = tracked?.checksums ?? [];

  // 1. Corrupt local shards are useless and would fail attestation.
  const deletedLocal: number[] = [];
  for (const index of report.corruptLocal) {
    await ctx.fragments.delete(id, index, { signal });
    deletedLocal.push(index);
  }

  // 2. Forget holders that lost shards. Those that answered but could not
  //    prove them no longer store them for us: release the ledger credit.
  //    Silent ones may come back; their credit stays.
  const removed: HolderAssignment[] = [];
  const records = await ctx.holders.holders(id);
  const ipOf = new Map(records.map((r) => [r.peerId, r.ip]));
  const live: { index: number; peerId: PeerId }[] = [];
  const lostPeers = new Set<PeerId>();
  for (const h of report.holders) {
    const alive = new Set(h.liveIndices);
    for (const index of h.indices) {
      if (alive.has(index)) {
        live.push({ index, peerId: h.peerId });
        continue;
      }
      const gone = { index, peerId: h.peerId };
      await ctx.holders.removeHolder(id, gone);
      removed.push(gone);
    }
    const lost = h.indices.length - alive.size;
    if (alive.size === 0) lostPeers.add(h.peerId);
    // Answered, yet proved none of what it acknowledged: it said yes and
    // kept nothing. (One that answers ping but not the challenge may be
    // overloaded, not lying.)
    if (h.status === "failed" && h.answered) {
      ctx.standing.lied(h.peerId, ctx.clock.now());
    }
    if (lost > 0 && (h.status === "failed" || h.status === "partial")) {
      await ctx.ledger.recordTheyStoreForUs(h.peerId, -lost * plan.shardSize);
    }
  }

  const base = {
    tesseraId: id,
    before: report.health,
    lostIndices: report.lostIndices,
    removed,
    deletedLocal,
  };
  const copies = small
    ? Math.max(0, ctx.config.smallReplicas - live.length)
    : 0;
  const missing = small ? [] : report.lostIndices;
  if (copies === 0 && missing.length === 0) {
    const after = verdict(ctx, report, live, []);
    await ctx.holders.markChecked(id, {
      health: after.kind,
      at: ctx.clock.now(),
    });
    return {
      ...base,
      after,
      rebuilt: [],
      placed: [],
      source: "none",
      bytesFetched: 0,
      bytesSent: 0,
      tolerance: placementTolerance(plan, live),
    };
  }

  // 3. The bytes of what is missing, loaded one shard per push.
  let loader: ShardLoader;
  let source: "blob" | "network" = "blob";
  let bytesFetched = 0;
  try {
    if (own) {
      loader = await own.prepare(small ? [0] : missing, checksums, { signal });
    } else {
      source = "network";
      const got = await rebuild(ctx, { id, report, live, checksums }, options);
      loader = got.loader;
      bytesFetched = got.bytes;
    }
  } catch (e) {
    if (!isTesserasError(e)) throw e;
    const after = verdict(ctx, report, live, []);
    await ctx.holders.markChecked(id, {
      health: after.kind,
      at: ctx.clock.now(),
    });
    ctx.log.warn("cannot repair {tessera}: {error}", {
      tessera: id,
      error: e.message,
    });
    return {
      ...base,
      after,
      rebuilt: [],
      placed: [],
      source,
      bytesFetched,
      bytesSent: 0,
      tolerance: placementTolerance(plan, live),
      error: { code: e.code as ErrorCode, message: e.message },
    };
  }

  // 4. Place on new peers; the remaining holders count against the cap.
  const livePeers = [...new Set(live.map((l) => l.peerId))];
  const existing: PeerInfo[] = livePeers.map((peerId) => {
    const ip = ipOf.get(peerId);
    return { id: peerId, addresses: [], ...(ip !== undefined ? { ip } : {}) };
  });
  let result: PushResult;
  try {
    result = await pushShards(ctx, {
      tesseraId: id,
      plan,
      load: loader.load,
      ...(small ? { copies } : { indices: missing }),
      existing,
      exclude: lostPeers,
      overflow: small ? [] : existing,
    }, { signal });
  } finally {
    await loader.release();
  }
  const placed = result.placed.map((p) => ({
    index: p.index,
    peerId: p.peer.id,
  }));
  const after = verdict(ctx, report, live, placed);
  await ctx.holders.markChecked(id, {
    health: after.kind,
    at: ctx.clock.now(),
  });
  const rebuilt = small
    ? (placed.length > 0 ? [0] : [])
    : [...new Set(placed.map((p) => p.index))].sort((a, b) => a - b);
  ctx.log.info(
    "repaired {tessera}: {placed} placements from {source}, {removed} holders dropped, now {after}",
    {
      tessera: id,
      placed: placed.length,
      source,
      removed: removed.length,
      after: after.kind,
    },
  );
  return {
    ...base,
    after,
    rebuilt,
    placed,
    source,
    bytesFetched,
    bytesSent: result.bytesSent,
    tolerance: placementTolerance(plan, [...live, ...placed]),
  };
}

/** The verdict from live placements (local corruption was dealt with). */
function verdict(
  ctx: ServiceContext,
  report: HealthReport,
  live: readonly { index: number; peerId: PeerId }[],
  placed: readonly { index: number; peerId: PeerId }[],
): TesseraHealth {
  const plan = report.plan;
  const all = [...live, ...placed];
  const small = plan.tier === "small" || plan.shardCount === 1;
  const deficit = small
    ? Math.max(0, ctx.config.smallReplicas - all.length)
    : plan.shardCount - new Set(all.map((a) => a.index)).size;
  return deficit > 0
    ? { kind: "needs_replication", deficit }
    : { kind: "healthy" };
}

/**
 * Fetch survivors from live holders into a staging area and rebuild the
 * lost shards there, stripe by stripe; each rebuilt shard is checked
 * against its recorded checksum.
 */
async function rebuild(
  ctx: ServiceContext,
  req: {
    id: TesseraId;
    report: HealthReport;
    live: readonly { index: number; peerId: PeerId }[];
    checksums: readonly string[];
  },
  options: IoOptions,
): Promise<{ loader: ShardLoader; bytes: number }> {
  const { id, report, live, checksums } = req;
  const plan = report.plan;
  const sources = new Map<number, PeerId[]>();
  for (const l of live) {
    const list = sources.get(l.index);
    if (list) list.push(l.peerId);
    else sources.set(l.index, [l.peerId]);
  }
  const staging = await ctx.blobs.openStaging(options);
  try {
    const held = new Set<number>();
    const got = await collectShards(ctx, {
      tesseraId: id,
      needed: plan.dataShards,
      sources,
      checksums: new Map(checksums.map((c, i) => [i, c])),
      shardSize: plan.shardSize,
      hedge: Math.max(1, Math.ceil(plan.dataShards / 4)),
      held,
      store: async (index, data, o) => {
        await staging.append(index, data, o);
        held.add(index);
      },
      budgetBytes: ctx.transferBudget,
    }, options);
    const rebuilt = await rebuildStriped(
      (i, range, o) => staging.read(i, range, o),
      staging,
      { shape: plan, have: got.indices, want: report.lostIndices },
      options,
    );
    for (const [index, checksum] of rebuilt) {
      if (checksum === checksums[index]) continue;
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `rebuilt shard ${index} of ${id} does not match its recorded checksum`,
      );
    }
    return {
      bytes: got.bytes,
      loader: shardLoader({ id, plan, checksums }, {
        read: (i, range, o) => staging.read(i, range, o),
        release: () => staging.remove(),
      }),
    };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}

/** Internal: `repairSweep`. */
export async function repairSweep(
  ctx: ServiceContext,
  options: SweepOptions,
): Promise<SweepReport> {
  const { signal } = options;
  const startedAt = ctx.clock.now();
  const ids = options.ids ?? (await ctx.holders.list()).map((t) => t.tesseraId);

  // Check everything first, then repair the most endangered first.
  const checked: HealthReport[] = [];
  const owns = new Map<TesseraId, OwnShards | null>();
  const results: RepairReport[] = [];
  for (const id of ids) {
    signal?.throwIfAborted();
    try {
      const inspection = await inspect(ctx, id, { signal });
      checked.push(inspection.report);
      owns.set(id, inspection.own);
    } catch (e) {
      if (!isTesserasError(e)) throw e;
      results.push(failedReport(id, e));
    }
  }
  const urgency = (r: HealthReport) => r.tolerance;
  const todo = checked.filter((r) => r.health.kind !== "healthy")
    .sort((a, b) =>
      urgency(a) - urgency(b) ||
      b.lostIndices.length - a.lostIndices.length ||
      (a.tesseraId < b.tesseraId ? -1 : 1)
    );
  const healthy = checked.length - todo.length;
  for (const r of checked) noteProofs(ctx, r);
  for (const r of todo) {
    signal?.throwIfAborted();
    try {
      results.push(
        await repairFrom(ctx, r, owns.get(r.tesseraId)!, { signal }),
      );
    } catch (e) {
      if (!isTesserasError(e)) throw e;
      results.push(failedReport(r.tesseraId, e, r.health));
    }
  }

  // Re-hashing every held shard is a full sweep's job; a sweep of chosen
  // ids (`tesseras repair ID`) skips it unless asked.
  const heldCorrupt: ShardRef[] = [];
  if (options.verifyHeld ?? options.ids === undefined) {
    const tracked = new Set(ids);
    for (const f of await ctx.fragments.list(undefined, { signal })) {
      if (tracked.has(f.tesseraId)) continue;
      if (await ctx.fragments.verify(f.tesseraId, f.index, { signal })) {
        continue;
      }
      // Useless bytes that would fail every attestation: drop them so the
      // owner sees the shard missing and places it again. Healthy shards
      // are never deleted, whoever they belong to. A store that keeps the
      // ledger with its rows releases the sender's credit in the delete.
      await ctx.fragments.delete(f.tesseraId, f.index, { signal });
      heldCorrupt.push({ tesseraId: f.tesseraId, index: f.index });
      ctx.log.warn("deleted corrupt held shard {index} of {tessera}", {
        index: f.index,
        tessera: f.tesseraId,
      });
    }
  }

  let repaired = 0, degraded = 0, lost = 0;
  for (const r of results) {
    if (r.after.kind === "healthy") repaired++;
    else if (r.error?.code === "INSUFFICIENT_SHARDS") lost++;
    else degraded++;
  }
  return {
    startedAt,
    finishedAt: ctx.clock.now(),
    tesseras: results,
    heldCorrupt,
    healthy,
    repaired,
    degraded,
    lost,
  };
}

function failedReport(
  id: TesseraId,
  e: TesserasError,
  before: TesseraHealth = { kind: "needs_replication", deficit: 0 },
): RepairReport {
  return {
    tesseraId: id,
    before,
    after: before,
    lostIndices: [],
    rebuilt: [],
    placed: [],
    removed: [],
    deletedLocal: [],
    source: "none",
    bytesFetched: 0,
    bytesSent: 0,
    tolerance: -1,
    error: { code: e.code, message: e.message },
  };
}
