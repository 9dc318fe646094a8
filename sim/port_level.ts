/**
 * The port level (the default `--stack port`): thousands of nodes, each
 * the real replication service and repair loop over `lib/memory` stores,
 * on the simulated network and a virtual clock. Churn and outages come
 * from {@linkcode ChurnDriver}; the workload, the counting and the end of
 * the run are the ones the libp2p level shares (`workload.ts`,
 * `outcome.ts`).
 *
 * @module
 */
import type {
  ReplicationConfig,
  TesseraId,
  TierThresholds,
} from "../lib/core/mod.ts";
import { blake3Hex, planTessera } from "../lib/codec/mod.ts";
import type { MemoryHolderRegistry } from "../lib/memory/mod.ts";
import { TARGET_PEER_LOSSES } from "../lib/replication/mod.ts";
import { ShardCensus } from "./census.ts";
import { ChurnDriver, type ChurnWorld } from "./churn.ts";
import { settle, VirtualClock } from "./clock.ts";
import { HealWatch } from "./heal.ts";
import { SimNetwork } from "./network.ts";
import { type NodeKind, SimNode } from "./node.ts";
import {
  auditDeficits,
  auditPlacements,
  conclude,
  modelNinesOf,
  PlacementFindings,
  progressOf,
  RunTally,
  takeSample,
} from "./outcome.ts";
import { OfferLog } from "./offers.ts";
import { OutageWatch } from "./outage_watch.ts";
import type { LevelOptions, SimulationResult } from "./result.ts";
import { SimRng } from "./rng.ts";
import { StewardTally } from "./steward_tally.ts";
import type { Scenario } from "./scenario.ts";
import { scaledConfig, scaledThresholds } from "./scale.ts";
import { round3, type Sample } from "./summary.ts";
import { Topology } from "./topology.ts";
import { planWorkload, tesseraBytes, type WorkloadJob } from "./workload.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GIB = 1024 * 1024 * 1024;
/** Virtual start: a fixed instant, so runs do not depend on the wall clock. */
const EPOCH = Date.UTC(2030, 0, 1);

/**
 * Run `scenario` at the port level.
 *
 * @example
 * ```ts
 * import { resolveScenario } from "./mod.ts";
 * const result = await runPortSimulation(resolveScenario({ scenario: "quick" }));
 * result.summary.stack; // "port"
 * ```
 */
export async function runPortSimulation(
  scenario: Scenario,
  options: LevelOptions = {},
): Promise<SimulationResult> {
  const world = new World(scenario, options);
  await world.run();
  return await world.finish();
}

/** The simulated world: nodes, network, churn, census, bookkeeping. */
class World implements ChurnWorld {
  readonly clock = new VirtualClock({ start: EPOCH });
  readonly scenario: Scenario;
  readonly net: SimNetwork;
  readonly census: ShardCensus;
  readonly churn: ChurnDriver;
  readonly config: ReplicationConfig;
  readonly thresholds: TierThresholds;
  readonly #heals: HealWatch;
  readonly #outages: OutageWatch;
  readonly #options: LevelOptions;
  readonly #rng: SimRng;
  readonly #topology: Topology;
  readonly #nodes: (SimNode | null)[] = [];
  readonly #present = new Set<number>();
  readonly #absent = new Set<number>();
  readonly #holds = new Map<number, number>();
  readonly #placing = new Set<TesseraId>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #series: Sample[] = [];
  readonly #placements = new PlacementFindings();
  readonly #offers = new OfferLog();
  readonly #tally = new RunTally();
  readonly #stewards: StewardTally;
  /** When each orphan's owner left for good. */
  readonly #orphanedAt = new Map<TesseraId, number>();
  readonly #ownerOf = new Map<TesseraId, number>();
  readonly #owned = new Map<number, TesseraId[]>();
  readonly #endAt: number;
  readonly #capacity: number;
  readonly #graceMs: number;
  #nodeDays = 0;

