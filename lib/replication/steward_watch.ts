/**
 * What a holder sees of who looks after a tessera it holds
 * (docs/stewards.md): when the owner last challenged us for it, and when
 * each other holder acting as its steward last did. Challenges are the
 * only evidence: an owner that audits is alive and in charge; a steward
 * that audits us is doing the job, so those after it in the order wait.
 *
 * Kept in memory: after a restart the silence is counted from the start
 * (stewardship comes at most one `stewardAfterMs` later, never earlier).
 *
 * Due-driven: the watch queues its tesseras by the owner's last sighting
 * (seen_queue.ts), so a sweep visits only those whose owner can have
 * gone silent. A holder sees a challenge for most of what it holds
 * within the silence; looking each held tessera up at every sweep cost
 * two million lookups in 30 days of `bench:sim`'s 1,000 nodes, each a
 * cache miss in a large heap (docs/known_facts.md).
 *
 * @module
 */
import type { PeerId, TesseraId } from "../core/mod.ts";
import { SeenQueue } from "./seen_queue.ts";

/** Other challengers remembered per tessera (the closest stewards matter). */
const MAX_AUDITORS = 16;

/**
 * Challenges seen per held tessera.
 *
 * @example
 * ```ts
 * import { StewardWatch } from "./steward_watch.ts";
 * const watch = new StewardWatch(0);
 * const id = "ab".repeat(32);
 * watch.challenged(id, { from: "owner", owner: "owner", at: 5 });
 * watch.ownerSeenAt(id); // 5
 * watch.challenged(id, { from: "peer-b", owner: "owner", at: 9 });
 * watch.lastAuditBy(id, ["peer-b"]); // 9
 * watch.latestAudit(id, ["peer-a", "peer-b"]).by; // "peer-b"
 * ```
 */
export class StewardWatch {
  readonly #since: number;
  /**
   * One record per held tessera: a challenge costs one lookup, where the
   * owner, its last challenge and the other auditors in three maps cost
   * three (a holder sees every challenge of every tessera it holds).
   */
  readonly #views = new Map<TesseraId, View>();
  /** Every view once, by when its owner was seen as last queued. */
  readonly #queue = new SeenQueue<View>();
  /**
   * Tesseras whose view is new or whose shard was released since the last
   * {@linkcode StewardWatch.silent}: the only ones that may have a view
   * and no longer be held, checked there.
   */
  readonly #unsettled = new Set<TesseraId>();
  /** Whether the held tesseras were queued (at the first `silent`). */
  #seeded = false;

  /** @param since when we started watching (the silence counts from it) */
  constructor(since: number) {
    this.#since = since;
  }

  /** The owner of `id` as last learnt here (see {@linkcode StewardWatch.learnOwner}). */
  ownerOf(id: TesseraId): PeerId | undefined {
    return this.#views.get(id)?.owner;
  }

  /** The manifest we keep of `id` names `owner`. */
  learnOwner(id: TesseraId, owner: PeerId): void {
    this.#view(id).owner = owner;
  }

  /** A challenge for `id` from `from` (the manifest names `owner`). */
  challenged(
    id: TesseraId,
    seen: { from: PeerId; owner: PeerId; at: number },
  ): void {
    const view = this.#view(id);
    if (seen.from === seen.owner) {
      view.ownerAt = Math.max(view.ownerAt ?? 0, seen.at);
      return;
    }
    const auditors = view.auditors ??= new Map();
    auditors.delete(seen.from);
    auditors.set(seen.from, seen.at);
    // Oldest first in insertion order: drop the stalest beyond the cap.
    while (auditors.size > MAX_AUDITORS) {
      auditors.delete(auditors.keys().next().value!);
    }
  }

  /** When the owner last challenged us for `id` (else when we started). */
  ownerSeenAt(id: TesseraId): number {
    return this.#views.get(id)?.ownerAt ?? this.#since;
  }

