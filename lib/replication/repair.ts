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
  isWholeCopy,
  type PeerId,
  type PeerInfo,
  type ShardRef,
  type TesseraHealth,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { collectShards } from "./collect.ts";
import type { ServiceContext } from "./context.ts";
import type { PlacementSafety } from "./distributor.ts";
import { rebuildStriped } from "./stripes.ts";
import {
  DEFERRED_HEALTH,
  deficitOf,
  healthOf,
  inspect,
  type Inspection,
  withIps,
} from "./health.ts";
import { type ShardLoader, shardLoader } from "./own_shards.ts";
import type { KeptShards } from "./steward_copy.ts";
import { type PushResult, pushShards } from "./push.ts";
import { adoptAnnounced } from "./reclaim.ts";
import { scrubHeld } from "./scrub.ts";
import { subnetOf } from "./subnet.ts";
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
  options: CheckOptions & { readonly scheduled?: boolean },
): Promise<RepairReport> {
  const inspection = await inspect(ctx, id, options);
  noteProofs(ctx, inspection.report);
  return await repairFrom(ctx, inspection, options);
}

/**
 * What a check tells the standing memory: holders that proved every
 * shard asked are preferred for new placements, and every shard a holder
 * answered for (proven or not) is no longer pending. Silent holders stay
 * pending: their credit is not trusted until they answer.
 */
function noteProofs(ctx: ServiceContext, report: HealthReport): void {
  for (const h of report.holders) {
    if (h.status === "attested") ctx.standing.proven(h.peerId);
    if (
      h.status === "unreachable" || h.status === "grace" ||
      h.status === "trusted"
    ) continue;
    for (const index of h.indices) {
      ctx.standing.settled(h.peerId, `${report.tesseraId}/${index}`);
    }
  }
}

/**
 * Internal: repair after the check `inspection`: clean up, rebuild what
 * is missing, place it, judge again.
 */
async function repairFrom(
  ctx: ServiceContext,
  checked: Inspection,
  options: IoOptions,
): Promise<RepairReport> {
  const deletedLocal = await deleteCorruptLocal(ctx, checked.report, options);
  const removed = await dropLostHolders(ctx, checked.report);
  // An owner first counts the holders its stewards placed (reclaim.ts).
  const inspection = placesNothing(wanted(ctx, checked))
    ? checked
    : await adoptAnnounced(ctx, checked, options);
  const { report } = inspection;
  const done = new RepairOutcome(ctx, inspection, { removed, deletedLocal });
  const want = wanted(ctx, inspection);
  if (placesNothing(want)) {
    return await done.finish({ deficit: inspection.deficit });
  }
  if (waitsForLosses(ctx, inspection, want)) {
    return await done.finish({ deficit: inspection.deficit, deferred: true });
  }
  let bytes: Awaited<ReturnType<typeof shardsToPlace>>;
  try {
    bytes = await shardsToPlace(ctx, inspection, want, options);
  } catch (e) {
    if (!isTesserasError(e)) throw e;
    ctx.log.warn("cannot repair {tessera}: {error}", {
      tessera: report.tesseraId,
      error: e.message,
    });
    return await done.finish({
      deficit: inspection.deficit,
      source: inspection.own ? "blob" : "network",
      error: e,
    });
  }
  let result: PushResult;
  try {
    result = await placeAgain(ctx, inspection, {
      want,
      load: bytes.loader.load,
    }, options);
  } finally {
    await bytes.loader.release();
  }
  await releaseReplaced(ctx, inspection, { removed, result });
  return await done.finish({ result, ...bytes });
}

/**
 * The credit of silent holders whose shards now live elsewhere is taken
 * back: we no longer count on them for those shards (a failed or partial
 * holder's credit went when its records were dropped). A whole copy
 * placed anew replaces one silent holder's copy.
 */
