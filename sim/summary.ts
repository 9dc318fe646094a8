/**
 * The run's summary (the `--json` object), its time series, and the
 * checks a run must pass.
 *
 * @module
 */
import type { Promises } from "./scenario.ts";

/** One census sample. */
export interface Sample {
  /** Virtual days since the start. */
  readonly day: number;
  /** Tesseras fully replicated (on nodes online or away). */
  readonly healthy: number;
  /** Recoverable but short of target. */
  readonly degraded: number;
  /** Not recoverable from the network. */
  readonly lost: number;
  /** Degraded ones unreadable right now. */
  readonly unavailable: number;
  /** Nodes online. */
  readonly online: number;
  /** Nodes present (online or away). */
  readonly present: number;
  /** Repair bytes so far (pushed by repair plus fetched to rebuild). */
  readonly repairBytes: number;
  /** Shard bytes on present nodes. */
  readonly storedBytes: number;
}

/** The summary of a run; byte figures are in the run's scaled units. */
export interface SimSummary {
  /** Scenario name. */
  readonly scenario: string;
  /** Seed used. */
  readonly seed: string;
  /** `port` or `libp2p`. */
  readonly stack: "port" | "libp2p";
  /** Byte scale applied. */
  readonly scale: number;
  /** Nodes at the start. */
  readonly nodes: number;
  /** Nodes present at the end. */
  readonly nodesEnd: number;
  /** Virtual days simulated. */
  readonly virtualDays: number;
  /** Tesseras placed. */
  readonly tesseras: number;
  /** At the end: fully replicated (on nodes online or away). */
  readonly healthy: number;
  /** At the end: recoverable but short of target. */
  readonly degraded: number;
  /** At the end: not recoverable from the network. */
  readonly lost: number;
  /** Tesseras that were unrecoverable from the network at any moment. */
  readonly lostEver: number;
  /**
   * Tesseras whose owner left for good: repair is the owner's job, so
   * nobody repairs these any more.
   */
  readonly orphaned: number;
  /** Of `lostEver`, tesseras owned by free riders. */
  readonly freeRiderLostEver: number;
  /** At the end: too few shards online to read now. */
  readonly unavailable: number;
  /** Tesseras whose recorded holders ever broke the subnet cap. */
  readonly subnetViolations: number;
  /** Largest deficit any node's ledger shows for a present fair peer. */
  readonly maxDeficitBytes: number;
  /** Largest deficit any ledger shows for a free rider. */
  readonly maxFreeRiderDeficitBytes: number;
  /** The tolerance in force (scaled). */
  readonly deficitToleranceBytes: number;
  /** Bytes moved by repair: accepted pushes to new holders plus fetched to rebuild. */
  readonly repairBytes: number;
  /**
   * Bytes of pushes the receiver refused (deficit, space, free riders),
   * first placement and repair alike: sent, then wasted.
   */
  readonly refusedBytes: number;
  /** Bytes pushed by first placements. */
  readonly placementBytes: number;
  /** Shard bytes on present nodes at the end. */
  readonly storedBytes: number;
  /** `repairBytes / storedBytes`. */
  readonly repairRatio: number;
  /** Mean fraction of target redundancy of free riders' tesseras (null when none). */
  readonly freeRiderRedundancy: number | null;
  /** Same for fair owners' tesseras. */
  readonly fairRedundancy: number | null;
  /**
   * {@linkcode SimSummary.freeRiderRedundancy} averaged over the run's
   * samples (daily): what the free-riders check compares, since at any
   * one moment a few tesseras of either group are mid-repair.
   */
  readonly freeRiderRedundancyMean: number | null;
  /** Same for fair owners' tesseras. */
  readonly fairRedundancyMean: number | null;
  /** Nines of annual durability (see `durabilityBasis`). */
  readonly durabilityNines: number;
  /**
   * `point`: `-log10(lostEver / tessera-years)`; `lower95`: no loss seen,
   * so the 95% lower bound from the rule of three, `-log10(3 / tessera-years)`.
   */
  readonly durabilityBasis: "point" | "lower95";
  /**
   * Model estimate of annual durability in nines (capped at 30), from the
   * measured daily rate of permanent departures and the repair window,
   * assuming independent failures (correlated ones are what the outage
   * scenarios measure): a tessera is lost when more holders than its
   * parity leave within one window.
   */
  readonly durabilityModelNines: number;
  /** Hours from each outage until every tessera it broke was healthy and readable again (null: never). */
  readonly healHours: readonly (number | null)[];
  /**
   * Time to heal after each loss of shards, whatever caused it (a
   * departure, an outage, a dropped shard): hours from a tessera falling
   * short of its placements until it was fully placed again (at the full
   * stack, in whole days of sweeps × 24: 0 is healed by that day's sweep).
   */
  readonly healAfterLoss: HealStats;
  /** Permanent departures. */
  readonly departures: number;
  /** Fresh arrivals. */
  readonly arrivals: number;
  /** Transient absences. */
  readonly absences: number;
  /** Repair sweeps run, over all nodes. */
  readonly sweeps: number;
  /** Placements that failed outright. */
  readonly placementFailures: number;
  /** Messages sent, by kind. */
  readonly messages: Readonly<Record<string, number>>;
  /** Fraction of the true closest online peers a lookup finds (measured at the end). */
  readonly lookupRecall: number;
  /** Clock events processed. */
  readonly events: number;
  /** Wall-clock seconds (the only field that differs between equal runs). */
  readonly wallSeconds: number;
}

