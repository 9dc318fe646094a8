/**
 * The full-stack level (`--stack libp2p`): real libp2p nodes in one
 * process over `@libp2p/memory`, each with the real Noise, Yamux,
 * identify, ping, Kademlia and tesseras protocols (`lib/net`) under the
 * same `ReplicationService` the port level runs. It proves the protocol
 * code under churn for up to a hundred or so nodes and a few virtual days.
 *
 * libp2p's own timers run in real time, so the run is not bit-for-bit
 * reproducible. A "virtual day" is one repair sweep on every live node
 * (owners repair, holders look after orphans and announce what they
 * hold, as every daemon's repair loop does), run by the driver instead of
 * the 24 h loop; the services' clock (`VirtualClock`) moves a day per
 * day, so owner silence, graces and audit schedules count in days. Each
 * node is given what the daemon gives its service for stewardship
 * (lib/node/daemon.ts): a manifest store and a steward registry. Churn is
 * permanent departures and arrivals; permanent outages and a trace's
 * departures apply (at day resolution), transient absences and
 * transient outages are not simulated at this level.
 *
 * Tuned for an in-process network (measured at 100 nodes, 2 cores): no
 * liveness pings on connections (libp2p's monitor pinged every connection
 * every 10 s), no kad-dht background lookups (the tables are filled by one
 * self-lookup per node at join, a few nodes at a time), Kademlia's classic
 * alpha 3 on one path, no ping before a learned peer enters a routing
 * table, no reprocessing of peers a table already holds, and libp2p's
 * `debug` loggers replaced by a silent one. Connections stay encrypted
 * with Noise, as on the network: it costs about a quarter of the CPU time
 * (measured: 69 s of CPU with Noise, 50 s with `@libp2p/plaintext`, for
 * the 100-node benchmark). Phases (`phaseSeconds`): `started`, `filled`,
 * `recallMeasured`, `placed`, `day1`…`dayN`, `churned`.
 *
 * @module
 */
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import {
  fromHex,
  mapPool,
  type ReplicationConfig,
  type TesseraId,
  type TierThresholds,
} from "../lib/core/mod.ts";
import { blake3Hex, planTessera } from "../lib/codec/mod.ts";
import {
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryManifestStore,
  MemoryReciprocityLedger,
} from "../lib/memory/mod.ts";
import {
  createTesserasNode,
  Libp2pDhtPort,
  type TesserasNode,
} from "../lib/net/mod.ts";
import {
  ReplicationService,
  type SweepReport,
  TARGET_PEER_LOSSES,
} from "../lib/replication/mod.ts";
import { ShardCensus } from "./census.ts";
import { VirtualClock } from "./clock.ts";
import { outageTargets } from "./churn.ts";
import { HealWatch } from "./heal.ts";
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
import { scaledConfig, scaledThresholds } from "./scale.ts";
import { StewardTally } from "./steward_tally.ts";
import type { OutageSpec, Scenario } from "./scenario.ts";
import { round3, type Sample } from "./summary.ts";
import { Topology } from "./topology.ts";
import { planWorkload, tesseraBytes, type WorkloadJob } from "./workload.ts";

const GIB = 1024 * 1024 * 1024;
const DAY_MS = 86_400_000;
/** Virtual time starts where the port level's does. */
const EPOCH = Date.UTC(2030, 0, 1);

/**
 * Kademlia for an in-process network: no background lookups (the driver
 * fills the tables with one self-lookup per node, as kad-dht's own start
 * does, but with bounded parallelism); classic Kademlia parallelism
 * (alpha 3, one path) instead of kad-dht's 10 × 10 requests per round,
 * which at 100 nodes asks most of the network every lookup; and peers
 * named in lookup answers enter the routing table without a ping (each
 * ping opened a connection: 3,200 instead of 2,000 after the fill at 100
 * nodes; a departed peer's dial fails at once on this transport), and
 * answers naming a peer already in the table do not re-queue it or
 * re-merge its (unchanging) addresses (a third of a lookup's CPU time).
 */
