/**
 * What both levels of the simulator count and how a run ends: the tally
 * of bytes and events, the census samples, the audits behind the checks,
 * and the one builder of the summary (the `--json` object) and result.
 * A level brings what only it knows (its nodes, its clock, its messages);
 * everything it shares with the other level is here, once.
 *
 * @module
 */
import type {
  HolderRegistry,
  PeerId,
  ReciprocityLedger,
  ReplicationConfig,
  TesseraId,
} from "../lib/core/mod.ts";
import { ledgerDeficits, placementAudit } from "./audit.ts";
import type { StewardFigures } from "./steward_tally.ts";
import type { ShardCensus } from "./census.ts";
import type { OutageRecord, SimProgress, SimulationResult } from "./result.ts";
import type { Scenario } from "./scenario.ts";
import {
  durabilityShown,
  evaluateChecks,
  type HealStats,
  modelDurability,
  redundancyFields,
  round3,
  type Sample,
  type SimSummary,
} from "./summary.ts";

/** Bytes and events counted during a run. */
export class RunTally {
  /**
   * Repair on the wire: pushes outside first placement (accepted or
   * refused: the bytes were sent) plus shard bytes fetched to rebuild.
   */
  repairBytes = 0;
  /** Of `repairBytes`, the shard bytes fetched to rebuild. */
  repairFetchBytes = 0;
  /** Of `repairBytes`, what stewards (holders, not the owner) sent or fetched. */
  stewardRepairBytes = 0;
  /**
   * Reciprocity probes pushed (lib/replication/probe.ts): not repair,
   * so not in `repairBytes`.
   */
  probeBytes = 0;
  /** Pushes the receiver refused. */
  refusedBytes = 0;
  /** Pushes of first placements. */
  placementBytes = 0;
  /** Repair sweeps run, over all nodes. */
  sweeps = 0;
  /** Placements that failed outright. */
  placementFailures = 0;
  /** Tesseras placed (attempted). */
  placed = 0;
}

/** A level's population at a sample. */
export interface Population {
  /** Virtual days since the start. */
  readonly day: number;
  /** Nodes online. */
  readonly online: number;
  /** Nodes present (online or away). */
  readonly present: number;
}

/**
 * One census sample (and the census's redundancy sample with it).
 *
 * @example
 * ```ts
 * import type { Sample, ShardCensus } from "./mod.ts";
 * declare const series: Sample[];
 * declare const census: ShardCensus;
 * declare const tally: RunTally;
 * series.push(takeSample(census, tally, { day: 1, online: 20, present: 20 }));
 * ```
 */
export function takeSample(
  census: ShardCensus,
  tally: RunTally,
  population: Population,
): Sample {
  const c = census.counts;
  census.sampleRedundancy();
  return {
    day: population.day,
    healthy: c.healthy,
    degraded: c.degraded,
    unrecoverable: c.lost,
    unavailable: c.unavailable,
    online: population.online,
    present: population.present,
    repairBytes: tally.repairBytes,
    storedBytes: census.storedBytes,
    surplusBytes: census.surplusBytes,
  };
}

/**
 * The progress callback's view of the census after `day`.
 *
 * @example
 * ```ts
 * import type { ShardCensus, SimulationOptions } from "./mod.ts";
 * declare const options: SimulationOptions;
 * declare const census: ShardCensus;
 * options.onProgress?.(progressOf(census, { day: 3, days: 10 }));
 * ```
 */
export function progressOf(
  census: ShardCensus,
  at: { readonly day: number; readonly days: number },
): SimProgress {
  const c = census.counts;
  return {
    day: at.day,
    days: at.days,
    healthy: c.healthy,
    degraded: c.degraded,
    unrecoverable: c.lost,
    lostForGood: census.lostForGood,
  };
}

/** Tesseras a run's placement audits found at fault, ever. */
export class PlacementFindings {
  /** One subnet outage could take them while the peers offered had subnets to spare. */
  readonly subnetUnsafe = new Set<TesseraId>();
  /** Their holders survived fewer peer losses than promised. */
  readonly peerUnsafe = new Set<TesseraId>();
}

/**
 * Audit the owners' holder records (`registries`) against placement's
 * rules (see `placementAudit`) and add what breaks them to `into`.
 * `ipOf` gives each peer's true address.
 *
 * @example
 * ```ts
 * import type { HolderRegistry } from "../lib/core/mod.ts";
 * declare const owners: { holders: HolderRegistry }[];
 * declare const ipOf: (peer: string) => string | undefined;
 * const findings = new PlacementFindings();
 * await auditPlacements(owners.map((n) => n.holders), findings, {
 *   ipOf, roomFor: () => 40, peerLosses: 2,
 * });
 * ```
 */
