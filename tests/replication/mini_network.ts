/**
 * A mini network for replication tests: an in-process DhtPort that routes
 * each call to another node's ReplicationService, with failure injection.
 * Mocks only at the port boundary.
 */
import {
  type Attestation,
  type AttestRequest,
  type BlobStore,
  type DhtPort,
  type FragmentEnvelope,
  fromHex,
  type IoOptions,
  type PeerId,
  type PeerInfo,
  type ReplicateAck,
  type ReplicationConfig,
  type ShardRef,
  type TesseraId,
  TesserasError,
  type TierThresholds,
} from "../../lib/core/mod.ts";
import { blake3, encodeTessera } from "../../lib/codec/mod.ts";
import {
  DroppingStore,
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryReciprocityLedger,
  seededRng,
} from "../../lib/memory/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";

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
  readonly dht: DhtPort;
  online: boolean;
  /** Answers attestations without data (a cheater keeping checksums only). */
  attestBehaviour?: (req: AttestRequest) => Promise<Attestation> | undefined;
  /** Ms of (real) delay before answering a fetch. */
  fetchDelayMs?: number;
}

/** Counters of calls, per kind. */
export interface Traffic {
  replicate: number;
  attest: number;
  ping: number;
  fetch: number;
  find: number;
  fetchBytes: number;
  /** Fetches running now, and the most ever running at once. */
  fetchInFlight: number;
  maxFetchInFlight: number;
}

/** Builds nodes that talk to each other through {@linkcode MiniNetwork}. */
export class MiniNetwork {
  readonly nodes = new Map<PeerId, TestNode>();
  readonly keyring = new MemoryKeyring("mini");
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly traffic: Traffic = {
    replicate: 0,
    attest: 0,
    ping: 0,
    fetch: 0,
    find: 0,
    fetchBytes: 0,
    fetchInFlight: 0,
    maxFetchInFlight: 0,
  };
  readonly #config: Partial<ReplicationConfig>;
  #seed = 1;

  constructor(config: Partial<ReplicationConfig> = {}) {
    this.#config = config;
  }

  /** Add a node with the given id and IP. */
  add(
    id: PeerId,
    ip: string | undefined,
    extra: {
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
    } = {},
  ): TestNode {
    const info: PeerInfo = { id, addresses: [], ...(ip ? { ip } : {}) };
    const now = () => this.clock.now();
    const ledger = new MemoryReciprocityLedger({ now });
    const fragments = new MemoryFragmentStore(
      extra.unlinkedLedger ? {} : { ledger },
    );
    const blobs = extra.blobs ?? new MemoryBlobStore();
    const holders = new MemoryHolderRegistry({ now });
    const dht = this.#dht(id);
    const service = new ReplicationService({
      dht,
      fragments: extra.drop ? new DroppingStore(fragments) : fragments,
      ledger,
      blobs,
      holders,
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
    const node: TestNode = {
      id,
      info,
      service,
      fragments,
      ledger,
      blobs,
      holders,
      dht,
      online: true,
    };
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

  node(id: PeerId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  #dht(self: PeerId): DhtPort {
    return makeDht(this, self);
  }

  /** The node if online; throws `UNREACHABLE` otherwise. */
  target(peer: PeerId): TestNode {
    const n = this.nodes.get(peer);
    if (!n || !n.online) {
      throw new TesserasError("UNREACHABLE", `peer ${peer} is offline`);
    }
    return n;
  }
}

function makeDht(net: MiniNetwork, self: PeerId): DhtPort {
  const from = () => net.node(self).info;
  return {
    selfId: self,
    findClosestPeers(
      key: TesseraId,
      count: number,
      _options?: IoOptions,
    ): Promise<PeerInfo[]> {
      net.traffic.find++;
      const k = fromHex(key);
      const peers = [...net.nodes.values()].filter((n) =>
        n.online && n.id !== self
      );
      const dist = new Map(peers.map((n) => [
        n.id,
        xor(
          blake3(
            new TextEncoder().encode(n.id),
          ),
          k,
        ),
      ]));
      peers.sort((a, b) => compare(dist.get(a.id)!, dist.get(b.id)!));
      return Promise.resolve(peers.slice(0, count).map((n) => n.info));
    },
    async replicate(
      peer: PeerId,
      envelope: FragmentEnvelope,
      options?: IoOptions,
    ): Promise<ReplicateAck> {
      net.traffic.replicate++;
      const t = net.target(peer);
      return await t.service.onReplicate(
        { ...envelope, data: envelope.data.slice() },
        from(),
        options,
      );
    },
    async requestAttestation(
      peer: PeerId,
      request: AttestRequest,
      options?: IoOptions,
    ): Promise<Attestation> {
      net.traffic.attest++;
      const t = net.target(peer);
      const fake = t.attestBehaviour?.(request);
      if (fake) return await fake;
      return await t.service.onAttest(request, from(), options);
    },
    ping(peer: PeerId): Promise<number> {
      net.traffic.ping++;
      try {
        net.target(peer);
        return Promise.resolve(1);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    async fetch(
      peer: PeerId,
      shard: ShardRef,
      options?: IoOptions,
    ): Promise<Uint8Array> {
      net.traffic.fetch++;
      const t = net.target(peer);
      net.traffic.fetchInFlight++;
      net.traffic.maxFetchInFlight = Math.max(
        net.traffic.maxFetchInFlight,
        net.traffic.fetchInFlight,
      );
      let data: Uint8Array | null;
      try {
        // A tick, so concurrent fetches overlap as on a real network.
        await delay(t.fetchDelayMs ?? 0, options?.signal);
        data = await t.service.onFetch(shard, from(), options);
      } finally {
        net.traffic.fetchInFlight--;
      }
      if (!data) {
        throw new TesserasError(
          "NOT_FOUND",
          `${peer} lacks shard ${shard.index}`,
        );
      }
      net.traffic.fetchBytes += data.length;
      return data;
    },
  };
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = a[i] ^ (b[i] ?? 0);
  return out;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
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
