/**
 * An in-memory {@linkcode HolderRegistry} for unit tests and the simulator.
 *
 * @module
 */
import {
  type Checksum,
  type FragmentPlan,
  type HolderRecord,
  type HolderRegistry,
  type PeerId,
  type TesseraId,
  TesserasError,
  type TrackedTessera,
} from "../core/mod.ts";

interface Tracked {
  tessera: TrackedTessera;
  /** Keyed by `${index}\n${peerId}`; copied whenever handed out. */
  holders: Map<string, Mutable<HolderRecord>>;
  /** The same records again by peer: owners mark a peer at a time. */
  byPeer: Map<PeerId, Map<string, Mutable<HolderRecord>>>;
  /**
   * `holders` by index then peer id, until the set changes: owners list
   * holders at every check, and holders change far less often.
   */
  ordered: Mutable<HolderRecord>[] | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Options of {@linkcode MemoryHolderRegistry}. */
export interface MemoryHolderRegistryOptions {
  /** Source of timestamps (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Plans, checksums and holders of tracked tesseras, in maps.
 *
 * @example
 * ```ts
 * import type { Checksum, FragmentPlan } from "../core/mod.ts";
 * declare const id: string;
 * declare const plan: FragmentPlan;
 * declare const checksums: Checksum[];
 * const registry = new MemoryHolderRegistry();
 * await registry.track(id, { plan, checksums });
 * await registry.addHolder(id, { index: 0, peerId: "peerA" });
 * ```
 */
export class MemoryHolderRegistry implements HolderRegistry {
  readonly #tracked = new Map<TesseraId, Tracked>();
  readonly #now: () => number;

  /**
   * An empty registry.
   *
   * @param options see {@linkcode MemoryHolderRegistryOptions}
   */
  constructor(options: MemoryHolderRegistryOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  #require(tesseraId: TesseraId): Tracked {
    const t = this.#tracked.get(tesseraId);
    if (!t) {
      throw new TesserasError(
        "NOT_FOUND",
        `tessera ${tesseraId} is not tracked: track it before adding holders`,
      );
    }
    return t;
  }

  /** Record (or replace) a tessera's plan and checksums; holders are kept. */
  track(
    tesseraId: TesseraId,
    placement: { plan: FragmentPlan; checksums: readonly Checksum[] },
  ): Promise<void> {
    const existing = this.#tracked.get(tesseraId);
    const tessera: TrackedTessera = {
      tesseraId,
      plan: { ...placement.plan },
      checksums: [...placement.checksums],
      createdAt: existing?.tessera.createdAt ?? this.#now(),
      lastCheckedAt: existing?.tessera.lastCheckedAt ?? null,
      lastHealth: existing?.tessera.lastHealth ?? null,
    };
    if (existing) existing.tessera = tessera;
    else {
      this.#tracked.set(tesseraId, {
        tessera,
        holders: new Map(),
        byPeer: new Map(),
        ordered: null,
      });
    }
    return Promise.resolve();
  }

  /** The tracked tessera, or `null`. */
  get(tesseraId: TesseraId): Promise<TrackedTessera | null> {
    const t = this.#tracked.get(tesseraId);
    return Promise.resolve(t ? { ...t.tessera } : null);
  }

  /** All tracked tesseras, ordered by id. */
  list(): Promise<TrackedTessera[]> {
    const ids = [...this.#tracked.keys()].sort();
    return Promise.resolve(
      ids.map((id) => ({ ...this.#tracked.get(id)!.tessera })),
    );
  }

  /** Stop tracking a tessera and forget its holders. */
  untrack(tesseraId: TesseraId): Promise<void> {
    this.#tracked.delete(tesseraId);
    return Promise.resolve();
  }

  /** `peer` now holds shard `index` (re-adding refreshes `storedAt`). */
  addHolder(
    tesseraId: TesseraId,
    holder: { index: number; peerId: PeerId; ip?: string },
  ): Promise<void> {
    try {
      const t = this.#require(tesseraId);
      const key = `${holder.index}\n${holder.peerId}`;
      const prev = t.holders.get(key);
      const record: Mutable<HolderRecord> = {
        index: holder.index,
        peerId: holder.peerId,
        storedAt: this.#now(),
        lastAttestedAt: prev?.lastAttestedAt ?? null,
        ...(holder.ip !== undefined
          ? { ip: holder.ip }
          : prev?.ip !== undefined
          ? { ip: prev.ip }
          : {}),
      };
      const mine = t.byPeer.get(holder.peerId);
      if (mine) mine.set(key, record);
      else t.byPeer.set(holder.peerId, new Map([[key, record]]));
      t.ordered = null;
      t.holders.set(key, record);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `holder.peerId` no longer holds shard `holder.index` (or any shard of
   * the tessera when `index` is omitted).
   */
  removeHolder(
    tesseraId: TesseraId,
    holder: { peerId: PeerId; index?: number },
  ): Promise<void> {
    const { peerId: peer, index } = holder;
    const t = this.#tracked.get(tesseraId);
    const mine = t?.byPeer.get(peer);
    if (t && mine) {
      for (const [key, record] of [...mine]) {
        if (index === undefined || record.index === index) {
          t.holders.delete(key);
          t.ordered = null;
          mine.delete(key);
        }
      }
      if (mine.size === 0) t.byPeer.delete(peer);
    }
    return Promise.resolve();
  }

  /** Holder records ordered by index then peer id. */
  holders(tesseraId: TesseraId): Promise<HolderRecord[]> {
    const t = this.#tracked.get(tesseraId);
    if (!t) return Promise.resolve([]);
    t.ordered ??= [...t.holders.values()].sort((a, b) =>
      a.index - b.index ||
      (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
    );
    return Promise.resolve(t.ordered.map((h) => ({ ...h })));
  }

  /** Mark a successful attestation of `peer` (all its records). */
  markAttested(
    tesseraId: TesseraId,
    attested: { peerId: PeerId; at: number },
  ): Promise<void> {
    const t = this.#tracked.get(tesseraId);
    const mine = t?.byPeer.get(attested.peerId);
    if (mine) {
      // Records never leave the registry uncopied: updated in place.
      for (const record of mine.values()) record.lastAttestedAt = attested.at;
    }
    return Promise.resolve();
  }

  /** Record the result of a health check. */
  markChecked(
    tesseraId: TesseraId,
    check: { health: string; at: number },
  ): Promise<void> {
    const t = this.#tracked.get(tesseraId);
    if (t) {
      t.tessera = {
        ...t.tessera,
        lastCheckedAt: check.at,
        lastHealth: check.health,
      };
    }
    return Promise.resolve();
  }
}
