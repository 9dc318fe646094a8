/**
 * Time to heal after a loss of shards: from a tessera falling short of
 * its placements (a departure, an outage, a dropped shard) to fully
 * placed again, whatever the cause. Both simulator levels feed it the
 * census's changes; each brings its own notion of now.
 *
 * @module
 */
import type { TesseraId } from "../lib/core/mod.ts";
import type { ShardCensus } from "./census.ts";
import { type HealStats, healStats } from "./summary.ts";

const HOUR = 3_600_000;

/**
 * Watches tesseras fall short of shards and heal.
 *
 * @example
 * ```ts
 * import type { ShardCensus, VirtualClock } from "./mod.ts";
 * declare const census: ShardCensus;
 * declare const clock: VirtualClock;
 * const heals = new HealWatch(census, { now: () => clock.now() });
 * census.onChange = (id) => heals.see(id);
 * heals.stats(); // { healed, open, medianHours, p95Hours, maxHours }
 * ```
 */
export class HealWatch {
  readonly #census: ShardCensus;
  readonly #now: () => number;
  /** Tesseras short of shards, since when (ms). */
  readonly #shortSince = new Map<TesseraId, number>();
  /** Hours each healed loss took. */
  readonly #healedHours: number[] = [];

  /**
   * @param census the ground truth
   * @param options `now`: the level's current time, ms
   */
  constructor(census: ShardCensus, options: { now: () => number }) {
    this.#census = census;
    this.#now = options.now;
  }

  /** The census changed `id`: start or stop its clock. */
  see(id: TesseraId): void {
    const status = this.#census.status(id);
    if (status === undefined) return;
    const since = this.#shortSince.get(id);
    if (status !== "healthy") {
      if (since === undefined) this.#shortSince.set(id, this.#now());
    } else if (since !== undefined) {
      this.#healedHours.push((this.#now() - since) / HOUR);
      this.#shortSince.delete(id);
    }
  }

  /** Heal times so far; losses not healed yet count as `open`. */
  stats(): HealStats {
    return healStats(this.#healedHours, this.#shortSince.size);
  }
}