const SIM_DHT = {
  alpha: 3,
  disjointPaths: 1,
  backgroundLookups: false,
  verifyNewContacts: false,
  reprocessKnownPeers: false,
  rereadPeerInfo: false,
} as const;

/**
 * How long one DHT walk may take (the port's default is 15 s). Nothing is
 * lost on the memory transport, so a walk ends when it has asked every
 * peer it should; what makes it slow is the CPU that every node of the
 * run shares: at 20 nodes a walk asks all 19 others and costs about
 * 0.2-0.3 s of CPU, and with a few dozen walks in flight at the first
 * sweep (every holder announcing what it holds) 15 s cut walks short,
 * leaving provider records on a few peers and `findHolders` answers
 * short (measured: 90 holders found of 720 with 8 walks in flight on a
 * loaded machine, 720 one at a time).
 */
const SIM_LOOKUP_TIMEOUT_MS = 120_000;

/** Most nodes the full-stack level accepts (DESIGN.md: ~6 MB RSS each). */
export const MAX_LIBP2P_NODES = 200;

interface FullNode {
  readonly index: number;
  readonly node: TesserasNode;
  readonly service: ReplicationService;
  readonly holders: MemoryHolderRegistry;
  readonly ledger: MemoryReciprocityLedger;
  readonly kind: "fair" | "freeRider";
  owner: boolean;
  alive: boolean;
}

async function kadKey(bytes: Uint8Array): Promise<bigint> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes.slice()),
  );
  let x = 0n;
  for (const b of d) x = (x << 8n) | BigInt(b);
  return x;
}

/**
 * Run `scenario` on real libp2p nodes over the memory transport.
 *
 * @example
 * ```ts
 * import { resolveScenario } from "./mod.ts";
 * const result = await runLibp2pSimulation(resolveScenario({
 *   scenario: "quick", nodes: 20, days: 3, tesseras: 10,
 * }));
 * ```
 */
export async function runLibp2pSimulation(
  scenario: Scenario,
  options: LevelOptions = {},
): Promise<SimulationResult> {
  if (scenario.nodes > MAX_LIBP2P_NODES) {
    throw new Error(
      `--stack libp2p runs at most ${MAX_LIBP2P_NODES} nodes (got ${scenario.nodes}): in-process kad-dht stalls beyond that; use --stack port for more`,
    );
  }
  const world = new FullStackWorld(scenario, options);
  try {
    await world.start();
    await world.place();
    for (let day = 1; day <= Math.ceil(scenario.days); day++) {
      await world.runDay(day);
    }
    return await world.finish();
  } finally {
    await world.stop();
  }
}

/** The full-stack world: libp2p nodes, the census, and the run's counts. */
class FullStackWorld {
  readonly #s: Scenario;
  readonly #options: LevelOptions;
  readonly #wallStart = performance.now();
  readonly #rng: SimRng;
  readonly #keyRng: SimRng;
  readonly #churnRng: SimRng;
  readonly #config: ReplicationConfig;
  readonly #thresholds: TierThresholds;
  readonly #capacity: number;
  readonly #topology: Topology;
  readonly #freeRiders: number;
  /** Memory-transport addresses are process-global: never reuse one. */
  readonly #runId = crypto.randomUUID();
  readonly #nodes: FullNode[] = [];
  readonly #ownerOf = new Map<TesseraId, FullNode>();
  readonly #ipOfPeer = new Map<string, string>();
  readonly #indexOfPeer = new Map<string, number>();
  readonly #census: ShardCensus;
  readonly #outages: OutageWatch;
  readonly #tally = new RunTally();
  readonly #series: Sample[] = [];
  readonly #placements = new PlacementFindings();
  readonly #offers = new OfferLog();
  readonly #phases: Record<string, number> = {};
  /**
   * The services' time: a virtual day per day of the run, so owner
   * silence, graces and audit schedules count in days while libp2p's own
   * timers run in real time.
   */
  readonly #clock = new VirtualClock({ start: EPOCH });
  readonly #stewards: StewardTally;
  /** When each orphan's owner left for good. */
  readonly #orphanedAt = new Map<TesseraId, number>();
  #heals: HealWatch | null = null;
  /** A day here is one sweep on every owner: heal times at day resolution. */
  #today = 0;
  #departures = 0;
  #arrivals = 0;
  #recall = 1;

