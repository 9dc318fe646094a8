/**
 * Health checks of our tesseras: challenge every known holder, fall back
 * to ping for the silent ones, verify local shards, and judge.
 *
 * A holder that answers ping but fails its attestation is lost, not
 * alive: it is up but cannot prove it holds the bytes.
 *
 * `inspect` reads as its steps and hands what it learnt (the tracked
 * plan, the holder records, our shards, the live placements and the
 * deficit) to repair, which reads none of it again.
 *
 * @module
 */
import {
  assertTesseraId,
  type HolderRecord,
  type IoOptions,
  isWholeCopy,
  mapPool,
  type PeerId,
  type TesseraHealth,
  type TesseraId,
  TesserasError,
  type TrackedTessera,
} from "../core/mod.ts";
import { type AttestationCheck, challengeAll } from "./attest.ts";
import type { ServiceContext } from "./context.ts";
import { OwnShards, type ProofRequest } from "./own_shards.ts";
import { auditDue } from "./audit_schedule.ts";
import type { CheckOptions, HealthReport, HolderCheck } from "./types.ts";

/** Internal: one live placement: shard `index` proven on `peerId`. */
export interface LivePlacement {
  readonly index: number;
  readonly peerId: PeerId;
}

/** Internal: a health check with what repair needs besides the report. */
export interface Inspection {
  readonly report: HealthReport;
  readonly tracked: TrackedTessera;
  readonly records: readonly HolderRecord[];
  /** Our shards, recomputed from the blob, or `null` without a blob. */
  readonly own: OwnShards | null;
  /** Every live placement, holder by holder. */
  readonly live: readonly LivePlacement[];
  /** Copies (whole copies) or shards (others) with no live holder. */
  readonly deficit: number;
}

/** Internal: `inspectTessera`. */
export async function inspectTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: CheckOptions,
): Promise<HealthReport> {
  return (await inspect(ctx, id, options)).report;
}

/**
 * Internal: check one tracked tessera. With `scheduled` (a sweep), only
 * the holders the audit schedule makes due are challenged
 * (audit_schedule.ts); the others are `trusted` on their record.
 */
export async function inspect(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions & { readonly scheduled?: boolean } = {},
): Promise<Inspection> {
  assertTesseraId(id);
  const { signal } = options;
  const tracked = await trackedOf(ctx, id);
  const records = await ctx.holders.holders(id);
  const own = await OwnShards.open(ctx, id, { signal });
  const byPeer = new HoldersByPeer(records);
  const now = ctx.clock.now();
  const { checks, answers } = await challengeDue(ctx, {
    tracked,
    byPeer,
    own,
    now,
    scheduled: options.scheduled === true,
  }, { signal });
  const holders = await judgeHolders(ctx, { id, byPeer, checks, now }, {
    signal,
  });
  const corruptLocal = await corruptLocalShards(ctx, id, { signal });
  const live = holders.flatMap((h) =>
    h.liveIndices.map((index) => ({ index, peerId: h.peerId }))
  );
  const verdict = judge(ctx, { plan: tracked.plan, live, corruptLocal });
  await ctx.holders.markChecked(id, { health: verdict.health.kind, at: now });
  const safety = ctx.safety.of(id, {
    plan: tracked.plan,
    live: withIps(live, records),
  });
  const report: HealthReport = {
    tesseraId: id,
    plan: tracked.plan,
    health: verdict.health,
    verification: answers.some((c) => c.verification === "chunk")
      ? "chunk"
      : own
      ? "proof"
      : "checksum",
    holders,
    liveIndices: verdict.liveIndices,
    lostIndices: verdict.lostIndices,
    livePlacements: live.length,
    corruptLocal,
    tolerance: safety.peerLosses,
    safety,
    checkedAt: now,
  };
  ctx.log.debug("health of {tessera}: {health}", {
    tessera: id,
    health: verdict.health.kind,
    lost: verdict.lostIndices.length,
    tolerance: report.tolerance,
  });
  return { report, tracked, records, own, live, deficit: verdict.deficit };
}