async function releaseReplaced(
  ctx: ServiceContext,
  inspection: Inspection,
  change: { removed: readonly HolderAssignment[]; result: PushResult },
): Promise<void> {
  const { report } = inspection;
  const silent = new Set(
    report.holders.filter((h) => h.status === "unreachable").map((h) =>
      h.peerId
    ),
  );
  const placed = new Map<number, number>();
  for (const p of change.result.placed) {
    placed.set(p.index, (placed.get(p.index) ?? 0) + 1);
  }
  for (const gone of change.removed) {
    if (!silent.has(gone.peerId) || !(placed.get(gone.index)! > 0)) continue;
    if (isWholeCopy(report.plan)) {
      placed.set(gone.index, placed.get(gone.index)! - 1);
    }
    ctx.standing.settled(gone.peerId, `${report.tesseraId}/${gone.index}`);
    await ctx.ledger.recordTheyStoreForUs(gone.peerId, -report.plan.shardSize);
  }
}

/** Corrupt local shards are useless and would fail attestation. */
async function deleteCorruptLocal(
  ctx: ServiceContext,
  report: HealthReport,
  options: IoOptions,
): Promise<number[]> {
  const deleted: number[] = [];
  for (const index of report.corruptLocal) {
    await ctx.fragments.delete(report.tesseraId, index, options);
    ctx.stewards.released(report.tesseraId);
    deleted.push(index);
  }
  return deleted;
}

/**
 * Forget holders that lost shards. Those that answered but could not
 * prove them no longer store them for us: release the ledger credit.
 * Silent ones may come back; their credit stays.
 */
async function dropLostHolders(
  ctx: ServiceContext,
  report: HealthReport,
): Promise<HolderAssignment[]> {
  const id = report.tesseraId;
  const removed: HolderAssignment[] = [];
  for (const h of report.holders) {
    const alive = new Set(h.liveIndices);
    for (const index of h.indices) {
      if (alive.has(index)) continue;
      const gone = { index, peerId: h.peerId };
      await ctx.holders.removeHolder(id, gone);
      removed.push(gone);
    }
    // Answered, yet proved none of what it acknowledged: it said yes and
    // kept nothing. (One that answers ping but not the challenge may be
    // overloaded, not lying.)
    if (h.status === "failed" && h.answered) {
      ctx.standing.lied(h.peerId, ctx.clock.now());
    }
    const lost = h.indices.length - alive.size;
    if (lost > 0 && (h.status === "failed" || h.status === "partial")) {
      await ctx.ledger.recordTheyStoreForUs(
        h.peerId,
        -lost * report.plan.shardSize,
      );
    }
  }
  return removed;
}

/** What to place: whole copies short, or the lost shards. */
interface Wanted {
  readonly copies: number;
  readonly missing: readonly number[];
}

function placesNothing(want: Wanted): boolean {
  return want.copies === 0 && want.missing.length === 0;
}

function wanted(ctx: ServiceContext, inspection: Inspection): Wanted {
  const { plan, lostIndices } = inspection.report;
  return isWholeCopy(plan)
    ? {
      copies: Math.max(0, ctx.config.smallReplicas - inspection.live.length),
      missing: [],
    }
    : { copies: 0, missing: lostIndices };
}

/**
 * Whether a steward with no copy of the orphan waits for more losses
 * before it rebuilds (`stewardRebuildAtPercent` of the parity shards):
 * its rebuild fetches `dataShards` shards however few are lost, and a
 * steward that leaves before the orphan loses that many never fetches.
 * One with a copy rebuilds from it at once (steward_copy.ts), as an
 * owner from its own.
 */
function waitsForLosses(
  ctx: ServiceContext,
  inspection: Inspection,
  want: Wanted,
): boolean {
  const { plan, tesseraId } = inspection.report;
  const copies = ctx.stewardCopies;
  if (copies === undefined || inspection.own || isWholeCopy(plan)) {
    return false;
  }
  const kept = copies.get(tesseraId);
  if (kept && kept.indices.size >= plan.dataShards) return false;
  const percent = ctx.config.stewardRebuildAtPercent;
  return want.missing.length < Math.ceil(plan.parityShards * percent / 100);
}