/** One check of a run. */
export interface SimCheck {
  /** Short name. */
  readonly name: string;
  /** Whether it passed. */
  readonly ok: boolean;
  /** What was measured against what. */
  readonly detail: string;
}

/**
 * Annual durability in nines from `lostEver` losses over
 * `tesseras × days / 365` tessera-years; with no loss, the 95% lower
 * bound (rule of three).
 *
 * @example
 * ```ts
 * durability(0, { tesseras: 2000, days: 365 }); // { nines: 2.82…, basis: "lower95" }
 * ```
 */
export function durability(
  lostEver: number,
  over: { readonly tesseras: number; readonly days: number },
): { nines: number; basis: "point" | "lower95" } {
  const exposure = over.tesseras * over.days / 365;
  if (exposure <= 0) return { nines: 0, basis: "lower95" };
  if (lostEver > 0) {
    const p = Math.min(1, lostEver / exposure);
    return { nines: round3(-Math.log10(p)) + 0, basis: "point" }; // + 0: no -0
  }
  const p = Math.min(1, 3 / exposure);
  return { nines: round3(-Math.log10(p)) + 0, basis: "lower95" };
}

/** Inputs of {@linkcode modelDurability}. */
export interface DurabilityModel {
  /** Probability that a node leaves for good on a given day. */
  readonly dailyDeparture: number;
  /** Days from a departure until repair has re-placed its shards. */
  readonly windowDays: number;
  /** How many tesseras of each shape: `[holders, needed, count]`. */
  readonly shapes: readonly (readonly [number, number, number])[];
}

/** `P[Binomial(n, q) >= m]`, summed term by term (fine for tiny q). */
function binomialTail(n: number, q: number, m: number): number {
  if (m <= 0) return 1;
  if (m > n) return 0;
  let sum = 0;
  // log C(n, j) built up incrementally
  let logC = 0;
  for (let j = 1; j <= n; j++) {
    logC += Math.log((n - j + 1) / j);
    if (j >= m) {
      sum += Math.exp(logC + j * Math.log(q) + (n - j) * Math.log1p(-q));
    }
  }
  return Math.min(1, sum);
}

/**
 * Annual durability in nines under independent failures: each of a
 * tessera's `holders` leaves within a window with probability
 * `1 - (1 - dailyDeparture)^windowDays`; the tessera is lost when more
 * than `holders - needed` leave in one window. Averaged over the shapes,
 * capped at 30 nines.
 *
 * @example
 * ```ts
 * modelDurability({ dailyDeparture: 0.0035, windowDays: 3,
 *   shapes: [[7, 1, 10], [24, 16, 10]] }); // ≈ 17
 * ```
 */
export function modelDurability(model: DurabilityModel): number {
  const { dailyDeparture: p, windowDays: w } = model;
  const total = model.shapes.reduce((a, s) => a + s[2], 0);
  if (total === 0 || p <= 0) return 30;
  const q = -Math.expm1(w * Math.log1p(-Math.min(p, 1 - 1e-12)));
  const windows = 365 / w;
  let annual = 0;
  for (const [n, k, count] of model.shapes) {
    const perWindow = binomialTail(n, q, n - k + 1);
    annual += (count / total) * -Math.expm1(windows * Math.log1p(-perWindow));
  }
  if (annual <= 0) return 30;
  return Math.min(30, round3(-Math.log10(annual)) + 0);
}

/**
 * The checks of a run: the subnet cap and the deficit tolerance always,
 * the scenario's promises when it makes them.
 *
 * @example
 * ```ts
 * const checks = evaluateChecks(summary, { zeroLost: true });
 * checks.every((c) => c.ok);
 * ```
 */