  constructor(scenario: Scenario, options: LevelOptions) {
    this.scenario = scenario;
    this.#options = options;
    this.#rng = new SimRng(scenario.seed);
    const F = scenario.scale;
    this.thresholds = scaledThresholds(F);
    this.config = scaledConfig(scenario.replication ?? {}, F);
    this.#capacity = Math.round((scenario.nodeCapacityBytes ?? 64 * GIB) * F);
    this.#graceMs = (scenario.unreachableGraceHours ?? 0) * HOUR;
    this.#endAt = EPOCH + scenario.days * DAY;
    this.#stewards = new StewardTally(2 * this.config.repairIntervalMs);
    this.net = this.#buildNetwork();
    this.#topology = new Topology(
      scenario.topology ?? {},
      this.#rng.fork("topology"),
      Math.ceil(
        scenario.nodes *
          (1 + scenario.churn.permanentPerMonth * scenario.days / 30),
      ),
    );
    this.census = new ShardCensus({
      smallReplicas: this.config.smallReplicas,
      isOnline: (i) => this.net.isOnline(i),
    });
    this.#heals = new HealWatch(this.census, { now: () => this.clock.now() });
    this.#outages = new OutageWatch(this.census, {
      now: () => this.clock.now(),
      epoch: EPOCH,
      ownerAlive: (id) => this.#ownerAlive(id),
    });
    this.census.onChange = (id) => this.#heals.see(id);
    this.census.onShards = (id) => this.#outages.see(id);
    this.churn = new ChurnDriver(
      this,
      scenario.churn,
      this.#rng.fork("churn"),
      this.#endAt,
    );
  }

  /** The network, its traffic counted into the tally. */
  #buildNetwork(): SimNetwork {
    const s = this.scenario;
    const net = new SimNetwork({
      clock: this.clock,
      rng: this.#rng.fork("network"),
      latencyMs: s.network?.latencyMs,
      lossRate: s.network?.lossRate,
      lookup: s.network?.lookup,
      expectedNodes: s.nodes,
    });
    const t = this.#tally;
    net.onMessage = (e) => {
      if (e.kind !== "replicate" && e.kind !== "fetch") return;
      const id = e.tesseraId;
      const placing = id !== undefined && this.#placing.has(id);
      if (e.kind === "replicate" && !e.ok) t.refusedBytes += e.bytes;
      if (e.kind === "replicate" && placing) {
        if (e.ok) t.placementBytes += e.bytes;
        return;
      }
      const owner = id === undefined ? undefined : this.#ownerOf.get(id);
      if (e.kind === "replicate" && id !== undefined && owner === undefined) {
        // A push of nobody's tessera: a reciprocity probe (probe.ts).
        t.probeBytes += e.bytes;
        return;
      }
      t.repairBytes += e.bytes;
      if (e.kind === "fetch") t.repairFetchBytes += e.bytes;
      if (owner !== undefined && owner !== e.from) {
        t.stewardRepairBytes += e.bytes;
      }
    };
    return net;
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
    this.#stewards.gone(i);
    this.census.nodeGone(i, wasOnline);
    for (const id of this.#owned.get(i) ?? []) {
      this.census.orphan(id);
      this.#orphanedAt.set(id, this.clock.now());
    }
    this.#owned.delete(i);
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

  outageStarting(label: string, nodes: readonly number[]): void {
    const mark = this.#outages.begin(label, nodes);
    // Runs right after the outage event itself: what did it break?
    this.clock.schedule(mark.at, () => this.#outages.measure(mark));
  }

  // --- the run ----------------------------------------------------------

  /** Populate, schedule the workload, churn and samples, run day by day. */
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
    for (let day = 1; day <= Math.ceil(s.days); day++) await this.#runDay(day);
  }

  async #runDay(day: number): Promise<void> {
    const s = this.scenario;
    const signal = this.#options.signal;
    await this.clock.runUntil(Math.min(this.#endAt, EPOCH + day * DAY), {
      signal,
    });
    if (signal?.aborted) {
      throw signal.reason ??
        new DOMException("simulation aborted", "AbortError");
    }
    this.#options.onProgress?.(
      progressOf(this.census, { day: Math.min(day, s.days), days: s.days }),
    );
  }

  /** Stop every loop, audit, and build the result. */
  async finish(): Promise<SimulationResult> {
    const s = this.scenario;
    const stops: Promise<void>[] = [];
    for (const n of this.#nodes) if (n) stops.push(n.stopLoop());
    await this.#drain();
    await Promise.all(stops);
    await this.#audit();
    await this.#drain();
    const deficits = await auditDeficits(
      [...this.#present].map((i) => this.#nodes[i]!.ledger),
      (p) => this.#classify(p),
    );
    const stats = this.churn.stats;
    const facts = {
      scenario: s,
      stack: "port" as const,
      census: this.census,
      config: this.config,
      tally: this.#tally,
      nodesEnd: this.#present.size,
      orphaned: [...this.#ownerOf.keys()].filter((id) => !this.#ownerAlive(id))
        .length,
      placements: this.#placements,
      stewards: {
        ...this.#stewards.figures(),
        orphanYears: this.#orphanYears(),
      },
      deficits,
      modelNines: modelNinesOf(this.census, {
        departures: stats.departures,
        nodeDays: this.#nodeDays,
        // a sweep interval and its jitter, the grace, and one more sweep
        windowDays: (2 * this.config.repairIntervalMs +
          this.config.repairJitterMs + this.#graceMs) / DAY,
      }),
      outages: this.#outages.records(),
      heals: this.#heals.stats(),
      churn: stats,
      messages: this.#messages(),
      lookupRecall: this.#lookupRecall(),
      events: this.clock.processed,
    };
    return conclude(facts, { series: this.#series });
  }

  // --- internals --------------------------------------------------------

  /** Orphans × years orphaned, to the end of the run. */
  #orphanYears(): number {
    let ms = 0;
    for (const at of this.#orphanedAt.values()) ms += this.#endAt - at;
    return ms / (365 * DAY);
  }

  #ownerAlive(id: TesseraId): boolean {
    const owner = this.#ownerOf.get(id);
    return owner !== undefined && this.#nodes[owner] !== null;
  }

  #classify(p: string): "fair" | "freeRider" | "gone" {
    const j = this.net.indexOf(p);
    const peer = j === undefined ? null : this.#nodes[j];
    return !peer ? "gone" : peer.kind === "fair" ? "fair" : "freeRider";
  }

  #messages(): Record<string, number> {
    const messages: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.net.traffic)) {
      messages[k] = v.messages;
    }
    return messages;
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
      onSweep: (index, report) => {
        this.#tally.sweeps++;
        this.#stewards.see(index, { report, at: this.clock.now() });
        if (report.stewards) this.census.keeps(index, report.stewards.kept);
      },
      offers: this.#offers,
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
    const workload = planWorkload(this.scenario, {
      rng: this.#rng.fork("workload"),
      thresholds: this.thresholds,
      freeRiders: frCount,
    });
    for (const i of workload.owners) this.#nodes[i]!.owner = true;
    for (const job of workload.jobs) {
      this.clock.schedule(EPOCH + job.atMs, () => this.#place(job, 0));
    }
  }

  /** Place `job` now, or retry hourly (for 30 days) while its owner is away. */
  #place(job: WorkloadJob, tries: number): void {
    const node = this.#nodes[job.owner];
    if (!node) return;
    if (!this.net.isOnline(job.owner)) {
      if (tries < 24 * 30) {
        this.clock.schedule(
          this.clock.now() + HOUR,
          () => this.#place(job, tries + 1),
        );
      }
      return;
    }
    const bytes = tesseraBytes(this.scenario.seed, job);
    const id = blake3Hex(bytes);
    const plan = planTessera(job.size, { thresholds: this.thresholds });
    this.#placing.add(id);
    this.#ownerOf.set(id, job.owner);
    this.#owned.set(job.owner, [...this.#owned.get(job.owner) ?? [], id]);
    this.#tally.placed++;
    const settled = (failed: boolean) => () => {
      if (failed) this.#tally.placementFailures++;
      this.#placing.delete(id);
      this.census.activate(id, job.group, plan.shardCount);
    };
    this.#track(
      node.service.putTessera(bytes).then(settled(false), settled(true)),
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
    this.#nodeDays += this.#present.size * (this.scenario.sampleHours ?? 24) /
      24;
    let online = 0;
    for (const i of this.#present) if (this.net.isOnline(i)) online++;
    this.#series.push(takeSample(this.census, this.#tally, {
      day: round3((this.clock.now() - EPOCH) / DAY),
      online,
      present: this.#present.size,
    }));
  }

  /** Every owner's holder records against placement's rules. */
  async #audit(): Promise<void> {
    const online = new Set(
      [...this.#present].filter((i) => this.net.isOnline(i)),
    );
    await auditPlacements(this.#ownerRegistries(), this.#placements, {
      ipOf: (p: string) => {
        const j = this.net.indexOf(p);
        return j === undefined ? undefined : this.net.ip(j);
      },
      roomFor: (id) =>
        this.#offers.roomFor(id, {
          isLive: (p) => {
            const j = this.net.indexOf(p);
            return j !== undefined && online.has(j);
          },
        }),
      peerLosses: this.scenario.promises.peerLosses ?? TARGET_PEER_LOSSES,
    });
  }

  /**
   * The holder records of the owners present now, read as the audit
   * reaches each (a node may leave while an audit during the run awaits).
   */
  *#ownerRegistries(): Generator<MemoryHolderRegistry> {
    for (const i of [...this.#present]) {
      const node = this.#nodes[i];
      if (node?.owner) yield node.holders;
    }
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
}
