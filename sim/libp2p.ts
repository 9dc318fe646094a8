/**
 * The full-stack level (`--stack libp2p`): real libp2p nodes in one
 * process over `@libp2p/memory`, each with the real Noise, Yamux,
 * identify, ping, Kademlia and tesseras protocols (`lib/net`) under the
 * same `ReplicationService` the port level runs. It proves the protocol
 * code under churn for up to a hundred or so nodes and a few virtual days.
 *
 * Time is real here (libp2p has its own timers), so the run is not bit-
 * for-bit reproducible and a "virtual day" is one repair sweep on every
 * online owner, run by the driver instead of the 24 h loop. Churn is
 * permanent departures and arrivals; permanent outages apply, transient
 * absences and transient outages are not simulated at this level.
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
import { fromHex, type TesseraId } from "../lib/core/mod.ts";
import { blake3Hex, planTessera } from "../lib/codec/mod.ts";
import {
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryReciprocityLedger,
} from "../lib/memory/mod.ts";
import {
  createTesserasNode,
  Libp2pDhtPort,
  type TesserasNode,
} from "../lib/net/mod.ts";
import { ReplicationService } from "../lib/replication/mod.ts";
import { ledgerDeficits, subnetViolations } from "./audit.ts";
import { ShardCensus } from "./census.ts";
import { HealWatch } from "./heal.ts";
import { SimRng } from "./rng.ts";
import type {
  OutageRecord,
  SimulationOptions,
  SimulationResult,
} from "./run.ts";
import { scaledConfig, scaledThresholds } from "./scale.ts";
import type { Scenario } from "./scenario.ts";
import {
  durability,
  evaluateChecks,
  modelDurability,
  redundancyFields,
  round3,
  type Sample,
  type SimSummary,
} from "./summary.ts";
import { slash16, slash24, Topology } from "./topology.ts";

const KIB = 1024;
const GIB = 1024 * 1024 * KIB;
const DAY_MS = 86_400_000;

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
} as const;

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

async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
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
 * const result = await runLibp2pSimulation(resolveScenario({
 *   scenario: "quick", nodes: 20, days: 3, tesseras: 10,
 * }));
 * ```
 */