export function evaluateChecks(
  summary: SimSummary,
  promises: Promises,
): SimCheck[] {
  const checks: SimCheck[] = [
    {
      name: "subnet-cap",
      ok: summary.subnetViolations === 0,
      detail:
        `${summary.subnetViolations} tesseras with more peers in one subnet than the cap (must be 0)`,
    },
    {
      name: "deficit-tolerance",
      ok: summary.maxDeficitBytes <= summary.deficitToleranceBytes,
      detail:
        `largest fair-peer deficit ${summary.maxDeficitBytes} B vs tolerance ${summary.deficitToleranceBytes} B`,
    },
  ];
  if (promises.zeroLost) {
    checks.push({
      name: "zero-lost",
      ok: summary.lostEver === 0 && summary.lost === 0,
      detail:
        `${summary.lostEver} tesseras ever unrecoverable, ${summary.lost} at the end (promised 0)`,
    });
  }
  if (promises.zeroLostFair) {
    const fair = summary.lostEver - summary.freeRiderLostEver;
    checks.push({
      name: "zero-lost-fair",
      ok: fair === 0,
      detail:
        `${fair} fair owners' tesseras ever unrecoverable (promised 0; free riders lost ${summary.freeRiderLostEver})`,
    });
  }
  if (promises.freeRidersLoseFirst) {
    const fr = summary.freeRiderRedundancyMean;
    const fair = summary.fairRedundancyMean;
    checks.push({
      name: "free-riders-lose-first",
      ok: fr !== null && fair !== null && fr < fair,
      detail: `free riders' redundancy over the run ${
        fmt(fr)
      } vs fair owners' ${fmt(fair)} (must be lower; at the end ${
        fmt(summary.freeRiderRedundancy)
      } vs ${fmt(summary.fairRedundancy)})`,
    });
  }
  if (promises.healWithinHours !== undefined) {
    const limit = promises.healWithinHours;
    const heal = summary.healHours;
    checks.push({
      name: "heal-time",
      ok: heal.length > 0 && heal.every((h) => h !== null && h <= limit),
      detail: `heal times ${
        heal.map((h) => h === null ? "never" : `${h} h`).join(", ") || "none"
      } (promised within ${limit} h)`,
    });
  }
  return checks;
}

function fmt(x: number | null): string {
  return x === null ? "n/a" : x.toFixed(4);
}

/** How long tesseras took to heal after losing shards. */
export interface HealStats {
  /** Losses healed (a tessera short of shards, then fully placed again). */
  readonly healed: number;
  /** Tesseras still short of shards at the end (orphans and lost included). */
  readonly open: number;
  /** Median hours to heal (null when none healed). */
  readonly medianHours: number | null;
  /** 95th percentile, hours. */
  readonly p95Hours: number | null;
  /** Longest, hours. */
  readonly maxHours: number | null;
}

/**
 * {@linkcode HealStats} of the given heal times (hours) with `open`
 * losses not healed yet.
 *
 * @example
 * ```ts
 * healStats([1, 2, 30], 0); // { healed: 3, open: 0, medianHours: 2, p95Hours: 30, maxHours: 30 }
 * ```
 */
export function healStats(hours: readonly number[], open: number): HealStats {
  const sorted = [...hours].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? null : round3(
      sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)],
    );
  return {
    healed: sorted.length,
    open,
    medianHours: at(0.5),
    p95Hours: at(0.95),
    maxHours: sorted.length === 0 ? null : round3(sorted[sorted.length - 1]),
  };
}

/** Round to three decimals (stable across runs, readable in JSON). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** {@linkcode round3}, or `null` for NaN (a mean over nothing). */
function round3OrNull(x: number): number | null {
  return Number.isNaN(x) ? null : round3(x);
}

/** What {@linkcode redundancyFields} reads (a `ShardCensus`). */
export interface RedundancySource {
  /** Mean redundancy of a group's tesseras now (NaN when none). */
  meanRedundancy(group: string): number;
  /** The same averaged over the samples taken (NaN when none). */
  redundancyOverTime(group: string): number;
}

/**
 * The summary's redundancy figures of free riders and fair owners, now
 * and over the run, as both levels report them.
 *
 * @example
 * ```ts
 * const summary = { ...otherFields, ...redundancyFields(census) };
 * ```
 */
export function redundancyFields(
  census: RedundancySource,
): Pick<
  SimSummary,
  | "freeRiderRedundancy"
  | "fairRedundancy"
  | "freeRiderRedundancyMean"
  | "fairRedundancyMean"
> {
  return {
    freeRiderRedundancy: round3OrNull(census.meanRedundancy("freeRider")),
    fairRedundancy: round3OrNull(census.meanRedundancy("fair")),
    freeRiderRedundancyMean: round3OrNull(
      census.redundancyOverTime("freeRider"),
    ),
    fairRedundancyMean: round3OrNull(census.redundancyOverTime("fair")),
  };
}
