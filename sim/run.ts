/**
 * `runSimulation`: build the network and the nodes (the real replication
 * service and repair loop on each), place the tesseras, run churn and
 * outages on the virtual clock, watch the ground truth, and return the
 * summary, the time series and the checks.
 *
 * @module
 */
import type {
  ReplicationConfig,
  TesseraId,
  TierThresholds,
} from "../lib/core/mod.ts";
import { blake3Hex, planTessera } from "../lib/codec/mod.ts";
import type { SweepReport } from "../lib/replication/mod.ts";
import { ledgerDeficits, subnetViolations } from "./audit.ts";
import { ShardCensus } from "./census.ts";
import { ChurnDriver, type ChurnWorld } from "./churn.ts";
import { settle, VirtualClock } from "./clock.ts";
import { HealWatch } from "./heal.ts";
import { SimNetwork } from "./network.ts";
import { type NodeKind, SimNode } from "./node.ts";
import { SimRng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/mod.ts";
import {
  durability,
  evaluateChecks,
  modelDurability,
  redundancyFields,
  round3,
  type Sample,
  type SimCheck,
  type SimSummary,
} from "./summary.ts";
import { Topology } from "./topology.ts";
import { scaledConfig, scaledThresholds } from "./scale.ts";

export { scaledConfig, scaledThresholds };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
/** Virtual start: a fixed instant, so runs do not depend on the wall clock. */
const EPOCH = Date.UTC(2030, 0, 1);

/** Options of {@linkcode runSimulation}; each overrides the scenario's value. */
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
  /** Called once per virtual day. */
  readonly onProgress?: (progress: SimProgress) => void;
  /** Stops the run between events. */
  readonly signal?: AbortSignal;
}

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
  /** Census now. */
  readonly lost: number;
}

/** An outage and how long it took to heal. */
export interface OutageRecord {
  /** What went dark. */
  readonly label: string;
  /** When, in virtual days. */
  readonly day: number;
  /** Tesseras it made unhealthy or unreadable whose owner survived. */
  readonly tesseras: number;
  /** Tesseras it hit whose owner it took (nobody repairs those). */
  readonly orphaned: number;
  /** Hours until every one of them was healthy and readable again (null: never). */
  readonly healHours: number | null;
}

/** What {@linkcode runSimulation} returns. */
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

/**
 * The scenario named or given, with the options' overrides applied.
 *
 * @example
 * ```ts
 * resolveScenario({ scenario: "quick", days: 5 }).days; // 5
 * ```
 */
export function resolveScenario(options: SimulationOptions = {}): Scenario {
  const base = typeof options.scenario === "object"
    ? options.scenario
    : SCENARIOS[options.scenario ?? "default"];
  if (!base) {
    throw new Error(
      `unknown scenario "${options.scenario}": choose one of ${
        Object.keys(SCENARIOS).join(", ")
      }`,
    );
  }
  const s: Scenario = {
    ...base,
    nodes: options.nodes ?? base.nodes,
    days: options.days ?? base.days,
    tesseras: options.tesseras ?? base.tesseras,
    seed: options.seed === undefined ? base.seed : String(options.seed),
    scale: options.scale ?? base.scale,
    churn: options.churn === undefined
      ? base.churn
      : { ...base.churn, permanentPerMonth: options.churn },
    network: options.lookup
      ? { ...base.network, lookup: options.lookup }
      : base.network,
  };
  const bad = (what: string) => {
    throw new Error(`invalid ${what}`);
  };
  if (!(Number.isInteger(s.nodes) && s.nodes >= 2)) {
    bad("nodes: need at least 2");
  }
  if (!(s.days > 0)) bad("days: need more than 0");
  if (!(Number.isInteger(s.tesseras) && s.tesseras >= 0)) bad("tesseras");
  if (!(s.scale > 0 && s.scale <= 1)) bad("scale: need 0 < scale <= 1");
  if (!(s.churn.permanentPerMonth >= 0)) bad("churn: need a rate >= 0");
  return s;
}