export async function auditPlacements(
  registries: Iterable<HolderRegistry>,
  into: PlacementFindings,
  options: {
    readonly ipOf: (peer: PeerId) => string | undefined;
    /**
     * Distinct subnets placement had room in for a tessera: those of the
     * live peers it was offered that had room (`OfferLog.roomFor`).
     */
    readonly roomFor: (tesseraId: TesseraId) => number;
    /** Peer losses each complete placement should survive. */
    readonly peerLosses: number;
  },
): Promise<void> {
  for (const registry of registries) {
    const found = await placementAudit(registry, options);
    for (const id of found.subnetUnsafe) into.subnetUnsafe.add(id);
    for (const id of found.peerUnsafe) into.peerUnsafe.add(id);
  }
}

/** Deficits over every ledger of a run. */
export interface DeficitTotals {
  /** Largest deficit any ledger shows for a present fair peer. */
  readonly fairMax: number;
  /** Largest deficit any ledger shows for a free rider. */
  readonly frMax: number;
  /** Every positive deficit of a present peer. */
  readonly deficits: number[];
}

/**
 * The deficits of every ledger in `ledgers` (see `ledgerDeficits`).
 *
 * @example
 * ```ts
 * import type { ReciprocityLedger } from "../lib/core/mod.ts";
 * declare const nodes: { ledger: ReciprocityLedger }[];
 * declare const classify: (peer: string) => "fair" | "freeRider" | "gone";
 * const { fairMax } = await auditDeficits(nodes.map((n) => n.ledger), classify);
 * ```
 */
export async function auditDeficits(
  ledgers: Iterable<ReciprocityLedger>,
  classify: (peer: PeerId) => "fair" | "freeRider" | "gone",
): Promise<DeficitTotals> {
  let fairMax = 0, frMax = 0;
  const deficits: number[] = [];
  for (const ledger of ledgers) {
    const a = await ledgerDeficits(ledger, classify);
    fairMax = Math.max(fairMax, a.fairMax);
    frMax = Math.max(frMax, a.freeRiderMax);
    for (const d of a.deficits) deficits.push(d);
  }
  return { fairMax, frMax, deficits };
}

/** What a level knows at the end of a run that the summary reads. */
export interface RunFacts {
  readonly scenario: Scenario;
  readonly stack: "port" | "libp2p";
  readonly census: ShardCensus;
  readonly config: ReplicationConfig;
  readonly tally: RunTally;
  /** Nodes present at the end. */
  readonly nodesEnd: number;
  /** Tesseras whose owner left for good. */
  readonly orphaned: number;
  /** Stewardship figures, and orphan-years (absent: no stewards ran). */
  readonly stewards?: StewardFigures & { readonly orphanYears: number };
  /** What the placement audits found. */
  readonly placements: PlacementFindings;
  readonly deficits: DeficitTotals;
  /** Model durability (the level knows its departure rate and repair window). */
  readonly modelNines: number;
  readonly outages: readonly OutageRecord[];
  readonly heals: HealStats;
  readonly churn: {
    readonly departures: number;
    readonly arrivals: number;
    readonly absences: number;
  };
  /** Messages by kind, as the level counts them. */
  readonly messages: Record<string, number>;
  readonly lookupRecall: number;
  /** Clock events processed (0 where time is real). */
  readonly events: number;
}

/**
 * The model durability of the census's shapes for a measured departure
 * rate and a repair window (see `modelDurability`).
 *
 * @example
 * ```ts
 * import type { ShardCensus } from "./mod.ts";
 * declare const census: ShardCensus;
 * modelNinesOf(census, { departures: 12, nodeDays: 3000, windowDays: 3 });
 * ```
 */
export function modelNinesOf(
  census: ShardCensus,
  rate: {
    readonly departures: number;
    readonly nodeDays: number;
    readonly windowDays: number;
  },
): number {
  return modelDurability({
    dailyDeparture: rate.nodeDays > 0 ? rate.departures / rate.nodeDays : 0,
    windowDays: rate.windowDays,
    shapes: census.shapes(),
  });
}

