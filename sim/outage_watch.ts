/**
 * Outages and their heal times, as both levels measure them: what each
 * outage hit (tesseras with a placement on the nodes it took) and broke
 * (made unhealthy or unreadable), split into those whose owner survived
 * it and orphans (repair is the owner's job, nobody heals those), and
 * when the last of the former was whole again.
 *
 * @module
 */
import type { TesseraId } from "../lib/core/mod.ts";
import type { ShardCensus } from "./census.ts";
import type { OutageRecord } from "./result.ts";
import { round3 } from "./summary.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One outage being watched. */
export interface OutageMark {
  readonly label: string;
  readonly at: number;
  /** The nodes it takes. */
  readonly nodes: readonly number[];
  /** Tesseras already unhealthy or unreadable when it started. */
  readonly before: ReadonlySet<TesseraId>;
  /** What its nodes held when it started, per tessera (see `ShardCensus.heldBy`). */
  readonly took: ReadonlyMap<TesseraId, ReadonlyMap<number, number>>;
  /** Of those hit with their owner alive, the ones not healed yet. */
  affected: Set<TesseraId> | null;
  hit: number;
  broken: number;
  orphaned: number;
  healedAt: number | null;
}

/** What an {@linkcode OutageWatch} reads. */
export interface OutageWatchOptions {
  /** The level's current time, ms. */
  readonly now: () => number;
  /** Time zero of {@linkcode OutageRecord.day}, ms. */
  readonly epoch: number;
  /** Whether the owner of `id` is still around to repair it. */
  readonly ownerAlive: (id: TesseraId) => boolean;
}

/**
 * Watches outages heal. An outage *hits* every tessera with a placement
 * on the nodes it takes (dark for a while or gone for good); a hit
 * tessera is *healed* when every placement the outage took exists again
 * apart from its nodes still dark: they came back, or repair placed the
 * shards again elsewhere. (Other losses meanwhile are not the outage's:
 * the summary's heal-after-loss figure times those.)
 *
 * @example
 * ```ts
 * import type { ShardCensus } from "./mod.ts";
 * declare const census: ShardCensus;
 * declare const now: () => number;
 * declare const epoch: number;
 * declare const ownerAlive: (id: string) => boolean;
 * const watch = new OutageWatch(census, { now, epoch, ownerAlive });
 * const mark = watch.begin("10.0.1.0/24 lost for good (2 nodes)", [4, 5]);
 * // … the nodes go down …
 * watch.measure(mark);
 * census.onShards = (id) => watch.see(id);
 * watch.records(); // [{ label, day, tesseras, broken, orphaned, healHours }]
 * ```
 */
export class OutageWatch {
  readonly #census: ShardCensus;
  readonly #options: OutageWatchOptions;
  readonly #marks: OutageMark[] = [];

  /**
   * @param census the ground truth
   * @param options see {@linkcode OutageWatchOptions}
   */
  constructor(census: ShardCensus, options: OutageWatchOptions) {
    this.#census = census;
    this.#options = options;
  }

  /** An outage is about to take `nodes`: what do they hold, what was bad? */
  begin(label: string, nodes: readonly number[]): OutageMark {
    const mark: OutageMark = {
      label,
      at: this.#options.now(),
      nodes: [...nodes],
      before: new Set(this.#census.bad()),
      took: this.#census.heldBy(nodes),
      affected: null,
      hit: 0,
      broken: 0,
      orphaned: 0,
      healedAt: null,
    };
    this.#marks.push(mark);
    return mark;
  }

  /** The outage has struck: count what it hit, broke and orphaned. */
  measure(mark: OutageMark): void {
    const broken = this.#census.bad().filter((id) => !mark.before.has(id));
    const all = new Set([...mark.took.keys(), ...broken]);
    const owned = [...all].filter((id) => this.#options.ownerAlive(id));
    const made = new Set(broken);
    mark.hit = owned.length;
    mark.broken = owned.filter((id) => made.has(id)).length;
    mark.orphaned = all.size - owned.length;
    mark.affected = new Set(owned.filter((id) => !this.#healed(id, mark)));
    if (mark.affected.size === 0) mark.healedAt = mark.at;
  }

  /** The census changed `id`'s shards: an outage may have healed. */
  see(id: TesseraId): void {
    for (const o of this.#marks) {
      if (o.healedAt !== null || !o.affected?.has(id)) continue;
      if (!this.#healed(id, o)) continue;
      o.affected.delete(id);
      if (o.affected.size === 0) o.healedAt = this.#options.now();
    }
  }

  /** Check every tessera still open (a level that looks once a day). */
  seeAll(): void {
    for (const o of this.#marks) {
      if (o.healedAt !== null || !o.affected) continue;
      for (const id of o.affected) this.see(id);
    }
  }

  #healed(id: TesseraId, mark: OutageMark): boolean {
    const took = mark.took.get(id);
    // Broken without a placement there (e.g. unreadable as other holders
    // were away): healed once good again.
    if (!took) return this.#census.isGood(id);
    return this.#census.restoredWithout(id, took, mark.nodes);
  }

  /** The outages so far with their heal times. */
  records(): OutageRecord[] {
    return this.#marks.map((o) => ({
      label: o.label,
      day: round3((o.at - this.#options.epoch) / DAY),
      tesseras: o.hit,
      broken: o.broken,
      orphaned: o.orphaned,
      healHours: o.healedAt !== null
        ? round3((o.healedAt - o.at) / HOUR)
        : null,
    }));
  }
}
