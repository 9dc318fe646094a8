/**
 * Stewards: the holders of a tessera look after it once its owner has
 * gone silent (docs/stewards.md). Per held tessera whose owner has
 * neither challenged us nor answered our ping for `stewardAfterMs`, each
 * holder orders the tessera's announced holders by XOR distance to its
 * id (steward_rank.ts). A steward at work audits every holder, so the
 * others leave it the job while it audits them; with nobody at work, the
 * first live holder in the order acts and each closer live holder makes
 * one wait one repair interval longer. A steward proves every holder it
 * found with chunk proofs against the owner's manifest and runs the
 * owner's own repair (health.ts, repair.ts, push.ts) in a steward context
 * (steward_view.ts): missing shards rebuilt from any `dataShards`
 * survivors (kept for the next loss: steward_copy.ts), placed under the
 * same diversity rules, the signed manifest sent along. The owner's first
 * challenge since takes the tessera back.
 *
 * @module
 */
import {
  type HolderRegistry,
  type IoOptions,
  isTesserasError,
  type Manifest,
  type PeerId,
  type TesseraId,
  tesserasHeld,
} from "../core/mod.ts";
import { proveAnnounced } from "./announced.ts";
import { auditForcedWithinMs } from "./audit_schedule.ts";
import type { ServiceContext } from "./context.ts";
import { decodeKept } from "./manifest_check.ts";
import { repairTessera } from "./repair.ts";
import { StewardCopies } from "./steward_copy.ts";
import { StewardOrders } from "./steward_rank.ts";
import { type OnBehalf, stewardContext } from "./steward_view.ts";
import { StewardWatch } from "./steward_watch.ts";
import type { RepairReport, StewardReport } from "./types.ts";

/**
 * Live closer holders beyond this delay us no longer (and are not
 * pinged): a flood of closer records delays a steward, never blocks it.
 */
export const MAX_STEWARD_DELAY_RANKS = 4;

const NO_WORK: StewardReport = {
  orphans: 0,
  stewarded: 0,
  repairs: [],
  bytesOnBehalf: 0,
  refuted: 0,
  keptBytes: 0,
  kept: [],
};

/** An orphan we hold, with what the decision needs. */
interface Orphan {
  readonly id: TesseraId;
  readonly manifest: Manifest;
  /** What we store for its owner beyond what it stores for us. */
  readonly ownerDebt: number;
}

/**
 * One node's stewardship: what it sees of owners and stewards, the
 * holders of the tesseras it looks after, the records it refuted.
 *
 * @example
 * ```ts ignore
 * const stewards = new Stewards(ctx.clock.now(), registry);
 * await stewards.challenged(ctx, { tesseraId, from: peer.id });
 * const report = await stewards.sweep(ctx);
 * ```
 */
export class Stewards {
  /** Challenges seen per held tessera. */
  readonly watch: StewardWatch;
  readonly #registry: HolderRegistry | undefined;
  readonly #refuted = new Map<TesseraId, Set<PeerId>>();
  /** Steward orders, kept until an orphan's holders change. */
  readonly #orders = new StewardOrders();
  /** Shards kept of the orphans we rebuilt (steward_copy.ts). */
  readonly #copies = new StewardCopies();
  /** Since when each orphan nobody looks after has been ours to take. */
  readonly #candidates = new Map<TesseraId, number>();
  /** The holders each orphan's provider records named, and when asked. */
  readonly #announced = new Map<
    TesseraId,
    { readonly at: number; readonly peers: ReadonlySet<PeerId> }
  >();
  /** Who answered a ping in this sweep (each peer pinged once a sweep). */
  #up = new Map<PeerId, Promise<boolean>>();

  /**
   * @param since when the node started (owner silence counts from it)
   * @param registry where the holders of stewarded tesseras are kept;
   *   without one, the node notes challenges but never acts as a steward
   */
  constructor(since: number, registry?: HolderRegistry) {
    this.watch = new StewardWatch(since);
    this.#registry = registry;
  }