  constructor(scenario: Scenario, options: LevelOptions) {
    const s = this.#s = scenario;
    this.#options = options;
    this.#rng = new SimRng(s.seed);
    this.#keyRng = this.#rng.fork("keys");
    this.#churnRng = this.#rng.fork("churn");
    this.#thresholds = scaledThresholds(s.scale);
    this.#config = scaledConfig(s.replication ?? {}, s.scale);
    this.#capacity = Math.round((s.nodeCapacityBytes ?? 64 * GIB) * s.scale);
    this.#stewards = new StewardTally(2 * this.#config.repairIntervalMs);
    this.#topology = new Topology(
      s.topology ?? {},
      this.#rng.fork("topology"),
      s.nodes,
    );
    this.#freeRiders = Math.round(s.nodes * (s.freeRiders?.fraction ?? 0));
    this.#census = new ShardCensus({
      smallReplicas: this.#config.smallReplicas,
      isOnline: (i) => this.#nodes[i]?.alive === true,
    });
    // Repair is the owner's job: an outage that takes a tessera's owner
    // leaves it orphaned, counted apart as the port level does.
    this.#outages = new OutageWatch(this.#census, {
      now: () => this.#today * DAY_MS,
      epoch: 0,
      ownerAlive: (id) => this.#ownerAlive(id),
    });
  }

  /** Start every node, fill the routing tables, measure lookup recall. */
  async start(): Promise<void> {
    const s = this.#s;
    for (let i = 0; i < s.nodes; i++) {
      await this.#addNode(i < this.#freeRiders ? "freeRider" : "fair");
    }
    this.#phase("started");
    // Every node joins, a few at a time, once all are listening.
    await mapPool(this.#nodes, async (n) => {
      this.#options.signal?.throwIfAborted();
      await this.#join(n);
    }, { limit: 4 });
    this.#phase("filled");
    this.#recall = await measureRecall(this.#nodes, this.#rng.fork("recall"));
    this.#phase("recallMeasured");
  }

  /** Owners place the workload, four tesseras at a time. */
  async place(): Promise<void> {
    const workload = planWorkload(this.#s, {
      rng: this.#rng.fork("workload"),
      thresholds: this.#thresholds,
      freeRiders: this.#freeRiders,
    });
    for (const i of workload.owners) this.#nodes[i].owner = true;
    await mapPool(workload.jobs, (job) => this.#placeOne(job), { limit: 4 });
    this.#phase("placed");
    const heals = this.#heals = new HealWatch(this.#census, {
      now: () => this.#today * DAY_MS,
    });
    this.#census.onChange = (id) => heals.see(id);
    for (const id of this.#census.bad()) heals.see(id);
  }

  async #placeOne(job: WorkloadJob): Promise<void> {
    const owner = this.#nodes[job.owner];
    const bytes = tesseraBytes(this.#s.seed, job);
    const id = blake3Hex(bytes);
    this.#ownerOf.set(id, owner);
    const plan = planTessera(bytes.length, { thresholds: this.#thresholds });
    this.#tally.placed++;
    try {
      const report = await owner.service.putTessera(bytes);
      this.#tally.placementBytes += report.bytesSent;
    } catch {
      this.#tally.placementFailures++;
    }
    this.#census.activate(id, job.group, plan.shardCount);
  }

  /** One virtual day: churn, the day's outages, a sweep on every owner. */
  async runDay(day: number): Promise<void> {
    const s = this.#s;
    this.#today = day;
    this.#options.signal?.throwIfAborted();
    await this.#clock.runUntil(EPOCH + day * DAY_MS);
    await this.#traceDay(day);
    await this.#churnDay();
    for (const o of s.outages ?? []) {
      // Transient outages are not simulated at this level.
      if (Math.ceil(o.atDay) === day && o.durationHours === undefined) {
        await this.#outage(o);
      }
    }
    await this.#sweepDay();
    this.#phase(`day${day}`);
    const alive = this.#nodes.filter((n) => n.alive).length;
    this.#series.push(takeSample(this.#census, this.#tally, {
      day,
      online: alive,
      present: alive,
    }));
    // Heal time at day resolution: every tessera the outage broke is good.
    this.#outages.seeAll();
    this.#options.onProgress?.(progressOf(this.#census, { day, days: s.days }));
  }

  /**
   * The trace's departures of the day (its hours rounded up to days, as
   * outages are); its transient downs and ups are not simulated here.
   */
  async #traceDay(day: number): Promise<void> {
    for (const e of this.#s.trace ?? []) {
      const n = this.#nodes[e.node];
      const on = Math.max(1, Math.ceil(e.atHours / 24));
      if (e.action !== "depart" || on !== day) continue;
      if (!n?.alive) continue;
      await this.#depart(n);
      this.#departures++;
    }
  }

  /** The day's permanent departures, each replaced by a fresh node. */
  async #churnDay(): Promise<void> {
    const s = this.#s;
    const stable = (s.churn.owners ?? "stable") === "stable";
    const leaving = this.#churnRng.poisson(
      s.nodes * s.churn.permanentPerMonth / 30,
    );
    for (let k = 0; k < leaving; k++) {
      const eligible = this.#nodes.filter((n) =>
        n.alive && !(n.owner && stable)
      );
      if (eligible.length === 0) break;
      await this.#depart(this.#churnRng.pick(eligible));
      this.#departures++;
      await this.#join(await this.#addNode("fair"));
      this.#arrivals++;
    }
  }

  /** A subnet lost for good: its nodes leave, the census says what broke. */
  async #outage(spec: OutageSpec): Promise<void> {
    const { label, hit } = outageTargets(
      spec,
      this.#nodes.filter((n) => n.alive),
      (n) => this.#ipOfPeer.get(n.node.peerId)!,
    );
    const mark = this.#outages.begin(label, hit.map((n) => n.index));
    for (const n of hit) await this.#depart(n);
    this.#departures += hit.length;
    this.#outages.measure(mark);
  }

  /**
   * One repair sweep on every live node, as every daemon's repair loop
   * runs one a day: owners repair their own tesseras, holders look after
   * orphans and announce what they hold.
   */
  async #sweepDay(): Promise<void> {
    const live = this.#nodes.filter((n) => n.alive);
    await mapPool(live, async (n) => {
      try {
        const report = await n.service.repairSweep({ verifyHeld: false });
        this.#sweepDone(n, report);
      } catch {
        // a failed sweep is retried the next day, as the loop does
      }
    }, { limit: 8 });
  }

  /** Count a sweep's repair traffic and what its stewards did. */
  #sweepDone(n: FullNode, report: SweepReport): void {
    const t = this.#tally;
    t.sweeps++;
    for (const r of report.tesseras) {
      t.repairBytes += r.bytesSent + r.bytesFetched;
      t.repairFetchBytes += r.bytesFetched;
    }
    for (const r of report.stewards?.repairs ?? []) {
      t.repairBytes += r.bytesSent + r.bytesFetched;
      t.repairFetchBytes += r.bytesFetched;
      t.stewardRepairBytes += r.bytesSent + r.bytesFetched;
    }
    this.#stewards.see(n.index, { report, at: this.#clock.now() });
    if (report.stewards) this.#census.keeps(n.index, report.stewards.kept);
  }

  /** Audit, count, and build the result. */
  async finish(): Promise<SimulationResult> {
    const s = this.#s;
    this.#phase("churned");
    const alive = this.#nodes.filter((n) => n.alive);
    await auditPlacements(
      alive.filter((n) => n.owner).map((n) => n.holders),
      this.#placements,
      {
        ipOf: (p: string) => this.#ipOfPeer.get(p),
        roomFor: (id) =>
          this.#offers.roomFor(id, {
            isLive: (p) => this.#classify(p) !== "gone",
            ipOf: (p) => this.#ipOfPeer.get(p),
          }),
        peerLosses: s.promises.peerLosses ?? TARGET_PEER_LOSSES,
      },
    );
    const deficits = await auditDeficits(
      alive.map((n) => n.ledger),
      (p) => this.#classify(p),
    );
    const facts = {
      scenario: s,
      stack: "libp2p" as const,
      census: this.#census,
      config: this.#config,
      tally: this.#tally,
      nodesEnd: alive.length,
      orphaned: [...this.#ownerOf.keys()].filter((id) => !this.#ownerAlive(id))
        .length,
      placements: this.#placements,
      stewards: {
        ...this.#stewards.figures(),
        orphanYears: this.#orphanYears(),
      },
      deficits,
      modelNines: modelNinesOf(this.#census, {
        departures: this.#departures,
        nodeDays: Math.max(1, s.nodes * s.days),
        windowDays: 1,
      }),
      outages: this.#outages.records(),
      heals: this.#heals!.stats(),
      churn: {
        departures: this.#departures,
        arrivals: this.#arrivals,
        absences: 0,
      },
      messages: this.#messages(),
      lookupRecall: this.#recall,
      events: 0,
    };
    return conclude(facts, {
      series: this.#series,
      phaseSeconds: this.#phases,
    });
  }

  /** Stop every node (also after a failure). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#nodes.map((n) => n.node.stop()));
  }

  // --- internals --------------------------------------------------------

  #phase(name: string): void {
    this.#phases[name] = round3((performance.now() - this.#wallStart) / 1000);
  }

  /** Orphans × years orphaned, to the end of the run. */
  #orphanYears(): number {
    const end = EPOCH + Math.ceil(this.#s.days) * DAY_MS;
    let ms = 0;
    for (const at of this.#orphanedAt.values()) ms += end - at;
    return ms / (365 * DAY_MS);
  }

  #ownerAlive(id: TesseraId): boolean {
    return this.#ownerOf.get(id)?.alive === true;
  }

  #classify(p: string): "fair" | "freeRider" | "gone" {
    const j = this.#indexOfPeer.get(p);
    const peer = j === undefined ? undefined : this.#nodes[j];
    return !peer?.alive ? "gone" : peer.kind === "fair" ? "fair" : "freeRider";
  }

  /** Requests served, summed over receivers: what crossed the wire. */
  #messages(): Record<string, number> {
    const messages: Record<string, number> = {};
    for (const n of this.#nodes) {
      for (const [k, v] of Object.entries(n.node.counters())) {
        messages[k] = (messages[k] ?? 0) + v.inbound;
      }
    }
    return messages;
  }

  /** A started node with its own stores and the real service. */
  async #addNode(kind: "fair" | "freeRider"): Promise<FullNode> {
    const index = this.#nodes.length;
    const node = await this.#createLibp2pNode(index);
    const ip = this.#topology.next();
    this.#ipOfPeer.set(node.peerId, ip);
    this.#indexOfPeer.set(node.peerId, index);
    const store = new MemoryFragmentStore({
      verifyOnStore: false,
      copy: false,
      capacityBytes: this.#capacity,
    });
    const now = () => this.#clock.now();
    const holders = new MemoryHolderRegistry({ now });
    const ledger = new MemoryReciprocityLedger({ now });
    const service = new ReplicationService({
      dht: this.#offers.wrap(
        new Libp2pDhtPort(node, {
          ipOf: (p) => this.#ipOfPeer.get(p),
          lookupTimeoutMs: SIM_LOOKUP_TIMEOUT_MS,
        }),
      ),
      fragments: this.#census.wrap(index, store),
      ledger,
      blobs: new MemoryBlobStore({ copy: false }),
      holders,
      identity: node.identity,
      clock: this.#clock,
      rng: this.#rng.fork(`node/${index}`),
      config: this.#config,
      thresholds: this.#thresholds,
      freeSpace: kind === "freeRider" ? () => 0 : () => store.freeSpace(),
      unreachableGraceMs: 0,
      // Stewardship as the daemon wires it (lib/node/daemon.ts): the
      // owner's manifests kept, orphans' holders in memory.
      manifests: new MemoryManifestStore({ copy: false }),
      stewardRegistry: new MemoryHolderRegistry({ now }),
    });
    node.setInboundHandlers(service);
    const full: FullNode = {
      index,
      node,
      service,
      holders,
      ledger,
      kind,
      owner: false,
      alive: false,
    };
    this.#nodes.push(full);
    await node.start();
    full.alive = true;
    return full;
  }

  async #createLibp2pNode(index: number): Promise<TesserasNode> {
    const privateKey = await generateKeyPairFromSeed(
      "Ed25519",
      this.#keyRng.bytes(32),
    );
    return await createTesserasNode({
      privateKey,
      transport: "memory",
      listen: [`/memory/tesseras-sim-${this.#runId}-${index}`],
      peerInfoMapper: "passthrough",
      replicateRateLimit: false,
      dht: SIM_DHT,
      connections: { keepAlive: false },
    });
  }

  /**
   * Join: a few already-known peers (as a restarted node's peer store
   * holds: here the 8 live nodes started before it, wrapping around),
   * then one lookup of its own id, which fills its routing table and puts
   * it in its neighbours' tables.
   */
  async #join(n: FullNode): Promise<void> {
    const live = this.#nodes.filter((x) => x.alive && x !== n);
    const at = live.findIndex((x) => x.index > n.index);
    const before = at < 0 ? live : [...live.slice(at), ...live.slice(0, at)];
    const known = before.slice(-8).map((x) => ({
      id: x.node.peerId,
      addresses: x.node.multiaddrs(),
    }));
    await n.node.addKnownPeers(known, { signal: this.#options.signal });
    await selfLookup(n.node);
  }

  async #depart(n: FullNode): Promise<void> {
    if (!n.alive) return;
    n.alive = false;
    this.#census.nodeGone(n.index, true);
    this.#stewards.gone(n.index);
    for (const [id, owner] of this.#ownerOf) {
      if (owner !== n) continue;
      this.#census.orphan(id);
      this.#orphanedAt.set(id, this.#clock.now());
    }
    await n.node.stop();
  }
}

