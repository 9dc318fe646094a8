/**
 * Holders announce themselves (docs/stewards.md): at the end of each
 * sweep, each tessera we hold shards of and keep the owner's manifest
 * for, and have not announced yet, is announced in the DHT as held by
 * us, so that other holders (stewards) find us once the owner is gone.
 * Batched at the sweep, not on every receive: an announcement is a DHT
 * walk, a shard is not.
 *
 * A provider record lives 48 h unless refreshed. A DHT that refreshes
 * our records itself (kad-dht's reprovider, {@linkcode DhtPort.refreshesHolders})
 * is told once per tessera and process, and told to stop when we no
 * longer hold it. Any other DHT (the simulator's) is announced to again
 * once the last announcement is `reannounceMs` old: the same walk per
 * record and day the reprovider makes, paid where it can be counted.
 *
 * @module
 */
import {
  type DhtPort,
  type IoOptions,
  mapPool,
  type TesseraId,
  tesserasHeld,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Default gap between two announcements of one tessera when the DHT does
 * not refresh them: 12 h, so that sweeps a day apart refresh every record
 * well before its 48 h expiry.
 */
export const DEFAULT_REANNOUNCE_MS = 12 * 3600 * 1000;

/** Announcement walks in flight at once (each waits on the network). */
const ANNOUNCE_CONCURRENCY = 4;

/** What one round of announcements did. */
export interface AnnounceReport {
  /** Tesseras announced this round. */
  readonly announced: number;
  /** Announcements that failed (retried next round). */
  readonly failed: number;
  /** Tesseras no longer held whose announcement we stopped refreshing. */
  readonly withdrawn: number;
}

/**
 * When each held tessera was last announced; one per service.
 *
 * @example
 * ```ts ignore
 * const report = await announcer.announceDue(ctx);
 * ```
 */
export class HolderAnnouncer {
  readonly #last = new Map<TesseraId, number>();
  readonly #reannounceMs: number;

  /** @param reannounceMs least gap between two announcements of a tessera */
  constructor(reannounceMs = DEFAULT_REANNOUNCE_MS) {
    this.#reannounceMs = reannounceMs;
  }

  /**
   * Announce every held tessera with a kept manifest that is not
   * announced yet (or, on a DHT that does not refresh records, whose last
   * announcement is older than the gap); withdraw those no longer held.
   * Nothing without a DHT that announces or without a manifest store.
   */
  async announceDue(
    ctx: ServiceContext,
    options: IoOptions = {},
  ): Promise<AnnounceReport> {
    const announce = ctx.dht.announceHolder?.bind(ctx.dht);
    if (announce === undefined || ctx.manifests === undefined) {
      return { announced: 0, failed: 0, withdrawn: 0 };
    }
    const held = new Set(await tesserasHeld(ctx.fragments, options));
    const withdrawn = await this.#forgetDropped(ctx.dht, held, options);
    const due = await this.#due(ctx, held, options);
    const outcomes = await mapPool(due, async (id) => {
      options.signal?.throwIfAborted();
      try {
        await announce(id, options);
        this.#last.set(id, ctx.clock.now());
        return true;
      } catch (e) {
        options.signal?.throwIfAborted();
        ctx.log.debug("announcing {tessera} failed: {error}", {
          tessera: id,
          error: String(e),
        });
        return false;
      }
    }, { limit: ANNOUNCE_CONCURRENCY });
    const announced = outcomes.filter((ok) => ok).length;
    return { announced, failed: due.length - announced, withdrawn };
  }

  /** Forget (and withdraw, where the DHT refreshes) what is not held now. */
  async #forgetDropped(
    dht: DhtPort,
    held: ReadonlySet<TesseraId>,
    options: IoOptions,
  ): Promise<number> {
    let withdrawn = 0;
    for (const id of [...this.#last.keys()]) {
      if (held.has(id)) continue;
      this.#last.delete(id);
      if (!dht.refreshesHolders || dht.withdrawHolder === undefined) continue;
      // Best effort: a record left behind expires and proves nothing.
      await dht.withdrawHolder(id, options).catch(() => {});
      withdrawn++;
    }
    return withdrawn;
  }

  /** Held tesseras with a kept manifest, not announced (within the gap). */
  async #due(
    ctx: ServiceContext,
    held: ReadonlySet<TesseraId>,
    options: IoOptions,
  ): Promise<TesseraId[]> {
    const now = ctx.clock.now();
    const refreshed = ctx.dht.refreshesHolders === true;
    const stale = [...held].filter((id) => {
      const last = this.#last.get(id);
      return last === undefined ||
        (!refreshed && now - last >= this.#reannounceMs);
    });
    if (stale.length === 0) return [];
    const kept = new Set(await ctx.manifests!.list(options));
    return stale.filter((id) => kept.has(id)).sort();
  }
}