  /**
   * A shard of `id` is being stored (and again once stored with its
   * manifest): the stewards watch it from now on (steward_watch.ts).
   */
  holding(id: TesseraId): void {
    this.watch.holding(id);
  }

  /** A shard of `id` was deleted: the next sweep checks it is still held. */
  released(id: TesseraId): void {
    this.watch.released(id);
  }

  /**
   * A peer challenged us for shards of `tesseraId`: the owner (per the
   * manifest we keep) or a steward is at work. Nothing for a tessera we
   * keep no manifest of.
   */
  async challenged(
    ctx: ServiceContext,
    seen: { tesseraId: TesseraId; from: PeerId },
    options: IoOptions = {},
  ): Promise<void> {
    const owner = await this.#owner(ctx, seen.tesseraId, options);
    if (owner === null) return;
    this.watch.challenged(seen.tesseraId, {
      from: seen.from,
      owner,
      at: ctx.clock.now(),
    });
  }

  async #owner(
    ctx: ServiceContext,
    id: TesseraId,
    options: IoOptions,
  ): Promise<PeerId | null> {
    const known = this.watch.ownerOf(id);
    if (known !== undefined) return known;
    const signed = await ctx.manifests?.get(id, options).catch(() => null);
    if (!signed) return null;
    const owner = decodeKept(ctx, signed).owner;
    this.watch.learnOwner(id, owner);
    return owner;
  }

  /**
   * Look after every held tessera whose owner is silent and whose turn
   * is ours; stop looking after those whose owner is back. Nothing
   * without a steward registry, a manifest store or holder records.
   */
  async sweep(
    ctx: ServiceContext,
    options: IoOptions = {},
  ): Promise<StewardReport> {
    const registry = this.#registry;
    if (!registry || !ctx.manifests || !ctx.dht.findHolders) return NO_WORK;
    this.#up = new Map();
    const orphans = await this.#orphans(ctx, registry, options);
    const repairs: RepairReport[] = [];
    const onBehalf: OnBehalf = { bytes: 0 };
    const copies = this.#copies;
    const sctx = stewardContext(ctx, { registry, onBehalf, copies });
    const acting = new Set<TesseraId>();
    const ids = new Set(orphans.map((o) => o.id));
    for (const id of this.#candidates.keys()) {
      if (!ids.has(id)) this.#candidates.delete(id);
    }
    let refuted = 0;
    for (const orphan of orphans) {
      options.signal?.throwIfAborted();
      try {
        const holders = await this.#ourTurn(ctx, orphan, options);
        if (holders === null) continue;
        acting.add(orphan.id);
        refuted += await this.#prove(sctx, { orphan, holders }, options);
        // On the audit schedule, as the owner's sweeps: not every holder daily.
        repairs.push(
          await repairTessera(sctx, orphan.id, { ...options, scheduled: true }),
        );
      } catch (e) {
        if (!isTesserasError(e)) throw e;
        ctx.log.warn("stewarding {tessera} failed: {error}", {
          tessera: orphan.id,
          error: e.message,
        });
      }
    }
    // What we no longer look after, we no longer keep.
    await copies.retain(acting);
    return {
      orphans: orphans.length,
      stewarded: repairs.length,
      repairs,
      bytesOnBehalf: onBehalf.bytes,
      refuted,
      keptBytes: copies.bytes,
      kept: copies.ids(),
    };
  }

  /**
   * Held tesseras with a kept manifest, not ours, whose owner has been
   * silent past the setting: those of owners we store least for first,
   * so a free rider's orphans come last. Tesseras whose owner is back
   * (or that we no longer hold) leave the steward registry.
   */
  async #orphans(
    ctx: ServiceContext,
    registry: HolderRegistry,
    options: IoOptions,
  ): Promise<Orphan[]> {
    const holds = async (id: TesseraId) =>
      (await ctx.fragments.list(id, options)).length > 0;
    await this.#settle(ctx, holds, options);
    const ours = new Set((await ctx.holders.list()).map((t) => t.tesseraId));
    const out: Orphan[] = [];
    // Only the held tesseras whose owner's silence is past the setting,
    // found without a lookup of each held one (steward_watch.ts).
    const quiet = this.watch.silent({
      now: ctx.clock.now(),
      afterMs: ctx.config.stewardAfterMs,
    });
    for (const id of quiet) {
      if (ours.has(id)) continue;
      const orphan = await this.#silent(ctx, id, options);
      if (orphan) out.push(orphan);
    }
    await this.#untrackSettled(ctx, { registry, holds, orphans: out }, options);
    return out.sort((a, b) =>
      a.ownerDebt - b.ownerDebt || (a.id < b.id ? -1 : 1)
    );
  }

  /**
   * What changed since the last sweep: the watch learns the held
   * tesseras (all of them at the first sweep), forgets those no longer
   * held, and so do the memories of refuted and announced holders.
   */
  async #settle(
    ctx: ServiceContext,
    holds: (id: TesseraId) => Promise<boolean>,
    options: IoOptions,
  ): Promise<void> {
    const watch = this.watch;
    if (watch.unseeded) watch.seed(await tesserasHeld(ctx.fragments, options));
    for (const id of watch.takeUnsettled()) {
      if (!(await holds(id))) watch.forget(id);
    }
    for (const memo of [this.#refuted, this.#announced]) {
      for (const id of [...memo.keys()]) {
        if (!(await holds(id))) memo.delete(id);
      }
    }
  }

  /**
   * Untrack the stewarded tesseras that are no orphan of ours now: those
   * we hold whose owner is back, and those we no longer hold.
   */
  async #untrackSettled(
    ctx: ServiceContext,
    sweep: {
      registry: HolderRegistry;
      holds: (id: TesseraId) => Promise<boolean>;
      orphans: readonly Orphan[];
    },
    options: IoOptions,
  ): Promise<void> {
    const { registry, holds } = sweep;
    const orphans = new Set(sweep.orphans.map((o) => o.id));
    for (const { tesseraId: id } of await registry.list()) {
      if (orphans.has(id)) continue;
      if (await holds(id) || await ctx.manifests!.get(id, options)) {
        await registry.untrack(id);
      }
    }
  }

  /**
   * `id`, whose owner has been silent past the setting, as an orphan
   * when the owner does not answer a ping either, else `null` (no kept
   * manifest, or the owner answers). An owner that answers a ping is
   * alive and in charge, though it does not audit us (it dropped us, or
   * never knew us: a steward placed our shard): it is seen, as if it had
   * challenged us.
   */
  async #silent(
    ctx: ServiceContext,
    id: TesseraId,
    options: IoOptions,
  ): Promise<Orphan | null> {
    const signed = await ctx.manifests!.get(id, options);
    if (!signed) {
      // Nobody's to look after (a probe): not looked at again until a
      // shard of it, which brings the manifest, is stored.
      this.watch.forget(id);
      return null;
    }
    const manifest = decodeKept(ctx, signed);
    const owner = manifest.owner;
    if (await this.#answers(ctx, owner, options)) {
      this.watch.challenged(id, { from: owner, owner, at: ctx.clock.now() });
      return null;
    }
    const row = await ctx.ledger.get(owner);
    const ownerDebt = (row?.bytesStoredForThem ?? 0) -
      (row?.bytesTheyStoreForUs ?? 0);
    return { id, manifest, ownerDebt };
  }

  /**
   * The announced holders of `orphan` when it is our turn to look after
   * it, else `null`. A steward at work audits every holder on the audit
   * schedule, so a holder it audited leaves it the job while it audits
   * within `stewardAfterMs`, or, past that, while it answers a ping and
   * its audit is no older than the schedule allows
   * (`auditForcedWithinMs`). A steward at work (it tracks the orphan)
   * heeds only closer holders, so it stays the steward until it is
   * gone. With nobody at work, a holder first waits one repair interval
   * as a candidate (a steward it missed while away audits it by then),
   * one more for each closer holder in the XOR order that answers a
   * ping: the live holders take their turns one interval apart.
   */
  async #ourTurn(
    ctx: ServiceContext,
    orphan: Orphan,
    options: IoOptions,
  ): Promise<PeerId[] | null> {
    const atWork = (await this.#registry!.get(orphan.id)) !== null;
    const refuted = this.#refuted.get(orphan.id) ?? new Set();
    // The common case first, from memory: a steward audited us lately.
    const last = this.watch.lastAuditor(orphan.id);
    if (
      !atWork && last && !refuted.has(last.peer) &&
      ctx.clock.now() - last.at <= ctx.config.stewardAfterMs
    ) {
      this.#candidates.delete(orphan.id);
      return null;
    }
    if (
      !atWork && last && !refuted.has(last.peer) &&
      await this.#stillAtWork(ctx, { id: orphan.id, last }, options)
    ) {
      this.#candidates.delete(orphan.id);
      return null;
    }
    const announced = (await ctx.dht.findHolders!(orphan.id, options))
      .map((p) => p.id).filter((p) => p !== ctx.selfId && !refuted.has(p));
    this.#announced.set(orphan.id, {
      at: ctx.clock.now(),
      peers: new Set(announced),
    });
    const closer = () => {
      const order = this.#orders.order(orphan.id, [ctx.selfId, ...announced]);
      return order.slice(0, order.indexOf(ctx.selfId));
    };
    if (atWork) {
      if (await this.#attended(ctx, orphan, closer(), options) !== "yes") {
        return announced;
      }
      // A closer steward is at work: we stand down for good, not until
      // one of its pings fails, and start again as a candidate if ever.
      await this.#registry!.untrack(orphan.id);
      return null;
    }
    const seen = await this.#attended(ctx, orphan, announced, options);
    if (seen === "yes") {
      this.#candidates.delete(orphan.id);
      return null;
    }
    // A steward that was at work and does not answer now may be away for
    // a while: it gets the holders' grace before anyone takes over.
    const interval = ctx.config.repairIntervalMs;
    const grace = seen === "silent"
      ? Math.max(interval, ctx.config.stewardGraceMs)
      : interval;
    const now = ctx.clock.now();
    const since = once(this.#candidates, orphan.id, () => now);
    if (now - since < grace) return null;
    const waited = 1 + Math.floor((now - since - grace) / interval);
    let turn = 0;
    for (const peer of closer()) {
      if (turn >= Math.min(waited, MAX_STEWARD_DELAY_RANKS)) break;
      if (await this.#answers(ctx, peer, options)) turn++;
    }
    if (turn >= waited) return null;
    this.#candidates.delete(orphan.id);
    return announced;
  }

  /**
   * Whether the owner or a steward among `stewards` looks after
   * `orphan` (`yes`): one of them audited us within `stewardAfterMs`, or
   * the last steward that did, within what its audit schedule allows,
   * still answers a ping; `silent` when that steward does not answer now,
   * `no` when no steward audited us within what a schedule allows.
   */
  async #attended(
    ctx: ServiceContext,
    orphan: Orphan,
    stewards: readonly PeerId[],
    options: IoOptions,
  ): Promise<"yes" | "silent" | "no"> {
    const { at: last, by } = this.watch.latestAudit(orphan.id, stewards);
    const now = ctx.clock.now(), after = ctx.config.stewardAfterMs;
    if (now - Math.max(last, this.watch.ownerSeenAt(orphan.id)) <= after) {
      return "yes";
    }
    if (by === null || now - last > after + auditForcedWithinMs(ctx)) {
      return "no";
    }
    return await this.#answers(ctx, by, options) ? "yes" : "silent";
  }

  /**
   * Whether the steward that audited us last is still at work past the
   * owner silence without asking the DHT who holds the orphan: it was
   * among the announced holders when we last asked, its audit and that
   * answer are no older than its schedule allows (`stewardAfterMs` plus
   * {@linkcode auditForcedWithinMs}) and it answers a ping. That is
   * `#attended`'s `yes` for the same steward; a holder of an orphan whose
   * steward audits it every two weeks would otherwise look the holders
   * up at every sweep in between (or, asking again every
   * `stewardAfterMs`, every third day: 6.5 lookups per node-sweep in a
   * year of `owners-leave`).
   */
  async #stillAtWork(
    ctx: ServiceContext,
    audit: { id: TesseraId; last: { peer: PeerId; at: number } },
    options: IoOptions,
  ): Promise<boolean> {
    const { id, last } = audit;
    const now = ctx.clock.now();
    const bound = ctx.config.stewardAfterMs + auditForcedWithinMs(ctx);
    const asked = this.#announced.get(id);
    if (!asked || now - asked.at > bound || !asked.peers.has(last.peer)) {
      return false;
    }
    if (now - last.at > bound) return false;
    return await this.#answers(ctx, last.peer, options);
  }

  /** Whether `peer` answers a ping (asked once a sweep). */
  #answers(
    ctx: ServiceContext,
    peer: PeerId,
    options: IoOptions,
  ): Promise<boolean> {
    return once(this.#up, peer, () => pings(ctx, peer, options));
  }

  /**
   * Bring the steward registry up to date for `orphan`: tracked from the
   * manifest, our own shards recorded, and every announced holder not
   * yet recorded challenged for every index with chunk proofs; what it
   * proves is recorded, a holder that answers and proves nothing is
   * refuted (dropped from the order, counted as a liar). Returns the
   * number refuted.
   */
  async #prove(
    sctx: ServiceContext,
    job: { orphan: Orphan; holders: readonly PeerId[] },
    options: IoOptions,
  ): Promise<number> {
    const { manifest, id } = job.orphan;
    const registry = sctx.holders;
    if (!(await registry.get(id))) {
      await registry.track(id, manifest);
    }
    const records = await registry.holders(id);
    await registry.removeHolder(id, { peerId: sctx.selfId });
    for (const f of await sctx.fragments.list(id, options)) {
      await registry.addHolder(id, { index: f.index, peerId: sctx.selfId });
    }
    const known = new Set(records.map((r) => r.peerId));
    const { refuted } = await proveAnnounced(sctx, {
      id,
      checksums: manifest.checksums,
      shardSize: manifest.plan.shardSize,
      peers: job.holders.filter((p) => !known.has(p)).map((p) => ({ id: p })),
    }, options);
    for (const peer of refuted) this.#refute(sctx, { id, peer });
    return refuted.length;
  }

  /** A holder record its peer could not back: never ranked again, a liar. */
  #refute(ctx: ServiceContext, found: { id: TesseraId; peer: PeerId }): void {
    let set = this.#refuted.get(found.id);
    if (!set) this.#refuted.set(found.id, set = new Set());
    set.add(found.peer);
    ctx.standing.lied(found.peer, ctx.clock.now());
    ctx.log.warn(
      "peer {peer} announced holding {tessera} but proved no shard of it",
      { peer: found.peer, tessera: found.id },
    );
  }
}

/** Whether `peer` answers a ping. */
async function pings(
  ctx: ServiceContext,
  peer: PeerId,
  options: IoOptions,
): Promise<boolean> {
  try {
    await ctx.dht.ping(peer, options);
    return true;
  } catch {
    options.signal?.throwIfAborted();
    return false;
  }
}

/** `make()` once per key of `memo`. */
function once<K, V>(memo: Map<K, V>, key: K, make: () => V): V {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key)!;
}
