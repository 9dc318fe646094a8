/**
 * The push engine shared by replication and repair: assign shards to
 * diverse peers, push them with a bounded number in flight, and replace
 * peers that refuse or fail with the next diverse candidates.
 *
 * `pushShards` reads as its steps: find and rank the candidates
 * ({@linkcode Candidates}), assign the shards to them (`planPlacement`),
 * push with a few workers ({@linkcode PushRun}), then spot-check the new
 * holders and place again what they could not show.
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
  type SignedManifest,
  type TesseraId,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import { type Placement, planPlacement, SubnetTally } from "./distributor.ts";
import { BACKOFF_CODES, rankCandidates } from "./standing.ts";
import { type Acknowledged, spotCheck } from "./spot_check.ts";
import type { PushFailure, ReplicationProgress } from "./types.ts";
import { manifestToSend } from "./manifest_check.ts";
import type { OutgoingShard } from "./own_shards.ts";

/** Internal: what to push. */
export interface PushRequest {
  readonly tesseraId: TesseraId;
  readonly plan: FragmentPlan;
  /**
   * Loads a fragment when its push starts, so at most
   * `concurrentTransfers` shards (or `transfersPerHolder` per holder,
   * within the transfer budget) are in memory at once.
   */
  readonly load: (index: number, options: IoOptions) => Promise<Fragment>;
  /**
   * A large shard to read as it is sent instead (when the DHT
   * `sendsShardParts`), so no push holds a whole shard; `undefined`:
   * `load` it.
   */
  readonly parts?: (index: number) => OutgoingShard | undefined;
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
  /** The owner's signed manifest, sent with every shard. */
  readonly manifest?: SignedManifest;
}

/** Internal: what the push did. */
export interface PushResult {
  readonly placed: { index: number; peer: PeerInfo }[];
  readonly unplaced: number[];
  readonly failures: PushFailure[];
  readonly bytesSent: number;
  readonly candidates: readonly PeerInfo[];
}

/** Options of {@linkcode pushShards}. */
type PushOptions = IoOptions & {
  readonly onProgress?: (p: ReplicationProgress) => void;
};

/** Internal: place and push. */
export async function pushShards(
  ctx: ServiceContext,
  req: PushRequest,
  options: PushOptions = {},
): Promise<PushResult> {
  const needed = isWholeCopy(req.plan)
    ? req.copies ?? ctx.config.smallReplicas
    : (req.indices ?? []).length;
  const manifest = req.manifest ??
    await manifestToSend(ctx, req.tesseraId, options);
  if (manifest !== undefined) req = { ...req, manifest };
  const candidates = await Candidates.find(ctx, req, {
    needed,
    signal: options.signal,
  });
  const placement = planPlacement(req.plan, candidates.usable, {
    maxPerSubnet: ctx.config.maxPerSubnet,
    smallReplicas: ctx.config.smallReplicas,
    copies: needed,
    indices: req.indices,
    existing: candidates.existing,
    exclude: candidates.excluded,
  });
  const run = new PushRun(ctx, req, { candidates, placement, options });
  let result = await run.pushAll();
  if ((req.spotChecks ?? 1) > 0 && run.acked.length > 0) {
    result = await replaceMissing(ctx, req, {
      first: result,
      acked: run.acked,
    }, options);
  }
  result.unplaced.sort((a, b) => a - b);
  result.placed.sort((a, b) =>
    a.index - b.index || (a.peer.id < b.peer.id ? -1 : 1)
  );
  return result;
}

/**
 * The peers a push may use: the closest ones, ranked by reciprocity
 * (peers that refused shards this large, or lied, are avoided until their
 * back-off or ban ends), widened once to farther peers when the closest
 * fall short or refuse.
 */
