/**
 * What a node remembers of its peers' conduct as holders of its shards,
 * so placement stops wasting pushes on peers that said no and stops
 * trusting peers that said yes and kept nothing:
 *
 * - a *refusal* puts the peer in a back-off for shards at least as large
 *   as the smallest it refused. `INSUFFICIENT_SPACE` and
 *   `PEER_LIMIT_EXCEEDED`: one repair interval, doubling with every
 *   refusal in a row (at most 16 intervals); meanwhile we extend the peer
 *   no free credit either (free credit is for peers that take our data
 *   in turn). `DEFICIT_EXCEEDED` ("store fragments for us first") stands
 *   until we have stored more for the peer since, by as much as the
 *   shard needs, or 16 intervals pass. Any acceptance clears the record;
 * - a *lie*: a holder that answers a challenge (the spot check right
 *   after a push, or a sweep) but shows none of the shards it
 *   acknowledged is not used again for 90 repair intervals, doubling with
 *   every repeat, and we extend it no credit while the ban lasts; the
 *   ledger credit of what it acknowledged is taken back, so its deficit
 *   grows with everyone it cheated;
 * - *pending* shards: acknowledged, not yet shown in any check. The
 *   ledger credits them at once (its rows mirror what the peer counts),
 *   but `receiveFragment` leaves them out of the peer's balance with us;
 * - a *proof*: a holder that proved every shard asked in a sweep (or
 *   the probe below) is preferred for new placements over peers we know
 *   nothing of;
 * - an *untested taker*: a peer whose push we took on our free credit
 *   (beyond what it provably stores for us) without ever having seen it
 *   store anything for us. Free credit is for peers that take our data
 *   in turn, and a node that owns nothing never places, so it could never
 *   tell a peer that keeps what it accepts from one that drops it. Before
 *   we take such a push we probe the peer (probe.ts: a tiny shard of our
 *   own, challenged at once), and the outcome is a proof, a refusal or a
 *   lie as above; a probe that goes unanswered is tried again at our
 *   sweeps. Kept in memory only: after a restart the next push on our
 *   credit probes the peer again.
 *
 * {@linkcode rankCandidates} turns this, with our ledger, into the order
 * in which placement tries peers.
 *
 * Given a {@linkcode PeerStandingStore} (the daemon's SQLite tables), all
 * of it persists: every change is written through in order, and the
 * service loads it before its first placement, receive or repair, so a
 * banned liar stays banned, a back-off stands, a proof counts and
 * unproven bytes stay out of the balance across restarts. Refusal and
 * liar records that ended more than {@linkcode FORGET_AFTER_INTERVALS}
 * repair intervals ago are forgotten (a later refusal or lie starts a
 * fresh count), on load and in a running service alike. A failed write is
 * logged with the peer and what was lost; the memory of the running
 * service keeps it. Without a store (the simulator, unit tests) the
 * memory lives as long as the service, and nothing is awaited.
 *
 * @module
 */
import { getLogger, type Logger } from "@logtape/logtape";
import {
  type IoOptions,
  type PeerId,
  type PeerInfo,
  type PeerStandingChange,
  type PeerStandingSnapshot,
  type PeerStandingStore,
  TesserasError,
} from "../core/mod.ts";

/** Refusal codes that say "not now, not from you": backed off. */
export const BACKOFF_CODES: ReadonlySet<string> = new Set([
  "DEFICIT_EXCEEDED",
  "INSUFFICIENT_SPACE",
  "PEER_LIMIT_EXCEEDED",
]);

/** Longest refusal back-off, in repair intervals. */
export const MAX_BACKOFF_INTERVALS = 16;
/** A first lie's ban, in repair intervals (doubles with each repeat). */
export const LIAR_BAN_INTERVALS = 90;
/**
 * Refusal and liar records that ended this many repair intervals before
 * a restart are not loaded again: a refusal that long ago is no longer
 * "in a row", and a liar that long out of its ban starts over.
 */
export const FORGET_AFTER_INTERVALS = LIAR_BAN_INTERVALS;

/**
 * Probes a taker of our free credit may go unanswered (away, or gone for
 * good) before we stop asking; its next push on our credit marks it again.
 */
export const MAX_PROBE_TRIES = 3;

/** Why a peer is avoided now. */
export type Avoidance = "liar" | "backoff";

interface RefusalRecord {
  code: string;
  /** Refusals in a row. */
  strikes: number;
  /** Back-off end, ms. */
  until: number;
  /** Smallest shard refused, bytes. */
  size: number;
  /** Our credit with the peer at the last refusal (stored for them - they store for us). */
  credit: number;
}

