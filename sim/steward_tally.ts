/**
 * What the simulator counts of stewardship (docs/stewards.md), from the
 * sweep reports of every node: repairs that placed shards, by owners and
 * by stewards, and the extra copies of two stewards (or a steward and the
 * returning owner) placing the same shard of the same tessera within a
 * short window, i.e. without knowing of each other.
 *
 * @module
 */
import type { TesseraId } from "../lib/core/mod.ts";
import type { RepairReport, SweepReport } from "../lib/replication/mod.ts";

/** The summary's stewardship figures. */
export interface StewardFigures {
  /** Repairs that placed shards, by the tessera's owner. */
  readonly repairsByOwners: number;
  /** Repairs that placed shards, by a steward. */
  readonly repairsByStewards: number;
  /** Bytes stewards placed on the owners' behalf. */
  readonly stewardBytes: number;
  /**
   * Shards a steward placed that another steward had placed within the
   * window (two stewards acting at once).
   */
  readonly stewardExtraCopies: number;
  /** Shards an owner placed again within the window after a steward did. */
  readonly ownerRepeats: number;
  /**
   * Bytes of shards stewards keep for their orphans' next rebuild
   * (steward_copy.ts), over the nodes present at the end: storage beyond
   * `storedBytes`.
   */
  readonly stewardKeptBytes: number;
  /** The most `stewardKeptBytes` was after any sweep. */
  readonly stewardKeptBytesMax: number;
}

/**
 * Counts stewardship from sweep reports.
 *
 * @example
 * ```ts
 * import type { SweepReport } from "../lib/replication/mod.ts";
 * import { StewardTally } from "./steward_tally.ts";
 * declare const report: SweepReport;
 * const tally = new StewardTally(2 * 86_400_000);
 * tally.see(3, { report, at: 0 });
 * tally.figures().repairsByStewards; // 0 or more
 * ```
 */
export class StewardTally {
  readonly #windowMs: number;
  /** Last steward placement of each shard: by whom, when. */
  readonly #placed = new Map<string, { by: number; at: number }>();
  #owners = 0;
  #stewards = 0;
  #bytes = 0;
  #extra = 0;
  #repeats = 0;
  /** What each node's stewards keep, as of its last sweep. */
  readonly #kept = new Map<number, number>();
  #keptSum = 0;
  #keptMax = 0;

  /** @param windowMs placements of one shard this close are extra copies */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Node `node`'s sweep report, finished at `at`. */
  see(node: number, sweep: { report: SweepReport; at: number }): void {
    const { report, at } = sweep;
    for (const r of report.tesseras) {
      if (r.placed.length === 0) continue;
      this.#owners++;
      for (const key of keys(r)) {
        const last = this.#placed.get(key);
        if (last && at - last.at <= this.#windowMs) this.#repeats++;
      }
    }
    for (const r of report.stewards?.repairs ?? []) {
      if (r.placed.length === 0) continue;
      this.#stewards++;
      for (const key of keys(r)) {
        const last = this.#placed.get(key);
        if (last && last.by !== node && at - last.at <= this.#windowMs) {
          this.#extra++;
        }
        this.#placed.set(key, { by: node, at });
      }
    }
    this.#bytes += report.stewards?.bytesOnBehalf ?? 0;
    this.#setKept(node, report.stewards?.keptBytes ?? 0);
  }

  /** Node `node` left for good: what it kept is gone with it. */
  gone(node: number): void {
    this.#setKept(node, 0);
  }

  #setKept(node: number, bytes: number): void {
    this.#keptSum += bytes - (this.#kept.get(node) ?? 0);
    if (bytes > 0) this.#kept.set(node, bytes);
    else this.#kept.delete(node);
    this.#keptMax = Math.max(this.#keptMax, this.#keptSum);
  }

  /** The figures so far. */
  figures(): StewardFigures {
    return {
      repairsByOwners: this.#owners,
      repairsByStewards: this.#stewards,
      stewardBytes: this.#bytes,
      stewardExtraCopies: this.#extra,
      ownerRepeats: this.#repeats,
      stewardKeptBytes: this.#keptSum,
      stewardKeptBytesMax: this.#keptMax,
    };
  }
}

/**
 * One key per shard placed: the index and its occurrence in the report
 * (a Small tessera's whole copies all have index 0).
 */
function keys(r: RepairReport): string[] {
  const id: TesseraId = r.tesseraId;
  const seen = new Map<number, number>();
  return r.placed.map((p) => {
    const k = seen.get(p.index) ?? 0;
    seen.set(p.index, k + 1);
    return `${id}/${p.index}/${k}`;
  });
}