class Candidates {
  readonly #ctx: ServiceContext;
  readonly #req: PushRequest;
  readonly #signal: AbortSignal | undefined;
  readonly #count: number;
  readonly #rank: (peers: readonly PeerInfo[]) => {
    usable: PeerInfo[];
    avoided: Set<PeerId>;
  };
  /** What the first lookup found (self excluded). */
  readonly found: readonly PeerInfo[];
  /** Every peer seen, by id (for the IPs of existing holders). */
  readonly #known: Map<PeerId, PeerInfo>;
  /** Peers to try, in order; grows when widened. */
  readonly usable: PeerInfo[];
  /** Peers backing off or banned. */
  readonly avoided: Set<PeerId>;
  /** Peers never to use (ourselves included). */
  readonly excluded: Set<PeerId>;
  /** Live holders, with the IPs the first lookups know. */
  existing: readonly PeerInfo[] = [];
  #widened: Promise<void> | null = null;

  /** Look up, rank, and widen at once when too few are free. */
  static async find(
    ctx: ServiceContext,
    req: PushRequest,
    options: IoOptions & { readonly needed: number },
  ): Promise<Candidates> {
    const { needed, signal } = options;
    // Existing and excluded holders are among the closest too: ask past them.
    const exclude = [...(req.exclude ?? [])];
    const count = ctx.candidateCount ??
      2 * needed + 8 + (req.existing?.length ?? 0) + exclude.length;
    const found = needed === 0
      ? []
      : await ctx.dht.findClosestPeers(req.tesseraId, count, { signal });
    const credits = await creditsOf(ctx);
    const c = new Candidates(ctx, req, {
      found: found.filter((p) => p.id !== ctx.selfId),
      exclude,
      count,
      credits,
      signal,
    });
    if (needed > 0 && c.#free() < needed) await c.widen();
    // Holders whose IP we did not record may still be among the candidates.
    c.existing = (req.existing ?? []).map((p) =>
      p.ip === undefined && c.#known.get(p.id)?.ip !== undefined
        ? c.#known.get(p.id)!
        : p
    );
    return c;
  }

  private constructor(
    ctx: ServiceContext,
    req: PushRequest,
    init: {
      found: PeerInfo[];
      exclude: PeerId[];
      count: number;
      credits: Map<PeerId, number>;
      signal: AbortSignal | undefined;
    },
  ) {
    this.#ctx = ctx;
    this.#req = req;
    this.#signal = init.signal;
    this.#count = init.count;
    this.found = init.found;
    this.#known = new Map(init.found.map((p) => [p.id, p]));
    this.excluded = new Set([...init.exclude, ctx.selfId]);
    this.#rank = (peers) =>
      rankCandidates(peers, {
        standing: ctx.standing,
        credits: init.credits,
        size: req.plan.shardSize,
        tolerance: ctx.config.deficitToleranceBytes,
        at: ctx.clock.now(),
      });
    const { usable, avoided } = this.#rank(init.found);
    this.usable = usable;
    this.avoided = avoided;
  }

  /** Usable peers neither excluded nor holding already. */
  #free(): number {
    const existing = this.#req.existing ?? [];
    return this.usable.filter((p) =>
      !this.excluded.has(p.id) && !existing.some((e) => e.id === p.id)
    ).length;
  }

  /**
   * Look further, once: a peer that owns much uses up its credit with its
   * closest peers first, and shards left unplaced may leave a tessera
   * short of `dataShards`.
   */
  widen(): Promise<void> {
    return this.#widened ??= (async () => {
      const more = await this.#ctx.dht.findClosestPeers(
        this.#req.tesseraId,
        Math.max(4 * this.#count, 64),
        { signal: this.#signal },
      );
      const seen = new Set(this.found.map((p) => p.id));
      const fresh = more.filter((p) =>
        p.id !== this.#ctx.selfId && !seen.has(p.id)
      );
      const ranked = this.#rank(fresh);
      for (const p of fresh) this.#known.set(p.id, p);
      for (const id of ranked.avoided) this.avoided.add(id);
      this.usable.push(...ranked.usable);
    })();
  }
}