/** The bytes of what is missing, loaded one shard per push. */
async function shardsToPlace(
  ctx: ServiceContext,
  inspection: Inspection,
  want: Wanted,
  options: IoOptions,
): Promise<{
  loader: ShardLoader;
  source: "blob" | "network";
  bytesFetched: number;
}> {
  const { own, tracked, report } = inspection;
  const { signal } = options;
  if (own) {
    const indices = isWholeCopy(report.plan) ? [0] : want.missing;
    return {
      loader: await own.prepare(indices, tracked.checksums, { signal }),
      source: "blob",
      bytesFetched: 0,
    };
  }
  const got = await rebuild(ctx, inspection, options);
  return { loader: got.loader, source: "network", bytesFetched: got.bytes };
}

/** Place on new peers; the remaining holders count against the cap. */
async function placeAgain(
  ctx: ServiceContext,
  inspection: Inspection,
  job: { want: Wanted; load: ShardLoader["load"] },
  options: IoOptions,
): Promise<PushResult> {
  const { report, records, live } = inspection;
  const whole = isWholeCopy(report.plan);
  const ipOf = new Map(records.map((r) => [r.peerId, r.ip]));
  const existing: PeerInfo[] = [...new Set(live.map((l) => l.peerId))].map(
    (peerId) => {
      const ip = ipOf.get(peerId);
      return { id: peerId, addresses: [], ...(ip !== undefined ? { ip } : {}) };
    },
  );
  return await pushShards(ctx, {
    tesseraId: report.tesseraId,
    plan: report.plan,
    load: job.load,
    ...(whole ? { copies: job.want.copies } : { indices: job.want.missing }),
    existing,
    exclude: lostPeers(report),
    overflow: whole ? [] : existing,
  }, { signal: options.signal });
}

/** Holders with nothing live left: never pushed to again by this repair. */
function lostPeers(report: HealthReport): Set<PeerId> {
  const lost = new Set<PeerId>();
  for (const h of report.holders) {
    if (new Set(h.liveIndices).size === 0) lost.add(h.peerId);
  }
  return lost;
}

/** The end of a repair: the verdict recorded, the report built. */
class RepairOutcome {
  readonly #ctx: ServiceContext;
  readonly #inspection: Inspection;
  readonly #base: Pick<
    RepairReport,
    "tesseraId" | "before" | "lostIndices" | "removed" | "deletedLocal"
  >;

