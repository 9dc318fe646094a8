/**
 * The last repair sweeps of a running daemon, for the dashboard's charts
 * of health and repair traffic over time. Kept in memory: the sweeps'
 * reports are not stored anywhere else, and a restart starts a new
 * history (the tesseras' own last check stays in the holder registry).
 *
 * @module
 */
import type { SweepReport } from "../replication/mod.ts";

/** One sweep, summed up. */
export interface SweepSummary {
  /** Start, ms since the epoch. */
  readonly startedAt: number;
  /** End, ms since the epoch. */
  readonly finishedAt: number;
  /** `loop` (the timer) or `manual` (`repair`, the dashboard). */
  readonly trigger: "loop" | "manual";
  /** Tesseras found healthy. */
  readonly healthy: number;
  /** Tesseras repaired back to healthy. */
  readonly repaired: number;
  /** Tesseras still not healthy. */
  readonly degraded: number;
  /** Tesseras that cannot be recovered. */
  readonly lost: number;
  /** Shards rebuilt. */
  readonly rebuiltShards: number;
  /** Bytes fetched from holders to repair. */
  readonly bytesFetched: number;
  /** Bytes pushed to new holders. */
  readonly bytesSent: number;
}

/** Sweeps kept (a sweep a day is over a year; a test's every few s, minutes). */
const DEFAULT_LIMIT = 500;

/**
 * The newest sweeps, oldest first, at most `limit`.
 *
 * @example
 * ```ts
 * import type { SweepReport } from "../replication/mod.ts";
 * declare const report: SweepReport;
 * const history = new SweepHistory();
 * history.record(report, "loop");
 * history.list().length; // 1
 * ```
 */
export class SweepHistory {
  readonly #limit: number;
  readonly #sweeps: SweepSummary[] = [];

  /** @param options how many sweeps to keep (default 500) */
  constructor(options: { limit?: number } = {}) {
    this.#limit = options.limit ?? DEFAULT_LIMIT;
  }

  /** Adds `report`, dropping the oldest past the limit. */
  record(report: SweepReport, trigger: "loop" | "manual"): void {
    let rebuiltShards = 0, bytesFetched = 0, bytesSent = 0;
    for (const t of report.tesseras) {
      rebuiltShards += t.rebuilt.length;
      bytesFetched += t.bytesFetched;
      bytesSent += t.bytesSent;
    }
    this.#sweeps.push({
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      trigger,
      healthy: report.healthy,
      repaired: report.repaired,
      degraded: report.degraded,
      lost: report.lost,
      rebuiltShards,
      bytesFetched,
      bytesSent,
    });
    if (this.#sweeps.length > this.#limit) {
      this.#sweeps.splice(0, this.#sweeps.length - this.#limit);
    }
  }

  /** The kept sweeps, oldest first. */
  list(): readonly SweepSummary[] {
    return [...this.#sweeps];
  }
}
