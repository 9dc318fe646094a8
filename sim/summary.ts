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
  /** Too few shards on the holders to rebuild (see `SimSummary.unrecoverable`). */
  readonly unrecoverable: number;
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
  /** Of those, copies beyond the target (see `SimSummary.surplusBytes`). */
  readonly surplusBytes: number;
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
  /**
   * At the end: too few shards on the holders to rebuild it. Not lost:
   * its owner, while around, keeps a full copy and re-seeds it (so this
   * count goes down as well as up); see `lostForGood`.
   */
  readonly unrecoverable: number;
  /**
   * Tesseras unrecoverable from the holders whose owner has left for good
   * too: nobody has the bytes any more. It never goes down.
   */
  readonly lostForGood: number;
  /** Tesseras that were unrecoverable from their holders at any moment. */
  readonly unrecoverableEver: number;
  /**
   * Tesseras whose owner left for good: repair is the owner's job, so
   * nobody repairs these any more.
   */
  readonly orphaned: number;
  /** Whether owners leave for good like everyone (`churn`) or never (`stable`). */
  readonly owners: "stable" | "churn";
  /** Repairs that placed shards, by the tessera's owner. */
  readonly repairsByOwners: number;
  /** Repairs that placed shards, by a steward (docs/stewards.md). */
  readonly repairsByStewards: number;
  /** Bytes stewards placed on the owners' behalf. */
  readonly stewardBytes: number;
  /**
   * Shards a steward placed that another steward had placed within two
   * repair intervals: the extra copies of stewards acting at once.
   */
  readonly stewardExtraCopies: number;
  /** Shards an owner placed again within two intervals of a steward. */
  readonly ownerRepeats: number;
  /**
   * Bytes of shards stewards keep at the end for their orphans' next
   * rebuild (not placed shards: storage beyond `storedBytes`).
   */
  readonly stewardKeptBytes: number;
  /** The most stewards kept at once during the run. */
  readonly stewardKeptBytesMax: number;
  /** Orphans × the years each was orphaned: the exposure below. */
  readonly orphanYears: number;
  /**
   * Durability shown (as `durabilityShownNines`) over orphans alone:
   * `lostForGood` losses over `orphanYears`.
   */
  readonly orphanDurabilityShownNines: number;
  /** Of `unrecoverableEver`, tesseras owned by free riders. */
  readonly freeRiderUnrecoverableEver: number;
  /** At the end: too few shards online to read now. */
  readonly unavailable: number;
  /**
   * Tesseras whose recorded holders, fully placed, ever sat so that one
   * subnet outage could take them (a /24 held more of them than they can
   * lose) although the peers placement was offered for them (the DHT's
   * answers, less those that refused every shard) spanned subnets enough
   * to spread them.
   */
  readonly subnetViolations: number;
  /**
   * Tesseras whose recorded holders, fully placed, ever survived fewer
   * peer losses than the scenario promises (2 unless it says).
   */
  readonly peerLossViolations: number;
  /** Largest deficit any node's ledger shows for a present fair peer. */
  readonly maxDeficitBytes: number;
  /** Largest deficit any ledger shows for a free rider. */
  readonly maxFreeRiderDeficitBytes: number;
  /** The tolerance in force (scaled). */
  readonly deficitToleranceBytes: number;
  /**
   * Bytes moved by repair: every push outside first placement (accepted
   * or refused) plus the shard bytes fetched to rebuild.
   */
  readonly repairBytes: number;
  /** Of `repairBytes`, the shard bytes fetched to rebuild missing ones. */
  readonly repairFetchBytes: number;
  /** Of `repairBytes`, what stewards (not the owner) pushed or fetched. */
  readonly stewardRepairBytes: number;
  /**
   * Bytes of the reciprocity probes pushed (lib/replication/probe.ts: a
   * tiny shard of a node's own that a peer asking for its free credit
   * must keep and prove), not in `repairBytes`. The port level's only:
   * 0 at the libp2p level, whose repair bytes come from repair reports.
   */
  readonly probeBytes: number;
  /**
   * Bytes of pushes the receiver refused (deficit, space, free riders),
   * first placement and repair alike: sent, then wasted.
   */
  readonly refusedBytes: number;
  /** Bytes pushed by first placements. */
  readonly placementBytes: number;
  /** Shard bytes on present nodes at the end. */
  readonly storedBytes: number;
  /**
   * Of `storedBytes`, copies beyond the target (a second copy of a shard,
   * an eighth copy of a Small tessera): repair places a shard again when
   * its holder stays away past the grace, and the returning holder's copy
   * is not removed, so after an outage stored bytes rise and stay up.
   */
  readonly surplusBytes: number;
  /** `repairBytes / storedBytes`. */
  readonly repairRatio: number;
  /** `repairRatio` per year of the run: repair traffic per stored byte per year. */
  readonly repairRatioPerYear: number;
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
  /** Tesseras × virtual days / 365: the exposure `durabilityShownNines` rests on. */
  readonly tesseraYears: number;
  /**
   * The annual durability (nines) this run shows at 95 % confidence: with
   * `unrecoverableEver` losses over `tesseraYears`, the loss rate is below
   * the 95 % Poisson upper bound (3.0 / tessera-years with no loss), so
   * durability is at least `-log10` of it. A measurement, bounded by the
   * run's length: a short run shows little (0: too short to show any)
   * however well it went.
   */
  readonly durabilityShownNines: number;
  /**
   * A prediction, not a measurement: annual durability in nines (capped
   * at 30) from the
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
 * The annual durability a run shows at 95 % confidence: `losses` over
 * `tesseras × days / 365` tessera-years bound the annual loss rate by the
 * Poisson upper bound (about 3 with no loss: the rule of three), and
 * durability is at least `-log10` of that rate (0 when the run is too
 * short to show any).
 *
 * @example
 * ```ts
 * durabilityShown(0, { tesseras: 2000, days: 365 }); // { tesseraYears: 2000, nines: 2.824 }
 * ```
 */