export async function runLibp2pSimulation(
  scenario: Scenario,
  options: Pick<SimulationOptions, "onProgress" | "signal"> = {},
): Promise<SimulationResult> {
  const wallStart = performance.now();
  const s = scenario;
  if (s.nodes > MAX_LIBP2P_NODES) {
    throw new Error(
      `--stack libp2p runs at most ${MAX_LIBP2P_NODES} nodes (got ${s.nodes}): in-process kad-dht stalls beyond that; use --stack port for more`,
    );
  }
  const rng = new SimRng(s.seed);
  const F = s.scale;
  const thresholds = scaledThresholds(F);
  const config = scaledConfig(s.replication ?? {}, F);
  const capacity = Math.round((s.nodeCapacityBytes ?? 64 * GIB) * F);
  const topology = new Topology(
    s.topology ?? {},
    rng.fork("topology"),
    s.nodes,
  );
  const keyRng = rng.fork("keys");
  // Memory-transport addresses are process-global: never reuse one.
  const runId = crypto.randomUUID();
  const nodes: FullNode[] = [];
  // Repair is the owner's job: an outage that takes a tessera's owner
  // leaves it orphaned, counted apart as the port level does.
  const ownerOf = new Map<TesseraId, FullNode>();
  const ownerAlive = (id: TesseraId) => ownerOf.get(id)?.alive === true;
  const ipOfPeer = new Map<string, string>();
  const indexOfPeer = new Map<string, number>();
  const census = new ShardCensus({
    smallReplicas: config.smallReplicas,
    isOnline: (i) => nodes[i]?.alive === true,
  });
  const frCount = Math.round(s.nodes * (s.freeRiders?.fraction ?? 0));

  const addNode = async (kind: "fair" | "freeRider"): Promise<FullNode> => {
    const index = nodes.length;
    const privateKey = await generateKeyPairFromSeed(
      "Ed25519",
      keyRng.bytes(32),
    );
    const store = new MemoryFragmentStore({
      verifyOnStore: false,
      copy: false,
      capacityBytes: capacity,
    });
    const holders = new MemoryHolderRegistry();
    const ledger = new MemoryReciprocityLedger();
    const node = await createTesserasNode({
      privateKey,
      transport: "memory",
      listen: [`/memory/tesseras-sim-${runId}-${index}`],
      peerInfoMapper: "passthrough",
      replicateRateLimit: false,
      dht: SIM_DHT,
      connections: { keepAlive: false },
    });
    const ip = topology.next();
    ipOfPeer.set(node.peerId, ip);
    indexOfPeer.set(node.peerId, index);
    const service = new ReplicationService({
      dht: new Libp2pDhtPort(node, { ipOf: (p) => ipOfPeer.get(p) }),
      fragments: census.wrap(index, store),
      ledger,
      blobs: new MemoryBlobStore({ copy: false }),
      holders,
      identity: node.identity,
      rng: rng.fork(`node/${index}`),
      config,
      thresholds,
      freeSpace: kind === "freeRider" ? () => 0 : () => store.freeSpace(),
      unreachableGraceMs: 0,
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
    nodes.push(full);
    await node.start();
    full.alive = true;
    return full;
  };

  // Join: a few already-known peers (as a restarted node's peer store
  // holds: here the 8 live nodes started before it, wrapping around), then
  // one lookup of its own id, which fills its routing table and puts it in
  // its neighbours' tables.
  const join = async (n: FullNode) => {
    const live = nodes.filter((x) => x.alive && x !== n);
    const at = live.findIndex((x) => x.index > n.index);
    const before = at < 0 ? live : [...live.slice(at), ...live.slice(0, at)];
    const known = before.slice(-8).map((x) => ({
      id: x.node.peerId,
      addresses: x.node.multiaddrs(),
    }));
    await n.node.addKnownPeers(known, { signal: options.signal });
    await selfLookup(n.node);
  };

  const depart = async (n: FullNode) => {
    if (!n.alive) return;
    n.alive = false;
    census.nodeGone(n.index, true);
    await n.node.stop();
  };

  let repairBytes = 0, placementBytes = 0, sweeps = 0, placementFailures = 0;
  let departures = 0, arrivals = 0;
  const series: Sample[] = [];
  const outages: OutageRecord[] = [];
  const broken: Set<TesseraId>[] = [];
  const violating = new Set<TesseraId>();
  let placed = 0;
  let recall = 1;
  const phases: Record<string, number> = {};
  const phase = (name: string) => {
    phases[name] = round3((performance.now() - wallStart) / 1000);
  };
  try {
    for (let i = 0; i < s.nodes; i++) {
      await addNode(i < frCount ? "freeRider" : "fair");
    }
    phase("started");
    // Fill the routing tables: every node joins, a few at a time, once
    // all are listening.
    await pool(nodes, 4, async (n) => {
      options.signal?.throwIfAborted();
      await join(n);
    });
    phase("filled");
    recall = await measureRecall(nodes, rng.fork("recall"));
    phase("recallMeasured");

    // Workload: owners place their tesseras.
    const wrng = rng.fork("workload");
    const owners = nodes.filter((_n, i) =>
      i < frCount || wrng.chance(s.workload?.ownerFraction ?? 0.5)
    );
    if (owners.length === 0) owners.push(nodes[0]);
    for (const o of owners) o.owner = true;
    const mix = s.workload?.mix ?? { small: 0.5, medium: 0.4, large: 0.1 };
    const total = mix.small + mix.medium + mix.large;
    const jobs: { owner: FullNode; bytes: Uint8Array }[] = [];
    for (let j = 0; j < s.tesseras; j++) {
      const owner = wrng.pick(owners);
      const u = wrng.next() * total;
      const [lo, hi] = u < mix.small
        ? [Math.max(1, Math.round(64 * KIB * F)), thresholds.mediumFrom]
        : u < mix.small + mix.medium
        ? [thresholds.mediumFrom, thresholds.largeFrom]
        : [
          thresholds.largeFrom,
          Math.max(thresholds.largeFrom + 1, Math.round(GIB * F)),
        ];
      const size = Math.min(
        hi - 1,
        Math.max(lo, Math.floor(wrng.logUniform(lo, Math.max(lo + 1, hi)))),
      );
      jobs.push({ owner, bytes: wrng.bytes(size) });
    }
    await pool(jobs, 4, async ({ owner, bytes }) => {
      const id = blake3Hex(bytes);
      ownerOf.set(id, owner);
      const plan = planTessera(bytes.length, { thresholds });
      placed++;
      try {
        const report = await owner.service.putTessera(bytes);
        placementBytes += report.bytesSent;
      } catch {
        placementFailures++;
      }
      census.activate(
        id,
        owner.kind === "fair" ? "fair" : "freeRider",
        plan.shardCount,
      );
    });

    phase("placed");
    // A day here is one sweep on every owner: heal times at day resolution.
    let today = 0;
    const heals = new HealWatch(census, { now: () => today * DAY_MS });
    census.onChange = (id) => heals.see(id);
    for (const id of census.bad()) heals.see(id);
    const crng = rng.fork("churn");
    for (let day = 1; day <= Math.ceil(s.days); day++) {
      today = day;
      options.signal?.throwIfAborted();
      // Permanent churn for the day, then the day's outages.
      const leaving = crng.poisson(s.nodes * s.churn.permanentPerMonth / 30);
      for (let k = 0; k < leaving; k++) {
        const eligible = nodes.filter((n) =>
          n.alive && !(n.owner && (s.churn.owners ?? "stable") === "stable")
        );
        if (eligible.length === 0) break;
        await depart(crng.pick(eligible));
        departures++;
        await join(await addNode("fair"));
        arrivals++;
      }
      for (const o of s.outages ?? []) {
        if (Math.ceil(o.atDay) !== day || o.durationHours !== undefined) {
          continue;
        }
        const groups = new Map<string, FullNode[]>();
        for (const n of nodes.filter((x) => x.alive)) {
          const ip = ipOfPeer.get(n.node.peerId)!;
          const key = o.scope === "/24" ? slash24(ip) : slash16(ip);
          groups.set(key, [...(groups.get(key) ?? []), n]);
        }
        const chosen = [...groups].sort((a, b) =>
          b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)
        ).slice(0, o.subnets ?? 1);
        const hit = chosen.flatMap(([, g]) => g);
        const before = new Set(census.bad());
        for (const n of hit) await depart(n);
        departures += hit.length;
        const hurt = census.bad().filter((id) => !before.has(id));
        const affected = new Set(hurt.filter(ownerAlive));
        broken.push(affected);
        outages.push({
          label: `${
            chosen.map(([k]) => k).join(", ")
          } ${o.scope} lost for good (${hit.length} nodes)`,
          day,
          tesseras: affected.size,
          orphaned: hurt.length - affected.size,
          healHours: affected.size === 0 ? 0 : null,
        });
      }
      // One repair sweep on every live owner: the day's 24 h tick.
      await pool(nodes.filter((n) => n.alive && n.owner), 8, async (n) => {
        try {
          const report = await n.service.repairSweep({ verifyHeld: false });
          sweeps++;
          for (const t of report.tesseras) {
            repairBytes += t.bytesSent + t.bytesFetched;
          }
        } catch {
          // a failed sweep is retried the next day, as the loop does
        }
      });
      phase(`day${day}`);
      const c = census.counts;
      census.sampleRedundancy();
      series.push({
        day,
        healthy: c.healthy,
        degraded: c.degraded,
        lost: c.lost,
        unavailable: c.unavailable,
        online: nodes.filter((n) => n.alive).length,
        present: nodes.filter((n) => n.alive).length,
        repairBytes,
        storedBytes: census.storedBytes,
      });
      // Heal time at day resolution: every tessera the outage broke is good.
      outages.forEach((o, k) => {
        if (o.healHours !== null) return;
        for (const id of broken[k]) if (census.isGood(id)) broken[k].delete(id);
        if (broken[k].size === 0) {
          (o as { healHours: number | null }).healHours = (day - o.day) * 24;
        }
      });
      options.onProgress?.({
        day,
        days: s.days,
        healthy: c.healthy,
        degraded: c.degraded,
        lost: c.lost,
      });
    }

    phase("churned");
    const ipOf = (p: string) => ipOfPeer.get(p);
    for (const n of nodes) {
      if (!n.alive || !n.owner) continue;
      for (
        const id of await subnetViolations(n.holders, ipOf, config.maxPerSubnet)
      ) {
        violating.add(id);
      }
    }
    let fairMax = 0, frMax = 0;
    const deficits: number[] = [];
    const classify = (p: string) => {
      const j = indexOfPeer.get(p);
      const peer = j === undefined ? undefined : nodes[j];
      return !peer?.alive
        ? "gone"
        : peer.kind === "fair"
        ? "fair"
        : "freeRider";
    };
    for (const n of nodes) {
      if (!n.alive) continue;
      const a = await ledgerDeficits(n.ledger, classify);
      fairMax = Math.max(fairMax, a.fairMax);
      frMax = Math.max(frMax, a.freeRiderMax);
      deficits.push(...a.deficits);
    }
    const c = census.counts;
    const d = durability(census.lostEver, { tesseras: placed, days: s.days });
    const counters = nodes.map((n) => n.node.counters());
    const messages: Record<string, number> = {};
    for (const cnt of counters) {
      for (const [k, v] of Object.entries(cnt)) {
        // Requests served, summed over receivers: what crossed the wire.
        messages[k] = (messages[k] ?? 0) + v.inbound;
      }
    }
    const summary: SimSummary = {
      scenario: s.name,
      seed: s.seed,
      stack: "libp2p",
      scale: s.scale,
      nodes: s.nodes,
      nodesEnd: nodes.filter((n) => n.alive).length,
      virtualDays: s.days,
      tesseras: placed,
      healthy: c.healthy,
      degraded: c.degraded,
      lost: c.lost,
      lostEver: census.lostEver,
      orphaned: [...ownerOf.keys()].filter((id) => !ownerAlive(id)).length,
      freeRiderLostEver: census.lostEverByGroup.get("freeRider") ?? 0,
      unavailable: c.unavailable,
      subnetViolations: violating.size,
      maxDeficitBytes: fairMax,
      maxFreeRiderDeficitBytes: frMax,
      deficitToleranceBytes: config.deficitToleranceBytes,
      repairBytes,
      placementBytes,
      refusedBytes: 0,
      storedBytes: census.storedBytes,
      repairRatio: census.storedBytes > 0
        ? round3(repairBytes / census.storedBytes)
        : 0,
      ...redundancyFields(census),
      durabilityNines: d.nines,
      durabilityBasis: d.basis,
      durabilityModelNines: modelDurability({
        dailyDeparture: departures / Math.max(1, s.nodes * s.days),
        windowDays: 1,
        shapes: census.shapes(),
      }),
      healHours: outages.map((o) => o.healHours),
      healAfterLoss: heals.stats(),
      departures,
      arrivals,
      absences: 0,
      sweeps,
      placementFailures,
      messages,
      lookupRecall: recall,
      events: 0,
      wallSeconds: round3((performance.now() - wallStart) / 1000),
    };
    const checks = evaluateChecks(summary, s.promises);
    return {
      summary,
      checks,
      ok: checks.every((x) => x.ok),
      series,
      deficits,
      shardSizes: census.shardSizes(),
      outages,
      scenario: s,
      phaseSeconds: phases,
    };
  } finally {
    await Promise.allSettled(nodes.map((n) => n.node.stop()));
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
    const answer = await new Libp2pDhtPort(asker.node)
      .findClosestPeers(key, 20).catch(() => []);
    const found = new Set(answer.map((p) => p.id));
    for (const t of truth) if (found.has(t)) hit++;
    total += truth.length;
  }
  return total === 0 ? 1 : round3(hit / total);
}
