/**
 * The push engine shared by replication and repair: assign shards to
 * diverse peers, push them with a bounded number in flight, and replace
 * peers that refuse or fail with the next diverse candidates.
 *
 * @module
 */
import {
  type Fragment,
  type FragmentPlan,
  type IoOptions,
  isTesserasError,
  isWholeCopy,
  type PeerBalance,
  type PeerId,
  type PeerInfo,
  type TesseraId,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import { planPlacement } from "./distributor.ts";
import { BACKOFF_CODES, rankCandidates } from "./standing.ts";
import { type Acknowledged, spotCheck } from "./spot_check.ts";
import { subnetOf } from "./subnet.ts";
import type { PushFailure, ReplicationProgress } from "./types.ts";

/** Internal: what to push. */
export interface PushRequest {
  readonly tesseraId: TesseraId;
  readonly plan: FragmentPlan;
  /**
   * Loads a fragment when its push starts, so at most
   * `concurrentTransfers` shards are in memory at once.
   */
  readonly load: (index: number, options: IoOptions) => Promise<Fragment>;
  /** Medium/Large: indices to place. */
  readonly indices?: readonly number[];
  /** Small: copies to place. */
  readonly copies?: number;
  /** Live holders: they count against the subnet cap and are not picked. */
  readonly existing?: readonly PeerInfo[];
  /** Peers never to use. */
  readonly exclude?: Iterable<PeerId>;
  /**
   * Medium/Large: when no fresh peer is left, shards may go to these
   * (existing holders) — fewer distinct peers, but no shard left out.
   */
  readonly overflow?: readonly PeerInfo[];
  /**
   * Rounds of spot checks of fresh holders, each followed by placing
   * again what they could not show (default 1; 0 skips the check).
   */
  readonly spotChecks?: number;
}

/** Internal: what the push did. */
export interface PushResult {
  readonly placed: { index: number; peer: PeerInfo }[];
  readonly unplaced: number[];
  readonly failures: PushFailure[];
  readonly bytesSent: number;
  readonly candidates: readonly PeerInfo[];
}

interface Slot {
  peer: PeerInfo;
  /** Shards this slot's peer has accepted. */
  held: number;
  /** The slot that took over when this one's peer failed. */
  next?: Slot;
}

interface Job {
  readonly index: number;
  slot: Slot;
}

/** Internal: place and push. */
export async function pushShards(
  ctx: ServiceContext,
  req: PushRequest,
  options: IoOptions & {
    readonly onProgress?: (p: ReplicationProgress) => void;
  } = {},
): Promise<PushResult> {
  const { signal } = options;
  const small = isWholeCopy(req.plan);
  const needed = small
    ? req.copies ?? ctx.config.smallReplicas
    : (req.indices ?? []).length;
  // Existing and excluded holders are among the closest too: ask past them.
  const exclude = [...(req.exclude ?? [])];
  const count = ctx.candidateCount ??
    2 * needed + 8 + (req.existing?.length ?? 0) + exclude.length;
  const found = needed === 0
    ? []
    : await ctx.dht.findClosestPeers(req.tesseraId, count, { signal });
  const candidates = found.filter((p) => p.id !== ctx.selfId);
  const known = new Map(candidates.map((p) => [p.id, p]));
  const excluded = new Set<PeerId>(exclude);
  excluded.add(ctx.selfId);
  // Peers that refused shards this large, or lied, are left out until
  // their back-off or ban ends; the rest are tried in reciprocity order
  // (see `rankCandidates`).
  const standing = ctx.standing;
  const credits = await creditsOf(ctx);
  const rank = (peers: readonly PeerInfo[]) =>
    rankCandidates(peers, {
      standing,
      credits,
      size: req.plan.shardSize,
      tolerance: ctx.config.deficitToleranceBytes,
      at: ctx.clock.now(),
    });
  const { usable, avoided } = rank(candidates);
  // When the closest peers refuse (or are backing off), look further
  // once: a peer that owns much uses up its credit with its closest
  // peers first, and shards left unplaced may leave a tessera short of
  // `dataShards`.
  let widened: Promise<void> | null = null;
  const widen = (): Promise<void> =>
    widened ??= (async () => {
      const more = await ctx.dht.findClosestPeers(
        req.tesseraId,
        Math.max(4 * count, 64),
        { signal },
      );
      const seen = new Set(candidates.map((p) => p.id));
      const fresh = more.filter((p) => p.id !== ctx.selfId && !seen.has(p.id));
      const ranked = rank(fresh);
      for (const p of fresh) known.set(p.id, p);
      for (const id of ranked.avoided) avoided.add(id);
      usable.push(...ranked.usable);
    })();
  const free = () =>
    usable.filter((p) =>
      !excluded.has(p.id) && !(req.existing ?? []).some((e) => e.id === p.id)
    ).length;
  if (needed > 0 && free() < needed) await widen();
  // Holders whose IP we did not record may still be among the candidates.
  const existing = (req.existing ?? []).map((p) =>
    p.ip === undefined && known.get(p.id)?.ip !== undefined
      ? known.get(p.id)!
      : p
  );
  const placement = planPlacement(req.plan, usable, {
    maxPerSubnet: ctx.config.maxPerSubnet,
    smallReplicas: ctx.config.smallReplicas,
    copies: needed,
    indices: req.indices,
    existing,
    exclude: excluded,
  });

  const slots = new Map<PeerId, Slot>();
  const jobs: Job[] = [];
  for (const a of placement.assignments) {
    let slot = slots.get(a.peer.id);
    if (!slot) slots.set(a.peer.id, slot = { peer: a.peer, held: 0 });
    jobs.push({ index: a.index, slot });
  }
  const failed = new Set<PeerId>();
  const overflow = [...(req.overflow ?? [])].filter((p) =>
    !excluded.has(p.id) && !avoided.has(p.id)
  );
  const overflowLoad = new Map<PeerId, number>();
  const onOverflow = (): Slot | undefined => {
    const o =
      overflow.filter((p) => !failed.has(p.id)).sort((a, b) =>
        (overflowLoad.get(a.id) ?? 0) - (overflowLoad.get(b.id) ?? 0)
      )[0];
    if (!o) return undefined;
    overflowLoad.set(o.id, (overflowLoad.get(o.id) ?? 0) + 1);
    let s = slots.get(o.id);
    if (!s) slots.set(o.id, s = { peer: o, held: 0 });
    return s;
  };
  const unplaced: number[] = [];
  // No fresh peer at all: fold onto existing holders, least loaded first.
  for (const index of placement.unplaced) {
    const slot = small ? undefined : onOverflow();
    if (slot) jobs.push({ index, slot });
    else unplaced.push(index);
  }
  const used = new Set<PeerId>([...excluded, ...slots.keys()]);
  for (const p of existing) used.add(p.id);

  const placed: { index: number; peer: PeerInfo }[] = [];
  const acked: Acknowledged[] = [];
  const failures: PushFailure[] = [];
  let bytesSent = 0;
  let shardsDone = 0;
  const shardsTotal = jobs.length + unplaced.length;
  const bytesTotal = jobs.length * req.plan.shardSize;
  const progress = () =>
    options.onProgress?.({
      shardsDone,
      shardsTotal,
      bytesDone: bytesSent,
      bytesTotal,
    });

  /** Peers that hold or will hold shards: they count against the cap. */
  const subnetCounts = (): Map<string, number> => {
    const counts = new Map<string, number>();
    const seen = new Set<PeerId>();
    const add = (p: PeerInfo) => {
      if (seen.has(p.id)) return;
      seen.add(p.id);
      const k = subnetOf(p);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    };
    existing.forEach(add);
    for (const s of slots.values()) {
      if (!failed.has(s.peer.id) || s.held > 0) add(s.peer);
    }
    for (const p of placed) add(p.peer);
    return counts;
  };

  const hasFresh = (): boolean => {
    const counts = subnetCounts();
    return usable.some((p) =>
      !used.has(p.id) &&
      (counts.get(subnetOf(p)) ?? 0) < ctx.config.maxPerSubnet
    );
  };

  const nextFresh = (): PeerInfo | undefined => {
    const counts = subnetCounts();
    for (const p of usable) {
      if (used.has(p.id)) continue;
      if ((counts.get(subnetOf(p)) ?? 0) >= ctx.config.maxPerSubnet) continue;
      used.add(p.id);
      return p;
    }
    return undefined;
  };

  /** A new home for a job whose peer refused: fresh, else another slot. */
  const rehome = (job: Job): boolean => {
    // Jobs in flight to a peer that failed follow its replacement.
    let dead = job.slot;
    while (dead.next) dead = dead.next;
    if (!failed.has(dead.peer.id)) {
      job.slot = dead;
      return true;
    }
    const fresh = nextFresh();
    if (fresh) {
      const slot: Slot = { peer: fresh, held: 0 };
      slots.set(fresh.id, slot);
      dead.next = slot;
      // Move every queued job of the dead slot along with this one.
      for (const j of queue) if (j.slot === dead) j.slot = slot;
      job.slot = slot;
      return true;
    }
    if (small) return false;
    // Round-robin onto the live slot with the fewest shards, then onto
    // existing holders: fewer distinct peers, but no shard left behind.
    let best: Slot | undefined;
    let bestLoad = Infinity;
    const load = (s: Slot) => s.held + queue.filter((j) => j.slot === s).length;
    for (const s of slots.values()) {
      if (failed.has(s.peer.id)) continue;
      const l = load(s);
      if (l < bestLoad) [best, bestLoad] = [s, l];
    }
    if (!best) best = onOverflow();
    if (!best) return false;
    job.slot = best;
    return true;
  };

  const queue: Job[] = [...jobs];
  const worker = async () => {
    while (queue.length > 0) {
      signal?.throwIfAborted();
      const job = queue.shift()!;
      const peer = job.slot.peer;
      if (failed.has(peer.id)) {
        if (!hasFresh()) await widen();
        if (rehome(job)) queue.unshift(job);
        else {
          unplaced.push(job.index);
          shardsDone++;
          progress();
        }
        continue;
      }
      let code = "";
      let reason = "";
      // A local failure to produce the bytes is ours, not the peer's.
      const fragment = await req.load(job.index, { signal });
      try {
        const ack = await ctx.dht.replicate(peer.id, {
          fragment: fragment.id,
          plan: req.plan,
          originalSize: req.plan.size,
          fragmentSize: fragment.data.length,
          data: fragment.data,
        }, { signal });
        if (ack.accepted) {
          standing.accepted(peer.id);
          standing.placed(
            peer.id,
            `${req.tesseraId}/${job.index}`,
            fragment.data.length,
          );
          job.slot.held++;
          placed.push({ index: job.index, peer });
          acked.push({
            index: job.index,
            peer,
            checksum: fragment.id.checksum,
            bytes: fragment.data.length,
          });
          await ctx.ledger.recordTheyStoreForUs(peer.id, fragment.data.length);
          await ctx.holders.addHolder(req.tesseraId, {
            index: job.index,
            peerId: peer.id,
            ...(peer.ip !== undefined ? { ip: peer.ip } : {}),
          });
          bytesSent += fragment.data.length;
          shardsDone++;
          progress();
          continue;
        }
        code = ack.errorCode ?? "REFUSED";
        reason = ack.reason ?? "refused";
      } catch (e) {
        signal?.throwIfAborted();
        code = isTesserasError(e) ? e.code : "UNREACHABLE";
        reason = e instanceof Error ? e.message : String(e);
      }
      failures.push({ peerId: peer.id, index: job.index, code, reason });
      if (BACKOFF_CODES.has(code)) {
        standing.refused(peer.id, {
          code,
          size: fragment.data.length,
          at: ctx.clock.now(),
          credit: creditOf(await ctx.ledger.get(peer.id)),
        });
      }
      ctx.log.info("peer {peer} did not take shard {index}: {code}", {
        peer: peer.id,
        index: job.index,
        tessera: req.tesseraId,
        code,
        reason,
      });
      failed.add(peer.id);
      if (!hasFresh()) await widen();
      if (rehome(job)) queue.unshift(job);
      else {
        unplaced.push(job.index);
        shardsDone++;
        progress();
      }
    }
  };
  // Large shards also count against the byte budget (at least two).
  const byBytes = req.plan.shardSize > 0
    ? Math.max(2, Math.floor(ctx.transferBudget / req.plan.shardSize))
    : Infinity;
  const workers = Math.max(
    1,
    Math.min(ctx.config.concurrentTransfers, byBytes),
  );
  const results = await Promise.allSettled(
    Array.from({ length: workers }, worker),
  );
  for (const r of results) if (r.status === "rejected") throw r.reason;
  let result: PushResult = {
    placed,
    unplaced,
    failures,
    bytesSent,
    candidates,
  };
  if ((req.spotChecks ?? 1) > 0 && acked.length > 0) {
    result = await replaceMissing(ctx, req, result, acked, { signal });
  }
  result.unplaced.sort((a, b) => a - b);
  result.placed.sort((a, b) =>
    a.index - b.index || (a.peer.id < b.peer.id ? -1 : 1)
  );
  return result;
}

/**
 * Spot-check the holders that just acknowledged shards and place again
 * what they could not show (see spot_check.ts), away from them.
 */
async function replaceMissing(
  ctx: ServiceContext,
  req: PushRequest,
  first: PushResult,
  acked: readonly Acknowledged[],
  options: IoOptions,
): Promise<PushResult> {
  const { missing, liars } = await spotCheck(ctx, {
    tesseraId: req.tesseraId,
    acked,
  }, options);
  if (missing.length === 0) return first;
  const gone = new Set(missing.map((m) => `${m.index}/${m.peer.id}`));
  const kept = first.placed.filter((p) => !gone.has(`${p.index}/${p.peer.id}`));
  const failures = [
    ...first.failures,
    ...missing.map((m) => ({
      peerId: m.peer.id,
      index: m.index,
      code: "NOT_STORED",
      reason: "acknowledged the shard but could not show it right after",
    })),
  ];
  const small = isWholeCopy(req.plan);
  const holders = new Map<PeerId, PeerInfo>();
  for (const p of [...(req.existing ?? []), ...kept.map((k) => k.peer)]) {
    holders.set(p.id, p);
  }
  const again = await pushShards(ctx, {
    ...req,
    ...(small
      ? { copies: missing.length }
      : { indices: [...new Set(missing.map((m) => m.index))] }),
    existing: [...holders.values()],
    exclude: [
      ...(req.exclude ?? []),
      ...liars.map((p) => p.id),
      ...missing.map((m) => m.peer.id),
    ],
    spotChecks: (req.spotChecks ?? 1) - 1,
  }, options);
  return {
    placed: [...kept, ...again.placed],
    unplaced: [...first.unplaced, ...again.unplaced],
    failures: [...failures, ...again.failures],
    bytesSent: first.bytesSent - missing.reduce((n, m) => n + m.bytes, 0) +
      again.bytesSent,
    candidates: first.candidates,
  };
}

/** Our credit with a peer: bytes we store for it beyond what it stores for us. */
function creditOf(row: PeerBalance | null): number {
  return row ? row.bytesStoredForThem - row.bytesTheyStoreForUs : 0;
}

/** Our credit with every peer in the ledger. */
async function creditsOf(ctx: ServiceContext): Promise<Map<PeerId, number>> {
  const out = new Map<PeerId, number>();
  for (const row of await ctx.ledger.list()) out.set(row.peerId, creditOf(row));
  return out;
}
