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
 * @module
 */
import type { PeerId, TesseraId } from "../core/mod.ts";

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

  /** Forget tesseras we no longer hold. */
  retain(held: ReadonlySet<TesseraId>): void {
    for (const id of this.#views.keys()) {
      if (!held.has(id)) this.#views.delete(id);
    }
  }

  #view(id: TesseraId): View {
    let view = this.#views.get(id);
    if (!view) this.#views.set(id, view = {});
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