interface LiarRecord {
  lies: number;
  until: number;
}

/** Options of {@linkcode PeerStanding}. */
export interface PeerStandingOptions {
  /** Where every change is written through (default: nowhere). */
  readonly store?: PeerStandingStore;
  /** Where failed writes are reported (default: the replication logger). */
  readonly log?: Logger;
}

/**
 * One node's memory of its peers' refusals and lies.
 *
 * @example
 * ```ts
 * const standing = new PeerStanding(24 * 3_600_000);
 * standing.refused("peerA", { code: "DEFICIT_EXCEEDED", size: 4096, at: 0, credit: 0 });
 * standing.avoid("peerA", { size: 4096, at: 1000, credit: 0 }); // "backoff"
 * standing.avoid("peerA", { size: 1024, at: 1000, credit: 0 }); // null
 * ```
 */
export class PeerStanding {
  readonly #intervalMs: number;
  readonly #refusals = new Map<PeerId, RefusalRecord>();
  readonly #liars = new Map<PeerId, LiarRecord>();
  readonly #proven = new Set<PeerId>();
  readonly #pending = new Map<PeerId, Map<string, number>>();
  /** Untested takers of our free credit: probes that went unanswered. */
  readonly #untested = new Map<PeerId, number>();
  /** When each peer was last probed (the last interval's only matter). */
  readonly #probedAt = new Map<PeerId, number>();
  readonly #store: PeerStandingStore | undefined;
  readonly #log: Logger | undefined;
  #writes: Promise<void> = Promise.resolve();
  /** Whether a change was saved (restoring then would be wrong). */
  #changed = false;

  /**
   * @param intervalMs the repair interval: the unit of back-offs and bans
   * @param options the store changes are written to
   */
  constructor(intervalMs: number, options: PeerStandingOptions = {}) {
    this.#intervalMs = Math.max(1, intervalMs);
    this.#store = options.store;
    this.#log = options.store
      ? options.log ?? getLogger(["tesseras", "replication"])
      : undefined;
  }

