/**
 * Replication test nodes on the simulator's network: each node is the
 * real ReplicationService over `lib/memory` stores, reached through the
 * `SimNetwork`'s DhtPort (exact closest-peer answers, no latency, payloads
 * copied as a wire would), on a manual clock the test advances. Failure
 * injection (nodes offline, cheating attestations, slow fetches) sits at
 * the port boundary, in the handlers the network calls.
 */
import {
  type Attestation,
  type AttestRequest,
  type BlobStore,
  type DhtPort,
  type FragmentEnvelope,
  type InboundHandlers,
  type IoOptions,
  type PeerId,
  type PeerInfo,
  type ProofAnswer,
  type ReplicateAck,
  type ReplicationConfig,
  type ShardRef,
  systemClock,
  type TierThresholds,
} from "../../lib/core/mod.ts";
import { blake3Hex, encodeTessera } from "../../lib/codec/mod.ts";
import {
  DroppingStore,
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryManifestStore,
  MemoryReciprocityLedger,
  seededRng,
} from "../../lib/memory/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";
import { SimNetwork } from "../../sim/network.ts";
import { SimRng } from "../../sim/rng.ts";

/** Small thresholds so every tier is cheap: Medium from 1 KiB, Large from 16 KiB. */
export const TEST_THRESHOLDS: TierThresholds = {
  mediumFrom: 1024,
  largeFrom: 16 * 1024,
};

/** A test node. */
export interface TestNode {
  readonly id: PeerId;
  readonly info: PeerInfo;
  readonly service: ReplicationService;
  readonly fragments: MemoryFragmentStore;
  readonly ledger: MemoryReciprocityLedger;
  readonly blobs: BlobStore;
  readonly holders: MemoryHolderRegistry;
  readonly manifests: MemoryManifestStore;
  readonly dht: DhtPort;
  /** Whether it answers (the network's own flag: setting it takes it down). */
  online: boolean;
  /**
   * Answers challenges its own way (a cheater keeping checksums only, a
   * replay, a forgery). Audits use chunk proofs: there the attestation it
   * makes up is sent as the chunk answer it amounts to, its entries with
   * no proofs under its signature (what a holder without the bytes can
   * send at best); a rejection is a rejection either way.
   */
  attestBehaviour?: (req: AttestRequest) => Promise<Attestation> | undefined;
  /** Answers chunk-proof challenges its own way (before `attestBehaviour`). */
  proveBehaviour?: (req: AttestRequest) => Promise<ProofAnswer> | undefined;
  /** Ms of (real) delay before answering a fetch. */
  fetchDelayMs?: number;
  /**
   * Answers pushes in its own way (`serve` is the real service's answer),
   * e.g. slowly or with a failure.
   */
  replicateBehaviour?: (
    envelope: FragmentEnvelope,
    serve: () => Promise<ReplicateAck>,
  ) => Promise<ReplicateAck>;
}

/** Counters of calls, per kind (read from the network's own counters). */
export interface Traffic {
  readonly replicate: number;
  readonly attest: number;
  readonly ping: number;
  readonly fetch: number;
  readonly find: number;
  readonly fetchBytes: number;
  /** Fetches running now, and the most ever running at once. */
  fetchInFlight: number;
  maxFetchInFlight: number;
}

/** Settings of one test node beyond its id and IP. */
export interface TestNodeOptions {
  config?: Partial<ReplicationConfig>;
  freeSpace?: () => number;
  unreachableGraceMs?: number;
  candidateCount?: number;
  /**
   * A store that does not keep the ledger (no `storeForPeer`): the
   * service credits through the ledger port. Default: linked, as the
   * daemon's SQLite store is.
   */
  unlinkedLedger?: boolean;
  /** The blob store (default a fresh `MemoryBlobStore`). */
  blobs?: BlobStore;
  transferBudgetBytes?: number;
  /** A free rider that acknowledges pushes and keeps nothing. */
  drop?: boolean;
}

/** The stores of one test node. */
interface NodeStores {
  readonly ledger: MemoryReciprocityLedger;
  readonly fragments: MemoryFragmentStore;
  readonly blobs: BlobStore;
  readonly holders: MemoryHolderRegistry;
  readonly manifests: MemoryManifestStore;
}