export function durabilityShown(
  losses: number,
  over: { readonly tesseras: number; readonly days: number },
): { tesseraYears: number; nines: number } {
  const exposure = over.tesseras * over.days / 365;
  const tesseraYears = round3(exposure);
  if (exposure <= 0) return { tesseraYears, nines: 0 };
  const p = Math.min(1, poissonUpper95(losses) / exposure);
  return { tesseraYears, nines: round3(-Math.log10(p)) + 0 }; // + 0: no -0
}

/**
 * The mean `m` with `P[Poisson(m) <= k] = 0.05`: the 95 % upper bound
 * on a rate that gave `k` events (`-ln 0.05` ≈ 3.0 for none).
 *
 * @example
 * ```ts
 * poissonUpper95(1); // 4.744
 * ```
 */
export function poissonUpper95(k: number): number {
  const cdf = (m: number) => {
    let term = Math.exp(-m), sum = term;
    for (let j = 1; j <= k; j++) sum += term *= m / j;
    return sum;
  };
  let lo = 0, hi = k + 10 + 10 * Math.sqrt(k + 1);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return round3((lo + hi) / 2);
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
 * declare const summary: SimSummary;
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
      name: "subnet-safety",
      ok: summary.subnetViolations === 0,
      detail:
        `${summary.subnetViolations} tesseras one subnet outage could take while the peers placement was offered had subnets to spare (must be 0)`,
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
      ok: summary.unrecoverableEver === 0 && summary.unrecoverable === 0,
      detail:
        `${summary.unrecoverableEver} tesseras ever unrecoverable from their holders, ${summary.unrecoverable} at the end, ${summary.lostForGood} lost for good (promised 0)`,
    });
  }
  if (promises.zeroLostFair) {
    const fair = summary.unrecoverableEver -
      summary.freeRiderUnrecoverableEver;
    checks.push({
      name: "zero-lost-fair",
      ok: fair === 0,
      detail:
        `${fair} fair owners' tesseras ever unrecoverable from their holders (promised 0; free riders' ${summary.freeRiderUnrecoverableEver})`,
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
  if (promises.peerLosses !== undefined) {
    checks.push({
      name: "peer-losses",
      ok: summary.peerLossViolations === 0,
      detail:
        `${summary.peerLossViolations} fully placed tesseras survived fewer than ${promises.peerLosses} peer losses (promised 0)`,
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
 * import type { ShardCensus } from "./mod.ts";
 * declare const otherFields: Record<string, number>;
 * declare const census: ShardCensus;
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