  /**
   * Take in what a store remembered, before first use: throws `INTERNAL`
   * once this memory has changed (it keeps no record of what it
   * deleted, so a snapshot could bring back a ban or proof it ended).
   */
  restore(snapshot: PeerStandingSnapshot): void {
    if (this.#changed) {
      throw new TesserasError(
        "INTERNAL",
        "peer standing restored after it changed: load it before first use",
      );
    }
    for (const r of snapshot.refusals) {
      if (this.#refusals.has(r.peerId)) continue;
      const { code, strikes, until, size, credit } = r;
      this.#refusals.set(r.peerId, { code, strikes, until, size, credit });
    }
    for (const l of snapshot.liars) {
      if (this.#liars.has(l.peerId)) continue;
      this.#liars.set(l.peerId, { lies: l.lies, until: l.until });
    }
    for (const peer of snapshot.proven) this.#proven.add(peer);
    for (const p of snapshot.pending) {
      let m = this.#pending.get(p.peerId);
      if (!m) this.#pending.set(p.peerId, m = new Map());
      if (!m.has(p.key)) m.set(p.key, p.size);
    }
  }

  /**
   * Resolves once every change so far has been handed to the store (and
   * its failure, if any, logged). Never rejects.
   */
  flush(): Promise<void> {
    return this.#writes;
  }

  /**
   * `record`, unless it ended {@linkcode FORGET_AFTER_INTERVALS} before
   * `at`: a running service forgets as a restarted one does on load.
   */
  #current<R extends { until: number }>(
    record: R | undefined,
    at: number,
  ): R | undefined {
    return record &&
        record.until >= at - FORGET_AFTER_INTERVALS * this.#intervalMs
      ? record
      : undefined;
  }

  #save(change: PeerStandingChange): void {
    const store = this.#store!;
    this.#changed = true;
    // In order, one at a time: a `settled` must not overtake its `placed`.
    this.#writes = this.#writes
      .then(() => store.save(change))
      .catch((err) => {
        this.#log!.warn(
          "could not persist the standing of peer {peer}: {lost} is remembered only until this service stops: {error}",
          { peer: peerOf(change), lost: describe(change), error: String(err) },
        );
      });
  }

  /** Whether nothing is remembered (lets callers skip ledger reads). */
  get empty(): boolean {
    return this.#refusals.size === 0 && this.#liars.size === 0 &&
      this.#proven.size === 0;
  }

  /**
   * The peer refused a shard of `size` bytes with `code` at time `at`,
   * when our credit with it was `credit`. Codes outside
   * {@linkcode BACKOFF_CODES} are ignored.
   */
  refused(
    peer: PeerId,
    refusal: { code: string; size: number; at: number; credit: number },
  ): void {
    if (!BACKOFF_CODES.has(refusal.code)) return;
    const prev = this.#current(this.#refusals.get(peer), refusal.at);
    const strikes = (prev?.strikes ?? 0) + 1;
    // A deficit refusal stands until we store more for the peer (checked
    // in `avoid`); the longest back-off is only a safety valve for a peer
    // that released our shards or changed its tolerance.
    const wait = this.#intervalMs *
      (refusal.code === "DEFICIT_EXCEEDED"
        ? MAX_BACKOFF_INTERVALS
        : Math.min(MAX_BACKOFF_INTERVALS, 2 ** (strikes - 1)));
    const record: RefusalRecord = {
      code: refusal.code,
      strikes,
      until: refusal.at + wait,
      size: prev && prev.until > refusal.at
        ? Math.min(prev.size, refusal.size)
        : refusal.size,
      credit: refusal.credit,
    };
    this.#refusals.set(peer, record);
    if (this.#store) {
      this.#save({
        kind: "refused",
        refusal: { peerId: peer, ...record, until: storedTime(record.until) },
      });
    }
  }

  /** The peer accepted a shard: its refusals are forgotten. */
  accepted(peer: PeerId): void {
    if (this.#refusals.delete(peer) && this.#store) {
      this.#save({ kind: "accepted", peerId: peer });
    }
  }

  /**
   * The peer acknowledged shard `key` (`tessera/index`) of `size` bytes:
   * the ledger credits it now, but we do not count that credit in its
   * favour until the shard is proven (see {@linkcode PeerStanding.pendingBytes}).
   */
  placed(peer: PeerId, key: string, size: number): void {
    let m = this.#pending.get(peer);
    if (!m) this.#pending.set(peer, m = new Map());
    m.set(key, size);
    if (this.#store) {
      this.#save({ kind: "placed", pending: { peerId: peer, key, size } });
    }
  }

  /** A check settled shard `key` on the peer (proven, or found lost). */
  settled(peer: PeerId, key: string): void {
    const m = this.#pending.get(peer);
    if (!m || !m.delete(key)) return;
    if (m.size === 0) this.#pending.delete(peer);
    if (this.#store) this.#save({ kind: "settled", peerId: peer, key });
  }

  /**
   * Bytes the peer acknowledged for us that no check has proven yet. A
   * peer that acknowledges and keeps nothing earns no credit with us
   * through them: `receiveFragment` leaves them out of its balance.
   */
  pendingBytes(peer: PeerId): number {
    let n = 0;
    for (const size of this.#pending.get(peer)?.values() ?? []) n += size;
    return n;
  }

  /** The peer proved shards it holds for us (passed an attestation). */
  proven(peer: PeerId): void {
    this.#untested.delete(peer);
    if (this.#proven.has(peer)) return;
    this.#proven.add(peer);
    if (this.#store) this.#save({ kind: "proven", peerId: peer });
  }

  /**
   * We took a push of the peer's on our free credit at time `at` (its
   * deficit with us beyond nothing): unless it has proven itself, is
   * banned or withholds (each already settles its credit), it is to be
   * probed (see {@linkcode PeerStanding.toProbe}).
   */
  tookCredit(peer: PeerId, at: number): void {
    if (this.#untested.has(peer) || !this.untested(peer, at)) return;
    this.#untested.set(peer, 0);
  }

  /**
   * Whether nothing settles the peer's credit at `at`, so a probe would
   * tell us something: not proven, banned, backed off, nor probed within
   * the last interval.
   */
  untested(peer: PeerId, at: number): boolean {
    return !(this.#proven.has(peer) || this.distrusted(peer, at) ||
      this.withholds(peer, at) || this.probedWithin(peer, at));
  }

  /** Whether the peer was probed less than a repair interval before `at`. */
  probedWithin(peer: PeerId, at: number): boolean {
    const last = this.#probedAt.get(peer);
    return last !== undefined && at - last < this.#intervalMs;
  }

  /** Up to `limit` untested takers of our credit, oldest first. */
  toProbe(limit: number): PeerId[] {
    return [...this.#untested.keys()].slice(0, Math.max(0, limit));
  }

  /**
   * A probe of the peer ended at time `at`: `answered` (proven, lied or
   * refused, each recorded on its own) settles it; an unanswered one is
   * queued for our sweeps, {@linkcode MAX_PROBE_TRIES} probes in all.
   */
  probed(
    peer: PeerId,
    outcome: "answered" | "unanswered",
    at: number,
  ): void {
    this.#probedAt.delete(peer);
    this.#probedAt.set(peer, at);
    // In probe order; forget probes older than an interval: the map stays as small as
    // the peers probed in the last one.
    for (const [p, t] of this.#probedAt) {
      if (at - t < this.#intervalMs) break;
      this.#probedAt.delete(p);
    }
    const tries = (this.#untested.get(peer) ?? 0) + 1;
    // To the back of the queue, if still in it: others wait their turn.
    this.#untested.delete(peer);
    if (outcome === "unanswered" && tries < MAX_PROBE_TRIES) {
      this.#untested.set(peer, tries);
    }
  }

  /** Whether the peer has proven shards to us and never lied since. */
  isProven(peer: PeerId): boolean {
    return this.#proven.has(peer);
  }

  /**
   * Whether we extend the peer no credit: it is banned for lying, so a
   * push from it is accepted only while it provably stores more for us
   * than we for it.
   */
  distrusted(peer: PeerId, at: number): boolean {
    const liar = this.#liars.get(peer);
    return liar !== undefined && at < liar.until;
  }

  /**
   * The peer answered a challenge but proved none of the shards it had
   * acknowledged, at time `at`: banned from placement.
   */
  lied(peer: PeerId, at: number): void {
    const lies = (this.#current(this.#liars.get(peer), at)?.lies ?? 0) + 1;
    const ban = this.#intervalMs * LIAR_BAN_INTERVALS * 2 ** (lies - 1);
    const until = at + ban;
    this.#liars.set(peer, { lies, until });
    this.#untested.delete(peer);
    this.#refusals.delete(peer);
    this.#proven.delete(peer);
    if (this.#store) {
      this.#save({
        kind: "lied",
        liar: { peerId: peer, lies, until: storedTime(until) },
      });
    }
  }

  /**
   * Whether the peer refused to store for us for want of room (space or
   * its per-peer limit) and its back-off stands: we extend such a peer
   * no free credit either, only what it provably stores for us counts.
   */
  withholds(peer: PeerId, at: number): boolean {
    const r = this.#refusals.get(peer);
    return r !== undefined && at < r.until && r.code !== "DEFICIT_EXCEEDED";
  }

  /** Lies the peer was caught in so far. */
  lies(peer: PeerId): number {
    return this.#liars.get(peer)?.lies ?? 0;
  }

  /**
   * Whether to keep a shard of `size` bytes away from the peer at time
   * `at`, given our credit with it now: `liar` during a ban, `backoff`
   * while a refusal of a shard no larger stands, else `null`.
   */
  avoid(
    peer: PeerId,
    now: { size: number; at: number; credit: number },
  ): Avoidance | null {
    if (this.distrusted(peer, now.at)) return "liar";
    const r = this.#refusals.get(peer);
    if (!r || now.at >= r.until) return null;
    // What we stored for it since the refusal makes room, byte for byte.
    const gained = r.code === "DEFICIT_EXCEEDED"
      ? Math.max(0, now.credit - r.credit)
      : 0;
    return now.size >= r.size + gained ? "backoff" : null;
  }
}

/** Inputs of {@linkcode rankCandidates}. */
export interface RankOptions {
  /** What we remember of the peers. */
  readonly standing: PeerStanding;
  /** Our credit with each peer: bytes we store for it beyond what it stores for us. */
  readonly credits: ReadonlyMap<PeerId, number>;
  /** Bytes of the shard to place. */
  readonly size: number;
  /** The deficit tolerance we assume peers apply (ours). */
  readonly tolerance: number;
  /** Now, ms. */
  readonly at: number;
}

/**
 * Candidates in the order to try them, and those to leave out. Left out:
 * liars and peers backing off a refusal of a shard this large. Tried
 * first: peers that should take the shard by our mirror of their ledger
 * (`credit + tolerance >= size`). Among those:
 *
 * 1. peers we store for (positive credit), most first: placing there
 *    repays an exchange, costs none of their free tolerance, and keeps
 *    our data with partners who need us too;
 * 2. then holders that proved themselves in a check;
 * 3. then the free tolerance, tightest fit first (the peers that already
 *    hold most of our data while it still fits): packing leaves untouched
 *    peers free for our larger shards, where spreading evenly would leave
 *    every peer a little short of them;
 * 4. ties by distance (input order).
 *
 * @example
 * ```ts
 * import type { PeerId, PeerInfo } from "../core/mod.ts";
 * declare const peers: PeerInfo[];
 * declare const standing: PeerStanding;
 * declare const credits: ReadonlyMap<PeerId, number>;
 * declare const now: number;
 * const { usable } = rankCandidates(peers, {
 *   standing, credits, size: 4096, tolerance: 256 * 2 ** 20, at: now,
 * });
 * ```
 */
export function rankCandidates(
  candidates: readonly PeerInfo[],
  options: RankOptions,
): { usable: PeerInfo[]; avoided: Set<PeerId> } {
  const { standing, credits, size, tolerance, at } = options;
  const avoided = new Set<PeerId>();
  const keyed: { p: PeerInfo; key: number[] }[] = [];
  candidates.forEach((p, n) => {
    const credit = credits.get(p.id) ?? 0;
    if (standing.avoid(p.id, { size, at, credit })) {
      avoided.add(p.id);
      return;
    }
    keyed.push({
      p,
      key: [
        credit + tolerance >= size ? 0 : 1,
        credit > 0 ? 0 : 1,
        standing.isProven(p.id) ? 0 : 1,
        credit > 0 ? -credit : credit,
        n,
      ],
    });
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
    }
    return 0;
  });
  return { usable: keyed.map((k) => k.p), avoided };
}

/**
 * A time as the store keeps it: whole ms (a clock may give fractions),
 * rounded up so a stored ban never ends early, and at most the largest
 * safe integer (a ban doubled many times would pass it).
 */
function storedTime(ms: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(ms));
}

function peerOf(change: PeerStandingChange): PeerId {
  switch (change.kind) {
    case "refused":
      return change.refusal.peerId;
    case "lied":
      return change.liar.peerId;
    case "placed":
      return change.pending.peerId;
    default:
      return change.peerId;
  }
}

/** What is lost when `change` cannot be written, in words. */
function describe(change: PeerStandingChange): string {
  const when = (ms: number) => new Date(ms).toISOString();
  switch (change.kind) {
    case "refused":
      return `its ${change.refusal.code} refusal (strike ${change.refusal.strikes}, back-off until ${
        when(change.refusal.until)
      })`;
    case "accepted":
      return "the end of its refusal back-off";
    case "lied":
      return `its lie (number ${change.liar.lies}, banned until ${
        when(change.liar.until)
      })`;
    case "proven":
      return "its proof of holding our shards";
    case "placed":
      return `its unproven acknowledgement of shard ${change.pending.key} (${change.pending.size} bytes)`;
    case "settled":
      return `the check that settled shard ${change.key}`;
  }
}

/** What {@linkcode loadStanding} reads of a service context. */
export interface StandingContext {
  readonly config: { readonly repairIntervalMs: number };
  /** Where the standing persists; absent: in memory only. */
  readonly standingStore?: PeerStandingStore;
  /** The service's standing memory, filled from the store. */
  readonly standing: PeerStanding;
  readonly log?: Logger;
}

/**
 * Internal: fill the standing memory of `ctx` from its store (records
 * that ended more than {@linkcode FORGET_AFTER_INTERVALS} ago are
 * dropped from the store). Does nothing without a store.
 */
export async function loadStanding(
  ctx: StandingContext & { readonly clock: { now(): number } },
  options: IoOptions = {},
): Promise<void> {
  const store = ctx.standingStore;
  if (!store) return;
  const standing = ctx.standing;
  const at = ctx.clock.now();
  const interval = Math.max(1, ctx.config.repairIntervalMs);
  const snapshot = await store.load({
    ...options,
    forgetBefore: Math.floor(at - FORGET_AFTER_INTERVALS * interval),
  });
  standing.restore(snapshot);
  (ctx.log ?? getLogger(["tesseras", "replication"])).info(
    "restored peer standing: {banned} liars banned, {backoffs} back-offs in force, {proven} proven holders, {pending} unproven shards",
    {
      banned: snapshot.liars.filter((l) => l.until > at).length,
      backoffs: snapshot.refusals.filter((r) => r.until > at).length,
      proven: snapshot.proven.length,
      pending: snapshot.pending.length,
    },
  );
}