/** Builds test nodes that talk to each other through a {@linkcode SimNetwork}. */
export class MiniNetwork {
  /** The nodes by id; a test may replace one (its service) in place. */
  readonly nodes = new Map<PeerId, TestNode>();
  readonly keyring = new MemoryKeyring("mini");
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly sim: SimNetwork;
  readonly traffic: Traffic;
  readonly #config: Partial<ReplicationConfig>;
  readonly #stewards: boolean;
  #seed = 1;

  /**
   * @param config settings of every node
   * @param options `stewards`: every node gets a steward registry (acts
   *   as a steward of silent owners' tesseras, docs/stewards.md);
   *   `refreshProviders`: see `SimNetworkOptions` (default true)
   */
  constructor(
    config: Partial<ReplicationConfig> = {},
    options: { stewards?: boolean; refreshProviders?: boolean } = {},
  ) {
    this.#config = config;
    this.#stewards = options.stewards ?? false;
    this.sim = new SimNetwork({
      clock: this.clock,
      rng: new SimRng("test-network"),
      lookup: "exact",
      copyPayloads: true,
      keyring: this.keyring,
      refreshProviders: options.refreshProviders ?? true,
    });
    this.traffic = trafficOf(this.sim);
  }

  /** Add a node with the given id and IP (a node of that id is replaced). */
  add(
    id: PeerId,
    ip: string | undefined,
    extra: TestNodeOptions = {},
  ): TestNode {
    const old = this.sim.indexOf(id);
    if (old !== undefined) this.sim.depart(old);
    // Its key in the DHT is its id's BLAKE3: closest peers by XOR with the
    // tessera id, as the daemon's kad-dht orders them (on the top 64 bits).
    const index = this.sim.addNode({
      peerId: id,
      keyHex: blake3Hex(new TextEncoder().encode(id)).slice(0, 16),
      ...(ip ? { ip } : {}),
    });
    const info: PeerInfo = { id, addresses: [], ...(ip ? { ip } : {}) };
    const stores = this.#stores(extra);
    const dht = this.sim.dht(index);
    const service = this.#service(id, dht, stores, extra);
    const net = this.sim;
    const node: TestNode = {
      id,
      info,
      service,
      ...stores,
      dht,
      get online() {
        return net.isOnline(index);
      },
      set online(up: boolean) {
        net.setOnline(index, up);
      },
    };
    this.sim.attach(index, this.#handlers(id));
    this.nodes.set(id, node);
    return node;
  }

  /** `n` nodes `p00…`, each on its own /24 (10.0.i.1). */
  addMany(n: number, prefix = "p"): TestNode[] {
    return Array.from(
      { length: n },
      (_, i) =>
        this.add(`${prefix}${String(i).padStart(2, "0")}`, `10.0.${i}.1`),
    );
  }

  /** The node of `id`; throws when there is none. */
  node(id: PeerId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  #stores(extra: TestNodeOptions): NodeStores {
    const now = () => this.clock.now();
    const ledger = new MemoryReciprocityLedger({ now });
    return {
      ledger,
      fragments: new MemoryFragmentStore(
        extra.unlinkedLedger ? {} : { ledger },
      ),
      blobs: extra.blobs ?? new MemoryBlobStore(),
      holders: new MemoryHolderRegistry({ now }),
      manifests: new MemoryManifestStore(),
    };
  }

  #service(
    id: PeerId,
    dht: DhtPort,
    stores: NodeStores,
    extra: TestNodeOptions,
  ): ReplicationService {
    return new ReplicationService({
      dht,
      fragments: extra.drop
        ? new DroppingStore(stores.fragments)
        : stores.fragments,
      ledger: stores.ledger,
      blobs: stores.blobs,
      holders: stores.holders,
      manifests: stores.manifests,
      ...(this.#stewards
        ? {
          stewardRegistry: new MemoryHolderRegistry({
            now: () => this.clock.now(),
          }),
        }
        : {}),
      identity: this.keyring.identity(id),
      clock: this.clock,
      rng: seededRng(this.#seed++),
      config: { ...this.#config, ...extra.config },
      thresholds: TEST_THRESHOLDS,
      ...(extra.freeSpace ? { freeSpace: extra.freeSpace } : {}),
      ...(extra.unreachableGraceMs !== undefined
        ? { unreachableGraceMs: extra.unreachableGraceMs }
        : {}),
      ...(extra.candidateCount !== undefined
        ? { candidateCount: extra.candidateCount }
        : {}),
      ...(extra.transferBudgetBytes !== undefined
        ? { transferBudgetBytes: extra.transferBudgetBytes }
        : {}),
    });
  }

  /**
   * What the network calls on node `id`: its service as the test has it
   * now (a test may swap it), with the test's cheats and delays.
   */
  #handlers(id: PeerId): InboundHandlers {
    const node = () => this.node(id);
    const traffic = this.traffic;
    return {
      onReplicate: (envelope: FragmentEnvelope, from, options) => {
        const serve = () => node().service.onReplicate(envelope, from, options);
        const behave = node().replicateBehaviour;
        return behave ? behave(envelope, serve) : serve();
      },
      onAttest: async (request: AttestRequest, from, options) => {
        const fake = node().attestBehaviour?.(request);
        if (fake) return await fake;
        return await node().service.onAttest(request, from, options);
      },
      onProve: async (request: AttestRequest, from, options) => {
        const own = node().proveBehaviour?.(request);
        if (own) return await own;
        const fake = node().attestBehaviour?.(request);
        if (fake) return proofAnswerOf(await fake);
        return await node().service.onProve(request, from, options);
      },
      onFetch: async (shard: ShardRef, from, options?: IoOptions) => {
        traffic.fetchInFlight++;
        traffic.maxFetchInFlight = Math.max(
          traffic.maxFetchInFlight,
          traffic.fetchInFlight,
        );
        try {
          // A tick, so concurrent fetches overlap as on a real network.
          await systemClock.sleep(node().fetchDelayMs ?? 0, options);
          return await node().service.onFetch(shard, from, options);
        } finally {
          traffic.fetchInFlight--;
        }
      },
    };
  }
}

/** A made-up attestation as the chunk answer it amounts to: no proofs. */
function proofAnswerOf(a: Attestation): ProofAnswer {
  return {
    tesseraId: a.tesseraId,
    holder: a.holder,
    nonce: a.nonce,
    shards: a.entries.map((e) => ({
      index: e.index,
      checksum: e.checksum,
      size: 0,
      groups: [],
    })),
    timestamp: a.timestamp,
    signature: a.signature,
  };
}

/** The network's counters under the names these tests use. */
function trafficOf(sim: SimNetwork): Traffic {
  const t = sim.traffic;
  return {
    get replicate() {
      return t.replicate.messages;
    },
    get attest() {
      return t.attest.messages;
    },
    get ping() {
      return t.ping.messages;
    },
    get fetch() {
      return t.fetch.messages;
    },
    get find() {
      return t.lookup.messages;
    },
    get fetchBytes() {
      return t.fetch.bytes;
    },
    fetchInFlight: 0,
    maxFetchInFlight: 0,
  };
}

/** Deterministic pseudo-random bytes. */
export function testBytes(n: number, seed = 1): Uint8Array {
  return seededRng(seed).bytes(n);
}

/** The envelope of shard `index` of `data` encoded as a tessera (test tiers). */
export function envelopeFor(data: Uint8Array, index = 0): FragmentEnvelope {
  const enc = encodeTessera(data, { thresholds: TEST_THRESHOLDS });
  const f = enc.fragments[index];
  return {
    fragment: f.id,
    plan: enc.plan,
    originalSize: enc.plan.size,
    fragmentSize: f.data.length,
    data: f.data,
  };
}

/**
 * A DHT port for one holder that is offline: no peers, every call out
 * fails (tests that only receive).
 */
export function offlineDht(selfId: string): DhtPort {
  const never = () => Promise.reject(new Error("offline"));
  return {
    selfId,
    findClosestPeers: () => Promise.resolve([]),
    replicate: never,
    requestAttestation: never,
    ping: never,
    fetch: never,
  };
}

/** Shard `index` of the placed tessera carrying `data`. */
export function shardEnvelope(
  report: { tesseraId: string; plan: FragmentEnvelope["plan"] },
  shard: { index: number; data: Uint8Array },
): FragmentEnvelope {
  const { index, data } = shard;
  return {
    fragment: {
      tesseraId: report.tesseraId,
      index,
      shardCount: report.plan.shardCount,
      checksum: blake3Hex(data),
    },
    plan: report.plan,
    originalSize: report.plan.size,
    fragmentSize: data.length,
    data,
  };
}