  constructor(
    ctx: ServiceContext,
    inspection: Inspection,
    cleaned: {
      removed: readonly HolderAssignment[];
      deletedLocal: readonly number[];
    },
  ) {
    const { report } = inspection;
    this.#ctx = ctx;
    this.#inspection = inspection;
    this.#base = {
      tesseraId: report.tesseraId,
      before: report.health,
      lostIndices: report.lostIndices,
      removed: cleaned.removed,
      deletedLocal: cleaned.deletedLocal,
    };
  }

  /**
   * Record the verdict and report: from the check's deficit when nothing
   * was placed, else from the live holders plus the new ones. With
   * `deferred` (a steward waiting for more losses), the shortfall is
   * recorded as {@linkcode DEFERRED_HEALTH}: chosen, so the next sweep
   * does not take it for suspect (health.ts).
   */
  async finish(end: {
    deficit?: number;
    deferred?: boolean;
    result?: PushResult;
    source?: RepairReport["source"];
    bytesFetched?: number;
    error?: TesserasError;
  }): Promise<RepairReport> {
    const ctx = this.#ctx;
    const { report, live } = this.#inspection;
    const placed = (end.result?.placed ?? []).map((p) => ({
      index: p.index,
      peerId: p.peer.id,
    }));
    const all = [...live, ...placed];
    // Through the memo: a repair that placed nothing (most of them) has
    // the live placements the health check just judged, so this is a hit.
    const safety = ctx.safety.of(report.tesseraId, {
      plan: report.plan,
      live: [
        ...withIps(live, this.#inspection.records),
        ...(end.result?.placed ?? []).map((p) => ({
          index: p.index,
          peerId: p.peer.id,
          ...(p.peer.ip !== undefined ? { ip: p.peer.ip } : {}),
        })),
      ],
    });
    const after = healthOf(
      end.result ? deficitOf(ctx, report.plan, all) : end.deficit ?? 0,
    );
    await ctx.holders.markChecked(report.tesseraId, {
      health: end.deferred && after.kind !== "healthy"
        ? DEFERRED_HEALTH
        : after.kind,
      at: ctx.clock.now(),
    });
    if (end.result) this.#log(after, placed, end.source);
    return {
      ...this.#base,
      after,
      rebuilt: rebuiltOf(report.plan, placed),
      placed,
      source: end.source ?? "none",
      bytesFetched: end.bytesFetched ?? 0,
      bytesSent: end.result?.bytesSent ?? 0,
      tolerance: safety.peerLosses,
      safety,
      ...(after.kind === "needs_replication" && end.result && !end.error
        ? { shortBecause: this.#shortBecause(end.result, safety) }
        : {}),
      ...(end.error
        ? {
          error: {
            code: end.error.code as ErrorCode,
            message: end.error.message,
          },
        }
        : {}),
    };
  }

  /** Why a repair that met no error left the tessera short. */
  #shortBecause(result: PushResult, safety: PlacementSafety): string {
    const { plan } = this.#inspection.report;
    const known = result.candidates.length;
    const found = known === 1
      ? "1 peer was found"
      : `${known} peers were found`;
    if (isWholeCopy(plan)) {
      const wanted = this.#ctx.config.smallReplicas;
      return `${wanted} copies are wanted but only ${safety.peers} peers hold one: ${found}, and no other took a copy (too few peers on the network, or they refused)`;
    }
    const missing = plan.shardCount - safety.shards;
    return `${missing} of ${plan.shardCount} shards found no holder: ${found}, and none took them (too few peers on the network, or they refused)`;
  }

  #log(
    after: TesseraHealth,
    placed: readonly HolderAssignment[],
    source: RepairReport["source"] | undefined,
  ): void {
    this.#ctx.log.info(
      "repaired {tessera}: {placed} placements from {source}, {removed} holders dropped, now {after}",
      {
        tessera: this.#base.tesseraId,
        placed: placed.length,
        source,
        removed: this.#base.removed.length,
        after: after.kind,
      },
    );
  }
}

/** Indices rebuilt: the one whole copy, or each placed shard once. */
function rebuiltOf(
  plan: HealthReport["plan"],
  placed: readonly HolderAssignment[],
): number[] {
  return isWholeCopy(plan)
    ? (placed.length > 0 ? [0] : [])
    : [...new Set(placed.map((p) => p.index))].sort((a, b) => a - b);
}

/**
 * Fetch survivors from live holders into a staging area and rebuild the
 * lost shards there, stripe by stripe; each rebuilt shard is checked
 * against its recorded checksum. A steward (`ctx.stewardCopies`) keeps
 * the staged shards for the orphan's next loss and rebuilds from them
 * when it has them, fetching nothing (steward_copy.ts).
 */