/**
 * Challenge the holders a check is to challenge: all of them, or in a
 * scheduled sweep those the audit schedule makes due. A tessera that was
 * not healthy at its last check is suspect: all its holders are due. And
 * when a due holder answers but cannot prove its shards (it is up and
 * lost or deleted them), the others are challenged at once too, so two
 * such holders are found in the same sweep, not one after the other. A
 * silent holder does not widen the audit: the liveness ping finds every
 * holder that left at every sweep (judgeHolders). Per peer, its check,
 * or `null` for a holder not challenged.
 */
async function challengeDue(
  ctx: ServiceContext,
  of: {
    tracked: TrackedTessera;
    byPeer: HoldersByPeer;
    own: OwnShards | null;
    now: number;
    scheduled: boolean;
  },
  options: IoOptions,
): Promise<{
  checks: (AttestationCheck | null)[];
  answers: AttestationCheck[];
}> {
  const { tracked, byPeer, own, now } = of;
  const suspect = !of.scheduled || isSuspect(tracked.lastHealth);
  const due = byPeer.peers.map((peer, n) =>
    suspect || auditDue(ctx, { peer, records: byPeer.records[n] }, now)
  );
  const all = byPeer.expectations(tracked);
  const checks: (AttestationCheck | null)[] = due.map(() => null);
  const answers: AttestationCheck[] = [];
  // Keyed proofs (a transport without chunk proofs) are computed after
  // the answers are in, in one pass over our blob.
  const prover = own
    ? (requests: readonly ProofRequest[], o?: IoOptions) =>
      own.prove(requests, o)
    : null;
  const ask = async (which: readonly number[]) => {
    const got = await challengeAll(ctx, which.map((n) => all[n]), {
      signal: options.signal,
      prover,
    });
    which.forEach((n, i) => checks[n] = got[i]);
    answers.push(...got);
    return got;
  };
  const first = await ask(due.flatMap((d, n) => d ? [n] : []));
  if (first.some((c) => c.answered && c.failed.length > 0)) {
    await ask(due.flatMap((d, n) => d ? [] : [n]));
  }
  return { checks, answers };
}

/**
 * Internal: the health a steward records for an orphan it chose not to
 * rebuild yet (`stewardRebuildAtPercent`, repair.ts): short, but by
 * choice. Its shortfall is holders already judged gone, not an
 * unexplained loss, so it does not make the tessera suspect: otherwise
 * every holder of an orphan is challenged at every sweep for the weeks
 * the steward waits (docs/proofs.md).
 */
export const DEFERRED_HEALTH = "deferred";

/**
 * Whether a tessera whose last check recorded `lastHealth` is suspect:
 * not healthy, and not short by a steward's choice.
 */
function isSuspect(lastHealth: string | null): boolean {
  return lastHealth !== null && lastHealth !== "healthy" &&
    lastHealth !== DEFERRED_HEALTH;
}

/** Internal: placements with the IPs their holders were placed at. */
export function withIps(
  placements: readonly LivePlacement[],
  records: readonly HolderRecord[],
): (LivePlacement & { ip?: string })[] {
  const ipOf = new Map(records.map((r) => [r.peerId, r.ip]));
  return placements.map((p) => {
    const ip = ipOf.get(p.peerId);
    return ip === undefined ? p : { ...p, ip };
  });
}

async function trackedOf(
  ctx: ServiceContext,
  id: TesseraId,
): Promise<TrackedTessera> {
  const tracked = await ctx.holders.get(id);
  if (tracked) return tracked;
  throw new TesserasError(
    "NOT_FOUND",
    `tessera ${id} is not tracked by this node: only its owner checks and repairs it`,
  );
}

/**
 * Internal: copies (whole copies) or distinct shards (others) that the
 * placements `live` lack: the one rule of "how short is this tessera".
 */
export function deficitOf(
  ctx: ServiceContext,
  plan: HealthReport["plan"],
  live: readonly LivePlacement[],
): number {
  return isWholeCopy(plan)
    ? Math.max(0, ctx.config.smallReplicas - live.length)
    : plan.shardCount - new Set(live.map((l) => l.index)).size;
}

/** Internal: the verdict of a deficit (local corruption aside). */
export function healthOf(deficit: number): TesseraHealth {
  return deficit > 0
    ? { kind: "needs_replication", deficit }
    : { kind: "healthy" };
}