/**
 * Run one simulation.
 *
 * @example
 * ```ts
 * const result = await runSimulation({ scenario: "quick", seed: 1 });
 * result.summary.lost; // 0
 * result.ok; // every check passed
 * ```
 */
export async function runSimulation(
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const wallStart = performance.now();
  const scenario = resolveScenario(options);
  if (options.stack === "libp2p") {
    // Loaded on demand: the port level never pays for libp2p.
    const { runLibp2pSimulation } = await import("./libp2p.ts");
    return await runLibp2pSimulation(scenario, options);
  }
  const world = new World(scenario, options);
  await world.run();
  const result = await world.finish();
  const wallSeconds = round3((performance.now() - wallStart) / 1000);
  const summary = { ...result.summary, wallSeconds };
  return { ...result, summary };
}

interface Outage {
  label: string;
  at: number;
  /** Tesseras the outage made unhealthy or unreadable, not yet good again. */
  affected: Set<TesseraId> | null;
  hit: number;
  orphaned: number;
  healedAt: number | null;
}

/** The simulated world: nodes, network, churn, census, bookkeeping. */
class World implements ChurnWorld {
  readonly clock = new VirtualClock({ start: EPOCH });
  readonly scenario: Scenario;
  readonly net: SimNetwork;
  readonly census: ShardCensus;
  readonly #heals: HealWatch;
  readonly churn: ChurnDriver;
  readonly config: ReplicationConfig;
  readonly thresholds: TierThresholds;
  readonly #options: SimulationOptions;
  readonly #rng: SimRng;
  readonly #topology: Topology;
  readonly #nodes: (SimNode | null)[] = [];
  readonly #present = new Set<number>();
  readonly #absent = new Set<number>();
  readonly #holds = new Map<number, number>();
  readonly #placing = new Set<TesseraId>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #outages: Outage[] = [];
  readonly #series: Sample[] = [];
  readonly #violating = new Set<TesseraId>();
  readonly #endAt: number;
  readonly #capacity: number;
  readonly #graceMs: number;
  #repairBytes = 0;
  #refusedBytes = 0;
  #placementBytes = 0;
  #sweeps = 0;

  #placementFailures = 0;
  #placed = 0;
  readonly #ownerOf = new Map<TesseraId, number>();
  #nodeDays = 0;