/** One peer taking shards; `next` is the slot that took over when it failed. */
interface Slot {
  readonly peer: PeerInfo;
  /** Shards this slot's peer has accepted. */
  held: number;
  /** Pushes to it not answered yet: it may still take them. */
  sending: number;
  next?: Slot;
}

/** One shard to push, and the slot it goes to now. */
interface Job {
  readonly index: number;
  slot: Slot;
}

/**
 * The pushes of one placement: jobs queued per slot, a few workers
 * pushing, failed peers replaced by fresh diverse peers, else by the
 * least loaded live slot or an existing holder.
 */
class PushRun {
  readonly #ctx: ServiceContext;
  readonly #req: PushRequest;
  readonly #candidates: Candidates;
  readonly #options: PushOptions;
  readonly #slots = new Map<PeerId, Slot>();
  readonly #queue: Job[] = [];
  /** Shards being loaded or pushed, per peer. */
  readonly #inFlight = new Map<PeerId, number>();
  readonly #failed = new Set<PeerId>();
  /** Peers picked or excluded: never picked again. */
  readonly #used: Set<PeerId>;
  readonly #overflow: Overflow;
  readonly #placed: { index: number; peer: PeerInfo }[] = [];
  readonly #unplaced: number[] = [];
  readonly #failures: PushFailure[] = [];
  readonly #shardsTotal: number;
  readonly #bytesTotal: number;
  #bytesSent = 0;
  #shardsDone = 0;
  /** What fresh holders acknowledged, for the spot check. */
  readonly acked: Acknowledged[] = [];