/** The verdict: live and lost indices, the deficit, the health. */
function judge(
  ctx: ServiceContext,
  found: {
    plan: HealthReport["plan"];
    live: readonly LivePlacement[];
    corruptLocal: readonly number[];
  },
): {
  health: TesseraHealth;
  deficit: number;
  liveIndices: number[];
  lostIndices: number[];
} {
  const { plan, live, corruptLocal } = found;
  const liveSet = new Set(live.map((l) => l.index));
  const liveIndices = Array.from(liveSet).sort((a, b) => a - b);
  const lostIndices: number[] = [];
  for (let i = 0; i < plan.shardCount; i++) {
    if (!liveSet.has(i)) lostIndices.push(i);
  }
  const deficit = deficitOf(ctx, plan, live);
  const health: TesseraHealth = corruptLocal.length > 0
    ? { kind: "corrupt_local", fragmentIndex: corruptLocal[0] }
    : healthOf(deficit);
  return { health, deficit, liveIndices, lostIndices };
}

/**
 * Holder records grouped by peer, in order of first record. Records come
 * by index, then peer: each peer's indices come out ascending, and a
 * repeat is next to its twin.
 */
class HoldersByPeer {
  readonly peers: PeerId[] = [];
  readonly records: HolderRecord[][] = [];
  readonly indices: number[][] = [];

  constructor(records: readonly HolderRecord[]) {
    const slotOf = new Map<PeerId, number>();
    for (const r of records) {
      const at = slotOf.get(r.peerId);
      if (at === undefined) {
        slotOf.set(r.peerId, this.peers.length);
        this.peers.push(r.peerId);
        this.records.push([r]);
        this.indices.push([r.index]);
        continue;
      }
      this.records[at].push(r);
      const indices = this.indices[at];
      if (indices[indices.length - 1] !== r.index) indices.push(r.index);
    }
  }

  /** What each peer should prove. */
  expectations(tracked: TrackedTessera) {
    return this.peers.map((peer, n) => ({
      tesseraId: tracked.tesseraId,
      peer,
      indices: this.indices[n],
      checksums: tracked.checksums,
      shardSize: tracked.plan.shardSize,
    }));
  }

  /** When the peer was last known to hold shards (attested or stored). */
  lastSeen(n: number): number {
    let lastSeen = -Infinity;
    for (const r of this.records[n]) {
      lastSeen = Math.max(lastSeen, r.lastAttestedAt ?? r.storedAt);
    }
    return lastSeen;
  }
}

/**
 * Judge every holder: those that answered, in order (marking the
 * attested); only the silent ones need the network again (a ping), at
 * most `concurrentTransfers` at once.
 */
async function judgeHolders(
  ctx: ServiceContext,
  found: {
    id: TesseraId;
    byPeer: HoldersByPeer;
    /** Per peer, its check, or `null` when not due (trusted). */
    checks: readonly (AttestationCheck | null)[];
    now: number;
  },
  options: IoOptions,
): Promise<HolderCheck[]> {
  const { id, byPeer, checks, now } = found;
  const holders = new Array<HolderCheck>(byPeer.peers.length);
  const silent: number[] = [], unaudited: number[] = [];
  for (let n = 0; n < byPeer.peers.length; n++) {
    const peerId = byPeer.peers[n], check = checks[n];
    if (check === null) {
      unaudited.push(n);
      continue;
    }
    if (check.answered) ctx.liveness.heard(peerId, now);
    if (check.authentic && check.proven.length > 0) {
      await ctx.holders.markAttested(id, { peerId, at: now });
    }
    const answered = answeredCheck(check, byPeer.indices[n], peerId);
    if (answered) holders[n] = answered;
    else silent.push(n);
  }
  await mapPool([...unaudited, ...silent], async (n) => {
    const check = checks[n];
    holders[n] = check === null
      ? await unauditedCheck(ctx, { byPeer, n, now }, options)
      : await silentCheck(ctx, { byPeer, n, check, now }, options);
  }, { limit: ctx.config.concurrentTransfers });
  return holders;
}

/**
 * A holder the schedule did not challenge: `trusted` on its proven
 * record while it is up (one ping per peer per sweep, however many of
 * our tesseras it holds), else on grace or unreachable like a silent
 * one. So a holder that left is found at the first sweep after it left
 * (and its grace), not at its next audit.
 */