async function rebuild(
  ctx: ServiceContext,
  inspection: Inspection,
  options: IoOptions,
): Promise<{ loader: ShardLoader; bytes: number }> {
  const { tesseraId: id, plan } = inspection.report;
  const kept = ctx.stewardCopies?.get(id);
  if (kept && kept.indices.size >= plan.dataShards) {
    return { loader: await rebuildFromKept(ctx, inspection, kept), bytes: 0 };
  }
  const { checksums } = inspection.tracked;
  const own = new Set(
    inspection.live.filter((l) => l.peerId === ctx.selfId).map((l) => l.index),
  );
  const staging = await ctx.blobs.openStaging(options);
  try {
    const held = new Set<number>();
    const got = await collectShards(ctx, {
      tesseraId: id,
      needed: plan.dataShards,
      sources: survivorSources(ctx, inspection.live),
      checksums: new Map(checksums.map((c, i) => [i, c])),
      shardSize: plan.shardSize,
      // Repair is not in a hurry: a fetch that fails starts the next one,
      // and no shard beyond `dataShards` crosses the wire.
      hedge: 0,
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
      { shape: plan, have: got.indices, want: inspection.report.lostIndices },
      options,
    );
    checkRebuilt(inspection, rebuilt);
    // A whole copy is the steward's own shard already: nothing to keep.
    const keep = ctx.stewardCopies !== undefined && !isWholeCopy(plan);
    if (keep) {
      await ctx.stewardCopies!.keep(id, {
        staging,
        indices: [...got.indices, ...rebuilt.keys()],
        shardSize: plan.shardSize,
      });
    }
    return {
      // Our own shards came first and from our store, not the wire.
      bytes: got.bytes - plan.shardSize *
          got.indices.filter((i) => own.has(i)).length,
      loader: shardLoader({ id, plan, checksums }, {
        read: (i, range, o) => staging.read(i, range, o),
        release: keep ? () => Promise.resolve() : () => staging.remove(),
      }),
    };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}

/** Rebuild the lost shards from a steward's kept ones, fetching nothing. */
async function rebuildFromKept(
  ctx: ServiceContext,
  inspection: Inspection,
  kept: KeptShards,
): Promise<ShardLoader> {
  const { tesseraId: id, plan, lostIndices } = inspection.report;
  const scratch = await ctx.blobs.openStaging();
  try {
    const rebuilt = await rebuildStriped(kept.read, scratch, {
      shape: plan,
      have: [...kept.indices].sort((a, b) => a - b),
      want: lostIndices,
    });
    checkRebuilt(inspection, rebuilt);
    return shardLoader({ id, plan, checksums: inspection.tracked.checksums }, {
      read: (i, range, o) =>
        kept.indices.has(i)
          ? kept.read(i, range, o)
          : scratch.read(i, range, o),
      release: () => scratch.remove(),
    });
  } catch (e) {
    await scratch.remove();
    throw e;
  }
}

/** Every rebuilt shard must match the checksum recorded for its index. */
function checkRebuilt(
  inspection: Inspection,
  rebuilt: ReadonlyMap<number, string>,
): void {
  const { checksums } = inspection.tracked;
  for (const [index, checksum] of rebuilt) {
    if (checksum === checksums[index]) continue;
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `rebuilt shard ${index} of ${inspection.report.tesseraId} does not match its recorded checksum`,
    );
  }
}

/**
 * Holders of each live index, ours first and indices we hold first: a
 * steward's own shards (answered from its store, steward_view.ts) cost
 * no transfer.
 */
function survivorSources(
  ctx: ServiceContext,
  live: Inspection["live"],
): Map<number, PeerId[]> {
  const mine = live.filter((l) => l.peerId === ctx.selfId);
  const sources = new Map<number, PeerId[]>();
  for (const l of [...mine, ...live.filter((l) => l.peerId !== ctx.selfId)]) {
    const list = sources.get(l.index);
    if (list) list.push(l.peerId);
    else sources.set(l.index, [l.peerId]);
  }
  return sources;
}

/** Internal: `repairSweep`. */
export async function repairSweep(
  ctx: ServiceContext,
  options: SweepOptions,
): Promise<SweepReport> {
  const { signal, onProgress } = options;
  const startedAt = ctx.clock.now();
  const ids = options.ids ?? (await ctx.holders.list()).map((t) => t.tesseraId);
  // Check everything first, then repair the most endangered first.
  const { checked, failed } = await checkAll(ctx, ids, {
    signal,
    onProgress,
    scheduled: options.ids === undefined,
  });
  const todo = checked.filter((c) => c.report.health.kind !== "healthy")
    .sort((a, b) => urgency(a.report, b.report));
  for (const c of checked) noteProofs(ctx, c.report);
  const results = [
    ...failed,
    ...await repairAll(ctx, todo, { signal, onProgress }),
  ];
  const spread = await spreadAll(
    ctx,
    checked.filter((c) => c.report.health.kind === "healthy"),
    { signal },
  );
  // Re-hashing every held shard is the scrub's job, on its own schedule
  // (`scrubIntervalMs`): a sweep does it only when asked.
  const heldCorrupt = options.verifyHeld
    ? await dropCorruptHeld(ctx, new Set(ids), { signal })
    : [];
  let repaired = 0, degraded = 0, lost = 0;
  for (const r of results) {
    if (r.after.kind === "healthy") repaired++;
    else if (r.error?.code === "INSUFFICIENT_SHARDS") lost++;
    else degraded++;
  }
  return {
    startedAt,
    finishedAt: ctx.clock.now(),
    tesseras: [...results, ...spread],
    heldCorrupt,
    healthy: checked.length - todo.length,
    repaired,
    degraded,
    lost,
  };
}

/** Most urgent first: fewest tolerated losses, then most shards lost. */
function urgency(a: HealthReport, b: HealthReport): number {
  return a.tolerance - b.tolerance ||
    b.lostIndices.length - a.lostIndices.length ||
    (a.tesseraId < b.tesseraId ? -1 : 1);
}

/**
 * Healthy tesseras that one subnet outage could take, spread where the
 * network has gained subnets since they were placed (issue 16): copies of
 * the shards that only a crowded /24 holds go to peers of other /24s, so
 * that losing any one /24 leaves `dataShards` distinct shards. The old
 * copies stay where they are (no message asks a holder to drop a shard,
 * and the ledger credit for them stays true). Only an owner with its own
 * copy spreads; a tessera that cannot be spread costs one lookup.
 */
async function spreadAll(
  ctx: ServiceContext,
  healthy: readonly Inspection[],
  options: IoOptions,
): Promise<RepairReport[]> {
  const out: RepairReport[] = [];
  for (const c of healthy) {
    const { safety } = c.report;
    if (!c.own || safety.subnetLosses !== 0) continue;
    options.signal?.throwIfAborted();
    try {
      const report = await spreadOne(ctx, c, options);
      // Peers that all refused leave nothing to say: tried again next sweep.
      if (report && report.placed.length > 0) out.push(report);
    } catch (e) {
      if (!isTesserasError(e)) throw e;
      ctx.log.warn("cannot spread {tessera}: {error}", {
        tessera: c.report.tesseraId,
        error: e.message,
      });
    }
  }
  return out;
}

/** Spread one tessera over new subnets; `null` when there are none. */
async function spreadOne(
  ctx: ServiceContext,
  inspection: Inspection,
  options: IoOptions,
): Promise<RepairReport | null> {
  const { report, records, live } = inspection;
  const placed = withIps(live, records);
  const crowded = crowdedSubnets(report.plan, placed);
  const holders = new Set(live.map((l) => l.peerId));
  const found = await ctx.dht.findClosestPeers(
    report.tesseraId,
    ctx.candidateCount ?? 2 * report.plan.shardCount + 8 + holders.size,
    options,
  );
  const blocked = new Set(holders);
  for (const p of found) if (crowded.has(subnetOf(p))) blocked.add(p.id);
  const room = new Set(
    found.filter((p) => !blocked.has(p.id) && p.id !== ctx.selfId)
      .map((p) => subnetOf(p)),
  );
  // As many /24s as placement needs to be safe from an outage (see the
  // distributor): shards / parity of them, two for whole copies.
  const whole = isWholeCopy(report.plan);
  const needed = whole
    ? 2
    : Math.ceil(report.plan.shardCount / Math.max(1, report.plan.parityShards));
  const subnets = new Set([
    ...placed.map((h) => subnetOf({ id: h.peerId, ip: h.ip })),
    ...room,
  ]);
  if (room.size === 0 || subnets.size < needed) return null;
  const want: Wanted = whole
    ? { copies: 1, missing: [] }
    : { copies: 0, missing: [...new Set([...crowded.values()].flat())] };
  const bytes = await shardsToPlace(ctx, inspection, want, options);
  let result: PushResult;
  try {
    result = await pushShards(ctx, {
      tesseraId: report.tesseraId,
      plan: report.plan,
      load: bytes.loader.load,
      ...(whole ? { copies: 1 } : { indices: want.missing }),
      existing: [...holders].map((id) => ({ id, addresses: [] })),
      exclude: blocked,
      overflow: [],
    }, options);
  } finally {
    await bytes.loader.release();
  }
  const done = new RepairOutcome(ctx, inspection, {
    removed: [],
    deletedLocal: [],
  });
  return await done.finish({ result, ...bytes });
}

/**
 * The /24s whose outage would take the tessera, each with the shards to
 * copy elsewhere: of those only it holds, as many as keep `dataShards`
 * distinct shards outside it (a whole copy: the one shard).
 */
function crowdedSubnets(
  plan: HealthReport["plan"],
  holders: readonly { index: number; peerId: PeerId; ip?: string }[],
): Map<string, number[]> {
  const bySubnet = new Map<string, Set<number>>();
  for (const h of holders) {
    const key = subnetOf({ id: h.peerId, ip: h.ip });
    let set = bySubnet.get(key);
    if (!set) bySubnet.set(key, set = new Set());
    set.add(h.index);
  }
  const out = new Map<string, number[]>();
  for (const [key, mine] of bySubnet) {
    const outside = new Set<number>();
    for (const [other, set] of bySubnet) {
      if (other !== key) { for (const i of set) outside.add(i); }
    }
    const short = plan.dataShards - outside.size;
    if (short <= 0) continue;
    const only = [...mine].filter((i) => !outside.has(i)).sort((a, b) => a - b);
    out.set(key, only.slice(0, short));
  }
  return out;
}

/** Inspect each tessera; those that cannot be checked are reported failed. */
async function checkAll(
  ctx: ServiceContext,
  ids: readonly TesseraId[],
  options: Pick<SweepOptions, "signal" | "onProgress"> & {
    /** Follow the audit schedule (a full sweep), else challenge all. */
    readonly scheduled: boolean;
  },
): Promise<{ checked: Inspection[]; failed: RepairReport[] }> {
  const { signal, onProgress, scheduled } = options;
  const checked: Inspection[] = [];
  const failed: RepairReport[] = [];
  for (const id of ids) {
    signal?.throwIfAborted();
    try {
      checked.push(await inspect(ctx, id, { signal, scheduled }));
    } catch (e) {
      if (!isTesserasError(e)) throw e;
      failed.push(failedReport(id, e));
    }
    onProgress?.({
      phase: "check",
      done: checked.length + failed.length,
      total: ids.length,
    });
  }
  return { checked, failed };
}

/** Repair each inspected tessera in turn, from what its check learnt. */
async function repairAll(
  ctx: ServiceContext,
  todo: readonly Inspection[],
  options: Pick<SweepOptions, "signal" | "onProgress">,
): Promise<RepairReport[]> {
  const { signal, onProgress } = options;
  const results: RepairReport[] = [];
  for (const c of todo) {
    signal?.throwIfAborted();
    try {
      results.push(await repairFrom(ctx, c, { signal }));
    } catch (e) {
      if (!isTesserasError(e)) throw e;
      results.push(failedReport(c.report.tesseraId, e, c.report.health));
    }
    onProgress?.({ phase: "repair", done: results.length, total: todo.length });
  }
  return results;
}

/**
 * Verify every shard held for others (not our own `tracked` ones) and
 * delete those that fail: the holder's scrub (scrub.ts), run by a sweep
 * when asked (`verifyHeld`).
 */
async function dropCorruptHeld(
  ctx: ServiceContext,
  tracked: ReadonlySet<TesseraId>,
  options: IoOptions,
): Promise<ShardRef[]> {
  const { corrupt } = await scrubHeld(ctx, tracked, options);
  return corrupt.map((c) => ({ tesseraId: c.tesseraId, index: c.index }));
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