  /** The latest challenge for `id` by any of `peers`, or -Infinity. */
  lastAuditBy(id: TesseraId, peers: Iterable<PeerId>): number {
    const auditors = this.#views.get(id)?.auditors;
    if (!auditors) return -Infinity;
    let last = -Infinity;
    for (const p of peers) last = Math.max(last, auditors.get(p) ?? -Infinity);
    return last;
  }

  /**
   * The latest challenge for `id` by any of `peers` and who made it, or
   * `{ at: -Infinity, by: null }`.
   */
  latestAudit(
    id: TesseraId,
    peers: Iterable<PeerId>,
  ): { at: number; by: PeerId | null } {
    const auditors = this.#views.get(id)?.auditors;
    let at = -Infinity, by: PeerId | null = null;
    if (!auditors) return { at, by };
    for (const p of peers) {
      const t = auditors.get(p);
      if (t !== undefined && t > at) [at, by] = [t, p];
    }
    return { at, by };
  }

  /** The latest challenge for `id` by anyone but the owner, or `null`. */
  lastAuditor(id: TesseraId): { peer: PeerId; at: number } | null {
    let last: { peer: PeerId; at: number } | null = null;
    for (const [peer, at] of this.#views.get(id)?.auditors ?? []) {
      if (!last || at > last.at) last = { peer, at };
    }
    return last;
  }

  /**
   * A shard of `id` is about to be stored: watch it (a tessera first held
   * since the last sweep is found here, not by a look at every held one).
   */
  holding(id: TesseraId): void {
    this.#view(id);
  }

  /** A shard of `id` was deleted: it may be held no longer. */
  released(id: TesseraId): void {
    if (this.#views.has(id)) this.#unsettled.add(id);
  }

  /**
   * Stop watching `id` (we keep no manifest of it, so it has no owner to
   * be silent) until a shard of it is stored again.
   */
  forget(id: TesseraId): void {
    this.#views.delete(id);
    this.#unsettled.delete(id);
  }

  /** Whether the held tesseras are still to be given to {@linkcode StewardWatch.seed}. */
  get unseeded(): boolean {
    return !this.#seeded;
  }

  /** Watch every tessera of `held` (once, at the first sweep). */
  seed(held: Iterable<TesseraId>): void {
    this.#seeded = true;
    for (const id of held) this.#view(id);
  }

  /**
   * The tesseras whose view is new or whose shard was released since the
   * last call: the only ones that may be watched and no longer held (the
   * caller forgets those). Clears the list.
   */
  takeUnsettled(): TesseraId[] {
    const ids = [...this.#unsettled];
    this.#unsettled.clear();
    return ids;
  }

  /**
   * The watched tesseras whose owner, at `now`, was last seen more than
   * `afterMs` before (or not since we started watching), sorted. Only
   * those whose queued sighting is that old are looked at.
   */
  silent(at: { now: number; afterMs: number }): TesseraId[] {
    const { now, afterMs } = at;
    const quiet = (seen: number) => now - seen > afterMs;
    const out: TesseraId[] = [];
    for (const { id, token } of this.#queue.popWhile(quiet)) {
      // Stale: the view was dropped (and perhaps made again since).
      if (this.#views.get(id) !== token) continue;
      const seen = token.ownerAt ?? this.#since;
      if (quiet(seen)) out.push(id);
      // Back with its sighting: one still silent is popped at the next sweep.
      this.#queue.push({ seen, id, token });
    }
    return out.sort();
  }

  #view(id: TesseraId): View {
    let view = this.#views.get(id);
    if (!view) {
      this.#views.set(id, view = {});
      this.#queue.push({ seen: this.#since, id, token: view });
      // Made by a challenge, or before a store that may fail: not yet known held.
      this.#unsettled.add(id);
    }
    return view;
  }
}

/** What we saw of one held tessera. */
interface View {
  /** Its owner, once learnt from the manifest. */
  owner?: PeerId;
  /** When the owner last challenged us. */
  ownerAt?: number;
  /** Other challengers and when each last did, oldest first. */
  auditors?: Map<PeerId, number>;
}