async function unauditedCheck(
  ctx: ServiceContext,
  holder: { byPeer: HoldersByPeer; n: number; now: number },
  options: IoOptions,
): Promise<HolderCheck> {
  const { byPeer, n, now } = holder;
  const peerId = byPeer.peers[n], indices = byPeer.indices[n];
  const up = await ctx.liveness.alive(ctx.dht, {
    peer: peerId,
    // Heard from in this sweep (another tessera it holds): no new ping.
    since: now - ctx.config.repairIntervalMs / 2,
    now: () => ctx.clock.now(),
  }, options);
  if (up) {
    return {
      peerId,
      indices,
      status: "trusted",
      answered: false,
      liveIndices: indices,
      reason: "not due for an audit (proven record); answers ping",
    };
  }
  return unreachableCheck(ctx, holder, "does not answer ping");
}

/** The verdict on a holder that answered; `null` for a silent one. */
function answeredCheck(
  check: AttestationCheck,
  indices: readonly number[],
  peerId: PeerId,
): HolderCheck | null {
  if (check.authentic) {
    const status = check.failed.length === 0
      ? "attested"
      : check.proven.length > 0
      ? "partial"
      : "failed";
    return {
      peerId,
      indices,
      status,
      answered: true,
      liveIndices: check.proven,
      ...(check.reason ? { reason: check.reason } : {}),
    };
  }
  if (!check.answered) return null;
  // It answered, but not authentically: alive and lying or broken.
  return {
    peerId,
    indices,
    status: "failed",
    answered: true,
    liveIndices: [],
    reason: check.reason ?? "invalid attestation",
  };
}

/**
 * A silent holder: failed when it answers ping (up, yet cannot prove),
 * kept on grace when attested recently enough, else unreachable.
 */
async function silentCheck(
  ctx: ServiceContext,
  holder: {
    byPeer: HoldersByPeer;
    n: number;
    check: AttestationCheck;
    now: number;
  },
  options: IoOptions,
): Promise<HolderCheck> {
  const { byPeer, n, check } = holder;
  const { signal } = options;
  const peerId = byPeer.peers[n], indices = byPeer.indices[n];
  let pingable = false;
  try {
    await ctx.dht.ping(peerId, { signal });
    pingable = true;
    ctx.liveness.heard(peerId, ctx.clock.now());
  } catch {
    signal?.throwIfAborted();
    ctx.liveness.missed(peerId, ctx.clock.now());
  }
  if (pingable) {
    return {
      peerId,
      indices,
      status: "failed",
      answered: false,
      liveIndices: [],
      pingable,
      reason: `answers ping but not the attestation (${check.reason})`,
    };
  }
  return unreachableCheck(ctx, holder, check.reason);
}

/**
 * A holder that answers nothing: on grace until `graceMs` after it was
 * first found silent since it was last heard from (or proved, or
 * stored), else unreachable. From the first silence, not the last
 * answer: an absence is judged by its length, not by where it fell
 * between two sweeps (docs/stewards.md).
 */
function unreachableCheck(
  ctx: ServiceContext,
  holder: { byPeer: HoldersByPeer; n: number; now: number },
  reason: string | undefined,
): HolderCheck {
  const { byPeer, n, now } = holder;
  const peerId = byPeer.peers[n], indices = byPeer.indices[n];
  const lastSeen = Math.max(byPeer.lastSeen(n), ctx.liveness.heardAt(peerId));
  // Fields in the order the report has always listed them.
  const held = (status: HolderCheck["status"], liveIndices: number[]) => ({
    peerId,
    indices,
    status,
    answered: false,
    liveIndices,
    pingable: false,
  });
  const silentSince = Math.max(lastSeen, ctx.liveness.silentSince(peerId));
  if (ctx.graceMs > 0 && now - silentSince <= ctx.graceMs) {
    return {
      ...held("grace", indices),
      reason: `unreachable; last seen ${now - lastSeen} ms ago`,
    };
  }
  return { ...held("unreachable", []), ...(reason ? { reason } : {}) };
}

/** Local shards of the tessera that fail verification. */
async function corruptLocalShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions,
): Promise<number[]> {
  const corrupt: number[] = [];
  for (const f of await ctx.fragments.list(id, options)) {
    if (!(await ctx.fragments.verify(id, f.index, options))) {
      corrupt.push(f.index);
    }
  }
  return corrupt;
}