/** One lookup of the node's own id; errors only leave the table smaller. */
async function selfLookup(node: TesserasNode): Promise<void> {
  try {
    for await (
      const _ of node.libp2p.services.dht.getClosestPeers(
        node.libp2p.peerId.toMultihash().bytes,
      )
    ) {
      // Each answer feeds the routing table as it arrives.
    }
  } catch {
    // A failed lookup leaves a smaller table; recall tells.
  }
}

/** Recall of `findClosestPeers(key, 20)` against the true XOR-closest live peers. */
async function measureRecall(
  nodes: readonly FullNode[],
  rng: SimRng,
): Promise<number> {
  const live = nodes.filter((n) => n.alive);
  if (live.length < 3) return 1;
  const keys = new Map<string, bigint>();
  for (const n of live) {
    keys.set(
      n.node.peerId,
      await kadKey(peerIdFromString(n.node.peerId).toMultihash().bytes),
    );
  }
  let hit = 0, total = 0;
  for (let q = 0; q < 10; q++) {
    const asker = rng.pick(live);
    const key = blake3Hex(rng.bytes(16));
    const target = await kadKey(fromHex(key));
    const truth = live.filter((n) => n !== asker).map((n) => n.node.peerId)
      .sort((a, b) => {
        const da = keys.get(a)! ^ target, db = keys.get(b)! ^ target;
        return da < db ? -1 : da > db ? 1 : 0;
      }).slice(0, 20);
    const answer = await new Libp2pDhtPort(asker.node, {
      lookupTimeoutMs: SIM_LOOKUP_TIMEOUT_MS,
    })
      .findClosestPeers(key, 20).catch(() => []);
    const found = new Set(answer.map((p) => p.id));
    for (const t of truth) if (found.has(t)) hit++;
    total += truth.length;
  }
  return total === 0 ? 1 : round3(hit / total);
}
