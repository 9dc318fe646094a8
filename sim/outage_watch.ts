/**
 * Outages and their heal times, as both levels measure them: what each
 * outage broke (tesseras that turned unhealthy or unreadable), split into
 * those whose owner survived it and orphans (repair is the owner's job,
 * nobody heals those), and when the last of the former was good again.
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
  /** Tesseras already bad when it started (not its doing). */
  readonly before: ReadonlySet<TesseraId>;
  /** Tesseras it broke whose owner survived, not yet good again. */
  affected: Set<TesseraId> | null;
  hit: number;
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
 * Watches outages heal.
 *
 * @example
 * ```ts
 * const watch = new OutageWatch(census, { now, epoch, ownerAlive });
 * const mark = watch.begin("10.0.1.0/24 lost for good (2 nodes)");
 * // … the nodes go down …
 * watch.measure(mark);
 * census.onChange = (id) => watch.see(id);
 * watch.records(); // [{ label, day, tesseras, orphaned, healHours }]
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

  /** An outage starts now: remember what was bad before it. */
  begin(label: string): OutageMark {
    const mark: OutageMark = {
      label,
      at: this.#options.now(),
      before: new Set(this.#census.bad()),
      affected: null,
      hit: 0,
      orphaned: 0,
      healedAt: null,
    };
    this.#marks.push(mark);
    return mark;
  }

  /** The outage has struck: count what it broke. */
  measure(mark: OutageMark): void {
    const broken = this.#census.bad().filter((id) => !mark.before.has(id));
    const owned = broken.filter((id) => this.#options.ownerAlive(id));
    mark.affected = new Set(owned);
    mark.hit = owned.length;
    mark.orphaned = broken.length - owned.length;
    if (mark.hit === 0) mark.healedAt = mark.at;
  }

  /** The census changed `id`: an outage may have healed. */
  see(id: TesseraId): void {
    for (const o of this.#marks) {
      if (o.healedAt !== null || !o.affected?.has(id)) continue;
      if (!this.#census.isGood(id)) continue;
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

  /** The outages so far with their heal times. */
  records(): OutageRecord[] {
    return this.#marks.map((o) => ({
      label: o.label,
      day: round3((o.at - this.#options.epoch) / DAY),
      tesseras: o.hit,
      orphaned: o.orphaned,
      healHours: o.healedAt !== null
        ? round3((o.healedAt - o.at) / HOUR)
        : null,
    }));
  }
}