/**
 * The summary of a run (`wallSeconds` 0: the driver times the run).
 *
 * @example
 * ```ts
 * declare const facts: RunFacts;
 * const summary = summarize(facts);
 * summary.tesseras === facts.tally.placed; // true
 * ```
 */
export function summarize(f: RunFacts): SimSummary {
  const s = f.scenario, census = f.census, tally = f.tally;
  const c = census.counts;
  const d = durabilityShown(census.lostEver, {
    tesseras: tally.placed,
    days: s.days,
  });
  const stored = census.storedBytes;
  const st = f.stewards;
  const orphanYears = round3(st?.orphanYears ?? 0);
  const repairRatio = stored > 0 ? round3(tally.repairBytes / stored) : 0;
  return {
    scenario: s.name,
    seed: s.seed,
    stack: f.stack,
    scale: s.scale,
    nodes: s.nodes,
    nodesEnd: f.nodesEnd,
    virtualDays: s.days,
    tesseras: tally.placed,
    healthy: c.healthy,
    degraded: c.degraded,
    unrecoverable: c.lost,
    lostForGood: census.lostForGood,
    unrecoverableEver: census.lostEver,
    orphaned: f.orphaned,
    owners: s.churn.owners ?? "stable",
    repairsByOwners: st?.repairsByOwners ?? 0,
    repairsByStewards: st?.repairsByStewards ?? 0,
    stewardBytes: st?.stewardBytes ?? 0,
    stewardExtraCopies: st?.stewardExtraCopies ?? 0,
    ownerRepeats: st?.ownerRepeats ?? 0,
    stewardKeptBytes: st?.stewardKeptBytes ?? 0,
    stewardKeptBytesMax: st?.stewardKeptBytesMax ?? 0,
    orphanYears,
    orphanDurabilityShownNines:
      durabilityShown(census.lostForGood, { tesseras: orphanYears, days: 365 })
        .nines,
    freeRiderUnrecoverableEver: census.lostEverByGroup.get("freeRider") ?? 0,
    unavailable: c.unavailable,
    subnetViolations: f.placements.subnetUnsafe.size,
    peerLossViolations: f.placements.peerUnsafe.size,
    maxDeficitBytes: f.deficits.fairMax,
    maxFreeRiderDeficitBytes: f.deficits.frMax,
    deficitToleranceBytes: f.config.deficitToleranceBytes,
    repairBytes: tally.repairBytes,
    repairFetchBytes: tally.repairFetchBytes,
    stewardRepairBytes: tally.stewardRepairBytes,
    probeBytes: tally.probeBytes,
    placementBytes: tally.placementBytes,
    refusedBytes: tally.refusedBytes,
    storedBytes: stored,
    surplusBytes: census.surplusBytes,
    repairRatio,
    repairRatioPerYear: round3(repairRatio / (s.days / 365)),
    ...redundancyFields(census),
    tesseraYears: d.tesseraYears,
    durabilityShownNines: d.nines,
    durabilityModelNines: f.modelNines,
    healHours: f.outages.map((o) => o.healHours),
    healAfterLoss: f.heals,
    departures: f.churn.departures,
    arrivals: f.churn.arrivals,
    absences: f.churn.absences,
    sweeps: tally.sweeps,
    placementFailures: tally.placementFailures,
    messages: f.messages,
    lookupRecall: f.lookupRecall,
    events: f.events,
    wallSeconds: 0,
  };
}

/**
 * The result of a run: its summary, the checks the scenario promises,
 * and what the report draws.
 *
 * @example
 * ```ts
 * import type { Sample } from "./mod.ts";
 * declare const facts: RunFacts;
 * declare const series: Sample[];
 * declare const phaseSeconds: Record<string, number>;
 * const result = conclude(facts, { series, phaseSeconds });
 * ```
 */
export function conclude(
  facts: RunFacts,
  extra: {
    readonly series: readonly Sample[];
    readonly phaseSeconds?: Readonly<Record<string, number>>;
  },
): SimulationResult {
  const summary = summarize(facts);
  const checks = evaluateChecks(summary, facts.scenario.promises);
  return {
    summary,
    checks,
    ok: checks.every((x) => x.ok),
    series: extra.series,
    deficits: facts.deficits.deficits,
    shardSizes: facts.census.shardSizes(),
    outages: facts.outages,
    scenario: facts.scenario,
    ...(extra.phaseSeconds ? { phaseSeconds: extra.phaseSeconds } : {}),
  };
}
