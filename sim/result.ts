/**
 * What a simulation is asked and what it returns, at either level: the
 * options, the progress, the outage records and the result. Types only,
 * so the driver and both levels import them without importing each other.
 *
 * @module
 */
import type { Scenario } from "./scenario.ts";
import type { Sample, SimCheck, SimSummary } from "./summary.ts";

/** Options of `runSimulation`; each overrides the scenario's value. */
export interface SimulationOptions {
  /** A built-in scenario name or a scenario object (default `default`). */
  readonly scenario?: string | Scenario;
  /** Nodes at the start. */
  readonly nodes?: number;
  /** Virtual days. */
  readonly days?: number;
  /** Tesseras placed. */
  readonly tesseras?: number;
  /** Permanent churn, fraction of nodes per month (e.g. 0.1). */
  readonly churn?: number;
  /** Seed; equal seeds give equal summaries (but for `wallSeconds`). */
  readonly seed?: string | number;
  /** Byte scale, e.g. 1/1024. */
  readonly scale?: number;
  /** `port` (default) or `libp2p` (real libp2p nodes over the memory transport). */
  readonly stack?: "port" | "libp2p";
  /** Closest-peer model: `kademlia` (default) or `exact`. */
  readonly lookup?: "kademlia" | "exact";
  /**
   * `stable`: owners never leave for good; `churn`: they leave like
   * everyone (default of every scenario that churns).
   */
  readonly owners?: "stable" | "churn";
  /** Called once per virtual day. */
  readonly onProgress?: (progress: SimProgress) => void;
  /** Stops the run between events. */
  readonly signal?: AbortSignal;
}

/** What a level of the simulator needs beyond its scenario. */
export type LevelOptions = Pick<SimulationOptions, "onProgress" | "signal">;

/** Progress of a run. */
export interface SimProgress {
  /** Virtual days done. */
  readonly day: number;
  /** Virtual days in all. */
  readonly days: number;
  /** Census now. */
  readonly healthy: number;
  /** Census now. */
  readonly degraded: number;
  /** Census now: too few shards on the holders (the owner's copy may re-seed it). */
  readonly unrecoverable: number;
  /** Unrecoverable with the owner gone too: never comes back. */
  readonly lostForGood: number;
}

/** An outage and how long it took to heal. */
export interface OutageRecord {
  /** What went dark. */
  readonly label: string;
  /** When, in virtual days. */
  readonly day: number;
  /**
   * Tesseras it hit whose owner survived it: each had a placement on a
   * node it took (dark for a while or gone for good).
   */
  readonly tesseras: number;
  /**
   * Of those, how many it broke: made unhealthy (short of their target)
   * or unreadable (too few shards online).
   */
  readonly broken: number;
  /** Tesseras it hit whose owner it took (nobody repairs those). */
  readonly orphaned: number;
  /**
   * Hours until every placement it took from the tesseras it hit (owner
   * alive) existed again apart from its nodes still dark: they came
   * back, or repair placed the shards again elsewhere (null: never).
   */
  readonly healHours: number | null;
}

/** What `runSimulation` returns. */
export interface SimulationResult {
  /** The summary (the `--json` object). */
  readonly summary: SimSummary;
  /** Every check, passed or not. */
  readonly checks: readonly SimCheck[];
  /** Whether every check passed. */
  readonly ok: boolean;
  /** Census samples over time. */
  readonly series: readonly Sample[];
  /** Every positive peer deficit in every ledger at the end, bytes. */
  readonly deficits: readonly number[];
  /** Shard copies held at the end, by shard size in bytes. */
  readonly shardSizes: ReadonlyMap<number, number>;
  /** Outages and their heal times. */
  readonly outages: readonly OutageRecord[];
  /** The scenario as run (with overrides applied). */
  readonly scenario: Scenario;
  /**
   * `--stack libp2p` only: wall seconds from the start at which each
   * phase ended (`started`, `filled`, `recallMeasured`, `placed`,
   * `day1`…`dayN`, `churned`).
   */
  readonly phaseSeconds?: Readonly<Record<string, number>>;
}