  constructor(scenario: Scenario, options: SimulationOptions) {
    this.scenario = scenario;
    this.#options = options;
    this.#rng = new SimRng(scenario.seed);
    const F = scenario.scale;
    this.thresholds = scaledThresholds(F);
    this.config = scaledConfig(scenario.replication ?? {}, F);
    this.#capacity = Math.round((scenario.nodeCapacityBytes ?? 64 * GIB) * F);
    this.#graceMs = (scenario.unreachableGraceHours ?? 0) * HOUR;
    this.#endAt = EPOCH + scenario.days * DAY;
    const expected = Math.ceil(
      scenario.nodes *
        (1 + scenario.churn.permanentPerMonth * scenario.days / 30),
    );
    this.net = new SimNetwork({
      clock: this.clock,
      rng: this.#rng.fork("network"),
      latencyMs: scenario.network?.latencyMs,
      lossRate: scenario.network?.lossRate,
      lookup: scenario.network?.lookup,
      expectedNodes: scenario.nodes,
    });
    this.#topology = new Topology(
      scenario.topology ?? {},
      this.#rng.fork("topology"),
      expected,
    );
    this.census = new ShardCensus({
      smallReplicas: this.config.smallReplicas,
      isOnline: (i) => this.net.isOnline(i),
    });
    this.#heals = new HealWatch(this.census, { now: () => this.clock.now() });
    this.census.onChange = (id) => {
      this.#watchOutages(id);
      this.#heals.see(id);
    };
    this.churn = new ChurnDriver(
      this,
      scenario.churn,
      this.#rng.fork("churn"),
      this.#endAt,
    );
    this.net.onMessage = (e) => {
      if (e.kind === "replicate") {
        if (!e.ok) this.#refusedBytes += e.bytes;
        else if (e.tesseraId !== undefined && this.#placing.has(e.tesseraId)) {
          this.#placementBytes += e.bytes;
        } else this.#repairBytes += e.bytes;
      } else if (e.kind === "fetch") this.#repairBytes += e.bytes;
    };
  }

  // --- ChurnWorld -------------------------------------------------------

  present(): number[] {
    return [...this.#present];
  }

  isPresent(i: number): boolean {
    return this.#present.has(i);
  }

  mayDepart(i: number): boolean {
    const node = this.#nodes[i];
    return node !== null &&
      !(node.owner && (this.scenario.churn.owners ?? "stable") === "stable");
  }

  ip(i: number): string {
    return this.net.ip(i);
  }

  depart(i: number): void {
    const node = this.#nodes[i];
    if (!node) return;
    const wasOnline = this.net.isOnline(i);
    this.#track(node.stopLoop());
    this.census.nodeGone(i, wasOnline);
    this.net.depart(i);
    this.#nodes[i] = null;
    this.#present.delete(i);
    this.#absent.delete(i);
    this.#holds.delete(i);
  }

  arrive(): number {
    const i = this.#addNode("fair");
    this.net.join(i);
    this.#nodes[i]!.startLoop();
    return i;
  }

  setAbsent(i: number, absent: boolean): void {
    if (absent) this.#absent.add(i);
    else this.#absent.delete(i);
    this.#applyOnline(i);
  }

  hold(i: number, delta: 1 | -1): void {
    const n = (this.#holds.get(i) ?? 0) + delta;
    if (n <= 0) this.#holds.delete(i);
    else this.#holds.set(i, n);
    this.#applyOnline(i);
  }

  outageStarting(label: string): void {
    const before = new Set(this.census.bad());
    const at = this.clock.now();
    const o: Outage = {
      label,
      at,
      affected: null,
      hit: 0,
      orphaned: 0,
      healedAt: null,
    };
    this.#outages.push(o);
    // Runs right after the outage event itself: what did it break?
    this.clock.schedule(at, () => {
      const broken = this.census.bad().filter((id) => !before.has(id));
      // Repair is the owner's job: tesseras whose owner went down with the
      // subnet are counted apart, they cannot heal.
      const owned = broken.filter((id) => this.#ownerAlive(id));
      o.affected = new Set(owned);
      o.hit = owned.length;
      o.orphaned = broken.length - owned.length;
      if (o.hit === 0) o.healedAt = at;
    });
  }

  // --- the run ----------------------------------------------------------

  async run(): Promise<void> {
    const s = this.scenario;
    const frCount = Math.round(s.nodes * (s.freeRiders?.fraction ?? 0));
    const frMode: NodeKind = s.freeRiders?.mode ?? "refuse";
    for (let i = 0; i < s.nodes; i++) {
      this.#addNode(i < frCount ? frMode : "fair");
    }
    this.net.fillRoutingTables();
    for (const i of this.#present) this.#nodes[i]!.startLoop();
    this.#scheduleWorkload(frCount);
    this.churn.start(s.nodes);
    for (const o of s.outages ?? []) this.churn.outage(o);
    if (s.trace) this.churn.trace(s.trace);
    this.#scheduleSamples();
    for (let day = 1; day <= Math.ceil(s.days); day++) {
      const until = Math.min(this.#endAt, EPOCH + day * DAY);
      await this.clock.runUntil(until, { signal: this.#options.signal });
      if (this.#options.signal?.aborted) {
        throw this.#options.signal.reason ??
          new DOMException("simulation aborted", "AbortError");
      }
      const c = this.census.counts;
      this.#options.onProgress?.({
        day: Math.min(day, s.days),
        days: s.days,
        healthy: c.healthy,
        degraded: c.degraded,
        lost: c.lost,
      });
    }
  }

  async finish(): Promise<
    Omit<SimulationResult, "summary"> & {
      summary: SimSummary;
    }
  > {
    const s = this.scenario;
    const stops: Promise<void>[] = [];
    for (const n of this.#nodes) if (n) stops.push(n.stopLoop());
    await this.#drain();
    await Promise.all(stops);
    await this.#audit();
    await this.#drain();
    const { fairMax, frMax, deficits } = await this.#deficits();
    const recall = this.#lookupRecall();
    const c = this.census.counts;
    const d = durability(this.census.lostEver, {
      tesseras: this.#placed,
      days: s.days,
    });
    const model = modelDurability({
      dailyDeparture: this.#nodeDays > 0
        ? this.churn.stats.departures / this.#nodeDays
        : 0,
      // a sweep interval and its jitter, the grace, and one more sweep
      windowDays: (2 * this.config.repairIntervalMs +
        this.config.repairJitterMs + this.#graceMs) / DAY,
      shapes: this.census.shapes(),
    });
    const stored = this.census.storedBytes;
    const outages: OutageRecord[] = this.#outages.map((o) => ({
      label: o.label,
      day: round3((o.at - EPOCH) / DAY),
      tesseras: o.hit,
      orphaned: o.orphaned,
      healHours: o.healedAt !== null
        ? round3((o.healedAt - o.at) / HOUR)
        : null,
    }));
    const messages: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.net.traffic)) {
      messages[k] = v.messages;
    }
    const summary: SimSummary = {
      scenario: s.name,
      seed: s.seed,
      stack: "port",
      scale: s.scale,
      nodes: s.nodes,
      nodesEnd: this.#present.size,
      virtualDays: s.days,
      tesseras: this.#placed,
      healthy: c.healthy,
      degraded: c.degraded,
      lost: c.lost,
      lostEver: this.census.lostEver,
      orphaned: [...this.#ownerOf.keys()].filter((id) => !this.#ownerAlive(id))
        .length,
      freeRiderLostEver: this.census.lostEverByGroup.get("freeRider") ?? 0,
      unavailable: c.unavailable,
      subnetViolations: this.#violating.size,
      maxDeficitBytes: fairMax,
      maxFreeRiderDeficitBytes: frMax,
      deficitToleranceBytes: this.config.deficitToleranceBytes,
      repairBytes: this.#repairBytes,
      placementBytes: this.#placementBytes,
      refusedBytes: this.#refusedBytes,
      storedBytes: stored,
      repairRatio: stored > 0 ? round3(this.#repairBytes / stored) : 0,
      ...redundancyFields(this.census),
      durabilityNines: d.nines,
      durabilityBasis: d.basis,
      durabilityModelNines: model,
      healHours: outages.map((o) => o.healHours),
      healAfterLoss: this.#heals.stats(),
      departures: this.churn.stats.departures,
      arrivals: this.churn.stats.arrivals,
      absences: this.churn.stats.absences,
      sweeps: this.#sweeps,
      placementFailures: this.#placementFailures,
      messages,
      lookupRecall: recall,
      events: this.clock.processed,
      wallSeconds: 0,
    };
    const checks = evaluateChecks(summary, s.promises);
    return {
      summary,
      checks,
      ok: checks.every((x) => x.ok),
      series: this.#series,
      deficits,
      shardSizes: this.census.shardSizes(),
      outages,
      scenario: s,
    };
  }

  // --- internals --------------------------------------------------------

  #ownerAlive(id: TesseraId): boolean {
    const owner = this.#ownerOf.get(id);
    return owner !== undefined && this.#nodes[owner] !== null;
  }

  #addNode(kind: NodeKind): number {
    const i = this.net.addNode({ ip: this.#topology.next() });
    const node = new SimNode({
      index: i,
      net: this.net,
      census: this.census,
      clock: this.clock,
      rng: this.#rng.fork(`node/${i}`),
      config: this.config,
      thresholds: this.thresholds,
      capacityBytes: this.#capacity,
      graceMs: this.#graceMs,
      kind,
      verifyHeld: this.scenario.verifyHeld,
      onSweep: (_i: number, _r: SweepReport) => this.#sweeps++,
    });
    this.#nodes[i] = node;
    this.#present.add(i);
    return i;
  }

  #applyOnline(i: number): void {
    const node = this.#nodes[i];
    if (!node) return;
    const want = !this.#absent.has(i) && !this.#holds.has(i);
    if (want === this.net.isOnline(i)) return;
    this.net.setOnline(i, want);
    this.census.setOnline(i, want);
    if (want) {
      this.net.join(i);
      node.startLoop();
    } else this.#track(node.stopLoop());
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.#pending.delete(q));
    this.#pending.add(q);
  }

  async #drain(): Promise<void> {
    for (let i = 0; i < 100 && this.#pending.size > 0; i++) {
      await settle();
    }
  }

  #scheduleWorkload(frCount: number): void {
    const s = this.scenario;
    const w = s.workload ?? {};
    const rng = this.#rng.fork("workload");
    const mix = w.mix ?? { small: 0.5, medium: 0.4, large: 0.1 };
    const total = mix.small + mix.medium + mix.large;
    const hours = w.placementHours ?? 24;
    const fair: number[] = [];
    const fr: number[] = [];
    for (let i = 0; i < s.nodes; i++) {
      if (i < frCount) fr.push(i);
      else if (rng.chance(w.ownerFraction ?? 0.5)) fair.push(i);
    }
    if (fair.length === 0) fair.push(frCount < s.nodes ? frCount : 0);
    for (const i of [...fair, ...fr]) this.#nodes[i]!.owner = true;
    const frShare = fr.length === 0
      ? 0
      : w.freeRiderShare ?? fr.length / (fr.length + fair.length);
    const t = this.thresholds;
    const F = s.scale;
    for (let j = 0; j < s.tesseras; j++) {
      const isFr = rng.chance(frShare);
      const owner = isFr ? rng.pick(fr) : rng.pick(fair);
      const u = rng.next() * total;
      const [lo, hi] = u < mix.small
        ? [Math.max(1, Math.round(64 * KIB * F)), t.mediumFrom]
        : u < mix.small + mix.medium
        ? [t.mediumFrom, t.largeFrom]
        : [t.largeFrom, Math.max(t.largeFrom + 1, Math.round(GIB * F))];
      const size = Math.min(
        hi - 1,
        Math.max(lo, Math.floor(rng.logUniform(lo, Math.max(lo + 1, hi)))),
      );
      const at = EPOCH + rng.next() * hours * HOUR;
      const seed = rng.next32();
      this.clock.schedule(
        at,
        () => this.#place(owner, size, seed, isFr ? "freeRider" : "fair", 0),
      );
    }
  }

  #place(
    owner: number,
    size: number,
    seed: number,
    group: string,
    tries: number,
  ): void {
    const node = this.#nodes[owner];
    if (!node) return;
    if (!this.net.isOnline(owner)) {
      if (tries < 24 * 30) {
        this.clock.schedule(
          this.clock.now() + HOUR,
          () => this.#place(owner, size, seed, group, tries + 1),
        );
      }
      return;
    }
    const bytes = new SimRng(`${this.scenario.seed}/tessera/${seed}`).bytes(
      size,
    );
    const id = blake3Hex(bytes);
    const plan = planTessera(size, { thresholds: this.thresholds });
    this.#placing.add(id);
    this.#ownerOf.set(id, owner);
    this.#placed++;
    this.#track(
      node.service.putTessera(bytes).then(
        () => {
          this.#placing.delete(id);
          this.census.activate(id, group, plan.shardCount);
        },
        () => {
          this.#placementFailures++;
          this.#placing.delete(id);
          this.census.activate(id, group, plan.shardCount);
        },
      ),
    );
  }

  #scheduleSamples(): void {
    const s = this.scenario;
    const every = (s.sampleHours ?? 24) * HOUR;
    for (let t = EPOCH; t <= this.#endAt; t += every) {
      this.clock.schedule(t, () => this.#sample());
    }
    if ((this.#endAt - EPOCH) % every !== 0) {
      this.clock.schedule(this.#endAt, () => this.#sample());
    }
    const audit = (s.auditEveryDays ?? 7) * DAY;
    for (let t = EPOCH + audit; t < this.#endAt; t += audit) {
      this.clock.schedule(t, () => this.#track(this.#audit()));
    }
  }

  #sample(): void {
    const c = this.census.counts;
    this.census.sampleRedundancy();
    this.#nodeDays += this.#present.size * (this.scenario.sampleHours ?? 24) /
      24;
    let online = 0;
    for (const i of this.#present) if (this.net.isOnline(i)) online++;
    this.#series.push({
      day: round3((this.clock.now() - EPOCH) / DAY),
      healthy: c.healthy,
      degraded: c.degraded,
      lost: c.lost,
      unavailable: c.unavailable,
      online,
      present: this.#present.size,
      repairBytes: this.#repairBytes,
      storedBytes: this.census.storedBytes,
    });
  }

  /** Every owner's holder records against the subnet cap. */
  async #audit(): Promise<void> {
    const ipOf = (p: string) => {
      const j = this.net.indexOf(p);
      return j === undefined ? undefined : this.net.ip(j);
    };
    for (const i of [...this.#present]) {
      const node = this.#nodes[i];
      if (!node?.owner) continue;
      const bad = await subnetViolations(
        node.holders,
        ipOf,
        this.config.maxPerSubnet,
      );
      for (const id of bad) this.#violating.add(id);
    }
  }

  async #deficits(): Promise<
    { fairMax: number; frMax: number; deficits: number[] }
  > {
    let fairMax = 0, frMax = 0;
    const deficits: number[] = [];
    const classify = (p: string) => {
      const j = this.net.indexOf(p);
      const peer = j === undefined ? null : this.#nodes[j];
      return !peer ? "gone" : peer.kind === "fair" ? "fair" : "freeRider";
    };
    for (const i of this.#present) {
      const a = await ledgerDeficits(this.#nodes[i]!.ledger, classify);
      fairMax = Math.max(fairMax, a.fairMax);
      frMax = Math.max(frMax, a.freeRiderMax);
      for (const d of a.deficits) deficits.push(d);
    }
    return { fairMax, frMax, deficits };
  }

  /** How many of the true 20 closest online peers lookups find, on 100 random keys. */
  #lookupRecall(): number {
    const rng = this.#rng.fork("recall");
    const online = [...this.#present].filter((i) => this.net.isOnline(i));
    if (online.length < 2) return 1;
    const kad = this.net.kademlia;
    let hit = 0, total = 0;
    for (let q = 0; q < 100; q++) {
      const asker = rng.pick(online);
      const key = { hi: rng.next32(), lo: rng.next32() };
      const truth = kad.trueClosest(
        key,
        20,
        (i) => i !== asker && this.net.isOnline(i),
      );
      const found = new Set(kad.lookup(asker, key, 20));
      for (const t of truth) if (found.has(t)) hit++;
      total += truth.length;
    }
    return total === 0 ? 1 : round3(hit / total);
  }

  #watchOutages(id: TesseraId): void {
    for (const o of this.#outages) {
      if (o.healedAt !== null || !o.affected?.has(id)) continue;
      if (!this.census.isGood(id)) continue;
      o.affected.delete(id);
      if (o.affected.size === 0) o.healedAt = this.clock.now();
    }
  }
}
