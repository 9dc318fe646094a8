/**
 * Holders announce themselves (docs/stewards.md): once per sweep, each
 * tessera we hold shards of and keep the owner's manifest for is
 * announced in the DHT as held by us, at most once per `reannounceMs`,
 * so that other holders (stewards) find us once the owner is gone. Not
 * on every receive: an announcement is a DHT walk, a shard is not.
 *
 * @module
 */
import type { IoOptions, TesseraId } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";

/** Default gap between two announcements of one tessera: 12 h. */
export const DEFAULT_REANNOUNCE_MS = 12 * 3600 * 1000;

/** What one round of announcements did. */
export interface AnnounceReport {
  /** Tesseras announced this round. */
  readonly announced: number;
  /** Announcements that failed (retried next round). */
  readonly failed: number;
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
   * Announce every held tessera with a kept manifest whose last
   * announcement is older than the gap. Nothing without a DHT that
   * announces or without a manifest store.
   */
  async announceDue(
    ctx: ServiceContext,
    options: IoOptions = {},
  ): Promise<AnnounceReport> {
    const announce = ctx.dht.announceHolder?.bind(ctx.dht);
    if (announce === undefined || ctx.manifests === undefined) {
      return { announced: 0, failed: 0 };
    }
    const due = await this.#due(ctx, options);
    let failed = 0;
    for (const id of due) {
      options.signal?.throwIfAborted();
      try {
        await announce(id, options);
        this.#last.set(id, ctx.clock.now());
      } catch (e) {
        options.signal?.throwIfAborted();
        failed++;
        ctx.log.debug("announcing {tessera} failed: {error}", {
          tessera: id,
          error: String(e),
        });
      }
    }
    return { announced: due.length - failed, failed };
  }

  /** Held tesseras with a kept manifest, not announced within the gap. */
  async #due(ctx: ServiceContext, options: IoOptions): Promise<TesseraId[]> {
    const held = new Set(
      (await ctx.fragments.list(undefined, options)).map((f) => f.tesseraId),
    );
    const kept = new Set(await ctx.manifests!.list(options));
    const now = ctx.clock.now();
    for (const id of this.#last.keys()) {
      if (!held.has(id)) this.#last.delete(id);
    }
    return [...held].filter((id) => {
      const last = this.#last.get(id);
      return kept.has(id) &&
        (last === undefined || now - last >= this.#reannounceMs);
    });
  }
}