  constructor(
    ctx: ServiceContext,
    req: PushRequest,
    init: {
      candidates: Candidates;
      placement: Placement;
      options: PushOptions;
    },
  ) {
    this.#ctx = ctx;
    this.#req = req;
    this.#candidates = init.candidates;
    this.#options = init.options;
    const { excluded, avoided } = init.candidates;
    this.#overflow = new Overflow(
      (req.overflow ?? []).filter((p) =>
        !excluded.has(p.id) && !avoided.has(p.id)
      ),
    );
    for (const a of init.placement.assignments) {
      this.#queue.push({ index: a.index, slot: this.#slotOf(a.peer) });
    }
    // No fresh peer at all: fold onto existing holders, least loaded first.
    for (const index of init.placement.unplaced) {
      const slot = isWholeCopy(req.plan) ? undefined : this.#overflowSlot();
      if (slot) this.#queue.push({ index, slot });
      else this.#unplaced.push(index);
    }
    this.#used = new Set<PeerId>([...excluded, ...this.#slots.keys()]);
    for (const p of init.candidates.existing) this.#used.add(p.id);
    this.#shardsTotal = this.#queue.length + this.#unplaced.length;
    this.#bytesTotal = this.#queue.length * req.plan.shardSize;
  }

  #slotOf(peer: PeerInfo): Slot {
    let slot = this.#slots.get(peer.id);
    if (!slot) this.#slots.set(peer.id, slot = { peer, held: 0, sending: 0 });
    return slot;
  }

  #overflowSlot(): Slot | undefined {
    const o = this.#overflow.next(this.#failed);
    return o ? this.#slotOf(o) : undefined;
  }

  /** Push every job with a few workers; the result before spot checks. */
  async pushAll(): Promise<PushResult> {
    const { plan } = this.#req;
    // Large shards also count against the byte budget (at least two).
    const byBytes = plan.shardSize > 0
      ? Math.max(2, Math.floor(this.#ctx.transferBudget / plan.shardSize))
      : Infinity;
    const { concurrentTransfers, transfersPerHolder } = this.#ctx.config;
    const cap = transfersPerHolder > 0
      ? transfersPerHolder * this.#slots.size
      : concurrentTransfers;
    const workers = Math.max(1, Math.min(cap, byBytes));
    const results = await Promise.allSettled(
      Array.from({ length: workers }, () => this.#work()),
    );
    for (const r of results) if (r.status === "rejected") throw r.reason;
    return {
      placed: this.#placed,
      unplaced: this.#unplaced,
      failures: this.#failures,
      bytesSent: this.#bytesSent,
      candidates: this.#candidates.found,
    };
  }

  /** One worker: take jobs until the queue is empty. */
  async #work(): Promise<void> {
    const signal = this.#options.signal;
    while (this.#queue.length > 0) {
      signal?.throwIfAborted();
      const job = this.#take();
      // Every holder left is at its share: the workers pushing to them
      // take what remains.
      if (job === undefined) return;
      if (this.#failed.has(job.slot.peer.id)) {
        await this.#requeue(job);
        continue;
      }
      const peer = job.slot.peer.id;
      this.#inFlight.set(peer, (this.#inFlight.get(peer) ?? 0) + 1);
      let refusal: { code: string; reason: string } | null;
      let fragment: OutgoingShard;
      try {
        // A local failure to produce the bytes is ours, not the peer's.
        fragment = await this.#outgoing(job.index, signal);
        refusal = await this.#push(job, fragment);
      } finally {
        this.#inFlight.set(peer, this.#inFlight.get(peer)! - 1);
      }
      if (!refusal) continue;
      await this.#refused(job, { fragment, ...refusal });
      this.#failed.add(job.slot.peer.id);
      await this.#requeue(job);
    }
  }

  /**
   * The next job, of the holder with the fewest shards in flight (queue
   * order among equals; rehomed jobs sit at the head): two in flight to
   * one holder while another idles share that holder's link and disk. With
   * `transfersPerHolder`, none for a holder that has that many in flight.
   */
  #take(): Job | undefined {
    let best = 0;
    let bestLoad = Infinity;
    for (let i = 0; i < this.#queue.length && bestLoad > 0; i++) {
      const load = this.#inFlight.get(this.#queue[i].slot.peer.id) ?? 0;
      if (load < bestLoad) [best, bestLoad] = [i, load];
    }
    const perHolder = this.#ctx.config.transfersPerHolder;
    if (perHolder > 0 && bestLoad >= perHolder) return undefined;
    return this.#queue.splice(best, 1)[0];
  }

  /** The shard to push: read as it goes when the DHT can, else loaded. */
  async #outgoing(
    index: number,
    signal: AbortSignal | undefined,
  ): Promise<OutgoingShard> {
    const streamed = this.#ctx.dht.sendsShardParts
      ? this.#req.parts?.(index)
      : undefined;
    if (streamed) return streamed;
    const { id, data } = await this.#req.load(index, { signal });
    return { id, size: data.length, data };
  }

  /** Push one shard; `null` when taken, else the refusal. */
  async #push(
    job: Job,
    fragment: OutgoingShard,
  ): Promise<{ code: string; reason: string } | null> {
    const slot = job.slot;
    const { peer } = slot;
    const signal = this.#options.signal;
    let answered = false;
    slot.sending++;
    try {
      const ack = await this.#ctx.dht.replicate(peer.id, {
        fragment: fragment.id,
        plan: this.#req.plan,
        originalSize: this.#req.plan.size,
        fragmentSize: fragment.size,
        data: fragment.data ?? new Uint8Array(0),
        ...(fragment.parts ? { parts: fragment.parts } : {}),
        ...(this.#req.manifest ? { manifest: this.#req.manifest } : {}),
      }, { signal });
      // Counted down before anything else runs, so no other push sees
      // this one neither in flight nor held.
      answered = true;
      slot.sending--;
      if (ack.accepted) {
        await this.#accepted(job, fragment);
        return null;
      }
      return {
        code: ack.errorCode ?? "REFUSED",
        reason: ack.reason ?? "refused",
      };
    } catch (e) {
      if (!answered) slot.sending--;
      signal?.throwIfAborted();
      // Our shard could not be read as it went out: ours, as a failed load.
      if (fragment.parts && isTesserasError(e, "STORAGE_ERROR")) throw e;
      return {
        code: isTesserasError(e) ? e.code : "UNREACHABLE",
        reason: e instanceof Error ? e.message : String(e),
      };
    }
  }

  /** The peer took the shard: standing, ledger, registry, progress. */
  async #accepted(job: Job, fragment: OutgoingShard): Promise<void> {
    const { ctx, peer, bytes } = {
      ctx: this.#ctx,
      peer: job.slot.peer,
      bytes: fragment.size,
    };
    const tesseraId = this.#req.tesseraId;
    ctx.standing.accepted(peer.id);
    ctx.standing.placed(peer.id, `${tesseraId}/${job.index}`, bytes);
    job.slot.held++;
    this.#placed.push({ index: job.index, peer });
    this.acked.push({
      index: job.index,
      peer,
      checksum: fragment.id.checksum,
      bytes,
    });
    await ctx.ledger.recordTheyStoreForUs(peer.id, bytes);
    await ctx.holders.addHolder(tesseraId, {
      index: job.index,
      peerId: peer.id,
      ...(peer.ip !== undefined ? { ip: peer.ip } : {}),
    });
    this.#bytesSent += bytes;
    this.#done();
  }

  /** Note a refusal: failures, back-off for the refusal codes, log. */
  async #refused(
    job: Job,
    refusal: { fragment: OutgoingShard; code: string; reason: string },
  ): Promise<void> {
    const { code, reason, fragment } = refusal;
    const ctx = this.#ctx;
    const peer = job.slot.peer;
    this.#failures.push({ peerId: peer.id, index: job.index, code, reason });
    if (BACKOFF_CODES.has(code)) {
      ctx.standing.refused(peer.id, {
        code,
        size: fragment.size,
        at: ctx.clock.now(),
        credit: creditOf(await ctx.ledger.get(peer.id)),
      });
    }
    ctx.log.info("peer {peer} did not take shard {index}: {code}", {
      peer: peer.id,
      index: job.index,
      tessera: this.#req.tesseraId,
      code,
      reason,
    });
  }

  /** A job whose peer failed: a new home at the queue's head, or unplaced. */
  async #requeue(job: Job): Promise<void> {
    if (!this.#hasFresh()) await this.#candidates.widen();
    if (this.#rehome(job)) this.#queue.unshift(job);
    else {
      this.#unplaced.push(job.index);
      this.#done();
    }
  }

  #done(): void {
    this.#shardsDone++;
    this.#options.onProgress?.({
      shardsDone: this.#shardsDone,
      shardsTotal: this.#shardsTotal,
      bytesDone: this.#bytesSent,
      bytesTotal: this.#bytesTotal,
    });
  }

  /** Peers that hold or will hold shards: they count against the cap. */
  #tally(): SubnetTally {
    const tally = new SubnetTally(
      this.#ctx.config.maxPerSubnet,
      this.#candidates.existing,
    );
    for (const s of this.#slots.values()) {
      // A peer that failed one push may still take another in flight.
      const counts = !this.#failed.has(s.peer.id) || s.held > 0 ||
        s.sending > 0;
      if (counts) tally.add(s.peer);
    }
    for (const p of this.#placed) tally.add(p.peer);
    return tally;
  }

  #hasFresh(): boolean {
    const tally = this.#tally();
    return this.#candidates.usable.some((p) =>
      !this.#used.has(p.id) && tally.fits(p)
    );
  }

  #nextFresh(): PeerInfo | undefined {
    const tally = this.#tally();
    const p = this.#candidates.usable.find((p) =>
      !this.#used.has(p.id) && tally.fits(p)
    );
    if (p) this.#used.add(p.id);
    return p;
  }

  /** A new home for a job whose peer refused: fresh, else another slot. */
  #rehome(job: Job): boolean {
    // Jobs in flight to a peer that failed follow its replacement.
    let dead = job.slot;
    while (dead.next) dead = dead.next;
    if (!this.#failed.has(dead.peer.id)) {
      job.slot = dead;
      return true;
    }
    const fresh = this.#nextFresh();
    if (fresh) {
      const slot: Slot = { peer: fresh, held: 0, sending: 0 };
      this.#slots.set(fresh.id, slot);
      dead.next = slot;
      // Move every queued job of the dead slot along with this one.
      for (const j of this.#queue) if (j.slot === dead) j.slot = slot;
      job.slot = slot;
      return true;
    }
    if (isWholeCopy(this.#req.plan)) return false;
    const best = this.#leastLoaded() ?? this.#overflowSlot();
    if (!best) return false;
    job.slot = best;
    return true;
  }

  /**
   * Round-robin onto the live slot with the fewest shards (then onto
   * existing holders): fewer distinct peers, but no shard left behind.
   */
  #leastLoaded(): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = Infinity;
    for (const s of this.#slots.values()) {
      if (this.#failed.has(s.peer.id)) continue;
      const load = s.held + this.#queue.filter((j) => j.slot === s).length;
      if (load < bestLoad) [best, bestLoad] = [s, load];
    }
    return best;
  }
}

/** Existing holders that take shards when no fresh peer is left. */
class Overflow {
  readonly #peers: readonly PeerInfo[];
  readonly #load = new Map<PeerId, number>();

  constructor(peers: readonly PeerInfo[]) {
    this.#peers = peers;
  }

  /** The least loaded one that has not failed, now loaded one more. */
  next(failed: ReadonlySet<PeerId>): PeerInfo | undefined {
    const o =
      this.#peers.filter((p) => !failed.has(p.id)).sort((a, b) =>
        (this.#load.get(a.id) ?? 0) - (this.#load.get(b.id) ?? 0)
      )[0];
    if (o) this.#load.set(o.id, (this.#load.get(o.id) ?? 0) + 1);
    return o;
  }
}

/**
 * Spot-check the holders that just acknowledged shards and place again
 * what they could not show (see spot_check.ts), away from them.
 */
async function replaceMissing(
  ctx: ServiceContext,
  req: PushRequest,
  push: { first: PushResult; acked: readonly Acknowledged[] },
  options: PushOptions,
): Promise<PushResult> {
  const { first, acked } = push;
  const { missing, liars } = await spotCheck(ctx, {
    tesseraId: req.tesseraId,
    acked,
  }, { signal: options.signal });
  if (missing.length === 0) return first;
  const gone = new Set(missing.map((m) => `${m.index}/${m.peer.id}`));
  const kept = first.placed.filter((p) => !gone.has(`${p.index}/${p.peer.id}`));
  const holders = new Map<PeerId, PeerInfo>();
  for (const p of [...(req.existing ?? []), ...kept.map((k) => k.peer)]) {
    holders.set(p.id, p);
  }
  const again = await pushShards(ctx, {
    ...req,
    ...(isWholeCopy(req.plan)
      ? { copies: missing.length }
      : { indices: [...new Set(missing.map((m) => m.index))] }),
    existing: [...holders.values()],
    exclude: [
      ...(req.exclude ?? []),
      ...liars.map((p) => p.id),
      ...missing.map((m) => m.peer.id),
    ],
    spotChecks: (req.spotChecks ?? 1) - 1,
  }, { signal: options.signal });
  return {
    placed: [...kept, ...again.placed],
    unplaced: [...first.unplaced, ...again.unplaced],
    failures: [
      ...first.failures,
      ...missing.map((m) => ({
        peerId: m.peer.id,
        index: m.index,
        code: "NOT_STORED",
        reason: "acknowledged the shard but could not show it right after",
      })),
      ...again.failures,
    ],
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
