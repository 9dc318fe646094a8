/**
 * The libp2p node of tesseras: TCP (or the in-memory transport for the
 * simulator's full-stack mode), Noise, Yamux, identify, ping and a
 * Kademlia DHT under `/tesseras/kad/1.0.0` in server mode, plus our three
 * wire protocols, with explicit connection and stream limits.
 *
 * @module
 */
import { recordKadInit, type RecordRules } from "./records.ts";
import type { InboundHandlers, NodeIdentity, PeerInfo } from "../core/mod.ts";
import { TesserasError } from "../core/mod.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import type {
  IdentifyResult,
  Libp2p,
  PeerId,
  PrivateKey,
} from "@libp2p/interface";
import {
  type KadDHT,
  kadDHT,
  passthroughMapper,
  removePrivateAddressesMapper,
} from "@libp2p/kad-dht";
import { memory } from "@libp2p/memory";
import { peerIdFromString } from "@libp2p/peer-id";
import { ping } from "@libp2p/ping";
import { answerPing, PING_PROTOCOL } from "./protocol/ping.ts";
import { tcp } from "@libp2p/tcp";
import { getLogger } from "@logtape/logtape";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { installDenoExitFixes } from "./deno_compat.ts";
import { withCachedSigning } from "./ed25519_keys.ts";
import {
  applyKadTuning,
  type DhtTuningOptions,
  kadTuningInit,
} from "./kad_tuning.ts";
import { Libp2pNodeIdentity } from "./identity.ts";
import { type NetCounters, NetMetrics } from "./metrics.ts";
import { toPeerInfo } from "./peer_info.ts";
import { type NatOptions, type NatParts, natParts } from "./nat.ts";
import { NatMonitor, type ReachabilityReport } from "./nat_monitor.ts";
import { libp2pLogger } from "./quiet_logger.ts";
import { attestSpec } from "./protocol/attest.ts";
import { type InboundSpec, serveInbound } from "./protocol/exchange.ts";
import { fetchSpec } from "./protocol/fetch.ts";
import {
  ATTEST_PROTOCOL,
  FETCH_PROTOCOL,
  KAD_PROTOCOL,
  type NetLimits,
  netLimits,
  type NetLimitsOverrides,
  PROVE_PROTOCOL,
  REPLICATE_PROTOCOL,
  VERIFIED_FETCH_PROTOCOL,
} from "./protocol/limits.ts";
import { proveSpec } from "./protocol/prove.ts";
import { verifiedFetchSpec } from "./protocol/verified_fetch.ts";
import { replicateSpec } from "./protocol/replicate.ts";
import { PeerRateLimiter, type RateLimit } from "./token_bucket.ts";

const log = getLogger(["tesseras", "net"]);
/** Ping streams per connection, each direction. */
const PING_STREAMS = 8;

/** A peer remembered from an earlier run (e.g. the `dht_peers` table). */
export interface KnownPeer {
  /** Peer id string. */
  readonly id: string;
  /** Multiaddrs it was seen at (without or with the `/p2p/` suffix). */
  readonly addresses: readonly string[];
}

/** Why `onPeerSeen` fired. */
export interface PeerSeenInfo {
  /**
   * `inbound`/`outbound`: a connection was established (the address is the
   * connection's remote address; for inbound ones usually an ephemeral
   * port). `identify`: the peer told us one of its listen addresses.
   */
  readonly source: "inbound" | "outbound" | "identify";
}

/** Called for every established connection and every identify result. */
export type PeerSeenCallback = (
  peerId: string,
  multiaddr: string,
  info: PeerSeenInfo,
) => void | Promise<void>;

/**
 * Which peer addresses the DHT keeps: `public` drops private and loopback
 * addresses (the internet default), `passthrough` keeps all (LAN, tests,
 * a machine running several nodes).
 */
export type PeerInfoMapperSetting = "public" | "passthrough";

/** Connection manager limits. */
export interface ConnectionLimitsOptions {
  /** Most open connections (default 300). */
  readonly maxConnections?: number;
  /** Inbound connections accepted per second from one host (default 5). */
  readonly inboundConnectionThreshold?: number;
  /** Inbound connections upgrading at once (default 16). */
  readonly maxIncomingPendingConnections?: number;
  /** Time to dial a peer, ms (default 10 s). */
  readonly dialTimeoutMs?: number;
  /** Streams per connection, any protocol, each direction (default 256). */
  readonly maxStreamsPerConnection?: number;
  /**
   * Liveness pings on open connections (default true): libp2p's
   * connection monitor pings every peer every 10 s and Yamux sends a
   * keep-alive every 30 s. `false` for the in-process memory transport,
   * where a stopped peer's connections close at once and the pings only
   * cost CPU (measured: hundreds of pings a second at 100 nodes).
   */
  readonly keepAlive?: boolean;
}

/** Options of {@linkcode createTesserasNode}. */
export interface TesserasNodeOptions {
  /** The node's Ed25519 key (from `loadOrCreateIdentity`). */
  readonly privateKey: PrivateKey;
  /**
   * Listen multiaddrs, e.g. `/ip4/0.0.0.0/tcp/4001` or, with the memory
   * transport, `/memory/node-1`. Default: `/ip4/127.0.0.1/tcp/0`.
   */
  readonly listen?: readonly string[];
  /** Addresses to announce instead of the listen addresses. */
  readonly announce?: readonly string[];
  /** Bootstrap peers' multiaddrs (with `/p2p/<id>`), dialled at start. */
  readonly bootstrap?: readonly string[];
  /** Peers to preload into the peer store and routing table at start. */
  readonly knownPeers?: readonly KnownPeer[];
  /** `tcp` (default) or `memory` (one process, simulator full-stack mode). */
  readonly transport?: "tcp" | "memory";
  /**
   * Local IP to bind outgoing TCP dials to, so peers observe it. Default:
   * the listen address when the node listens on a single loopback address
   * other than 127.0.0.1 (several nodes on one machine on 127.0.N.1), else
   * the OS's choice.
   */
  readonly dialLocalAddress?: string;
  /** Answers to inbound requests; can also be set later. */
  readonly handlers?: InboundHandlers;
  /** Called on every connection and identify result (to persist peers). */
  readonly onPeerSeen?: PeerSeenCallback;
  /** Address filter of the DHT (default `public`). */
  readonly peerInfoMapper?: PeerInfoMapperSetting;
  /** Per-protocol size, time and stream limits. */
  readonly limits?: NetLimitsOverrides;
  /**
   * Per-peer replicate throttle (default 32 burst, 4/s); `false` disables.
   */
  readonly replicateRateLimit?: RateLimit | false;
  /** Connection manager limits. */
  readonly connections?: ConnectionLimitsOptions;
  /** How many known peers to add to the routing table at start (200). */
  readonly maxPreloadedPeers?: number;
  /** Re-dial bootstrap peers this often while we have no connection (30 s). */
  readonly bootstrapRetryMs?: number;
  /** Agent version sent by identify (default `tesseras`). */
  readonly agentVersion?: string;
  /** Kademlia tuning (kad-dht's defaults when absent). */
  readonly dht?: DhtTuningOptions;
  /** Rules of the DHT records the node stores (catalogue records). */
  readonly records?: RecordRules;
  /**
   * NAT traversal (AutoNAT, UPnP, relay, DCUtR, mDNS); absent: none of
   * them (loopback tests, the simulator). Ignored on the memory transport.
   */
  readonly nat?: NatOptions;
}

/** What `/metrics` and `/health` need from the network, in one call. */
export interface NetStats {
  /** Our peer id. */
  readonly peerId: string;
  /** Listen multiaddrs, each ending in `/p2p/<peer id>`. */
  readonly multiaddrs: readonly string[];
  /** Open connections. */
  readonly connections: number;
  /** Distinct connected peers. */
  readonly connectedPeers: number;
  /** Peers in the Kademlia routing table. */
  readonly routingTableSize: number;
  /** Per-protocol message and error counters. */
  readonly protocols: NetCounters;
  /** Reachability and relay figures. */
  readonly reachability: ReachabilityReport;
}

/** The default per-peer replicate throttle. */
export const DEFAULT_REPLICATE_RATE_LIMIT: RateLimit = {
  capacity: 32,
  refillPerSecond: 4,
};

type Services = {
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: ReturnType<ReturnType<typeof ping>>;
  dht: KadDHT;
} & Record<string, unknown>;

/** The parts of kad-dht's implementation we use beyond its interface. */
interface KadRoutingTable {
  readonly size: number;
  closestPeers(kadId: Uint8Array, options?: { count?: number }): PeerId[];
  add(peerId: PeerId, options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * A running (or stopped) tesseras libp2p node. Create it with
 * {@linkcode createTesserasNode}.
 */
export class TesserasNode {
  /** The underlying libp2p node (for the DHT port and tests). */
  readonly libp2p: Libp2p<Services>;
  /** Our peer id string. */
  readonly peerId: string;
  /** Signing identity over the node key (the `NodeIdentity` port). */
  readonly identity: NodeIdentity;
  /** Effective protocol limits. */
  readonly limits: NetLimits;
  /** Message and error counters per protocol. */
  readonly metrics: NetMetrics = new NetMetrics();

  readonly #options: TesserasNodeOptions;
  readonly #nat: NatMonitor;
  #handlers: InboundHandlers | undefined;
  #background = new AbortController();
  #tasks: Promise<void>[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #startedAt = 0;

  /** Use {@linkcode createTesserasNode}. */
  constructor(
    libp2p: Libp2p<Services>,
    options: TesserasNodeOptions,
    parts: { readonly nat?: NatMonitor } = {},
  ) {
    this.libp2p = libp2p;
    this.#options = options;
    this.#nat = parts.nat ?? new NatMonitor(libp2p, {
      reservations: 0,
      dialDiscovered: false,
      relayServer: "off",
    });
    this.#handlers = options.handlers;
    this.peerId = libp2p.peerId.toString();
    this.identity = new Libp2pNodeIdentity(options.privateKey);
    this.limits = netLimits(options.limits);
  }

  /** Set (or replace) the answers to inbound requests. */
  setInboundHandlers(handlers: InboundHandlers): void {
    this.#handlers = handlers;
  }

  /** Whether the node is started. */
  get running(): boolean {
    return this.#running;
  }

  /** Milliseconds since the Unix epoch when it started, 0 when stopped. */
  get startedAt(): number {
    return this.#running ? this.#startedAt : 0;
  }

  /**
   * Start listening, register the protocols, preload known peers and dial
   * the bootstrap peers in the background.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#background = new AbortController();
    await this.#registerProtocols();
    try {
      await this.libp2p.start();
    } catch (cause) {
      throw new TesserasError(
        "UNREACHABLE",
        `cannot start the network node on ${
          (this.#options.listen ?? []).join(", ") || "the default address"
        }: ${
          (cause as Error)?.message ?? cause
        }; check that the address is free and valid`,
        { cause },
      );
    }
    await this.#answerPings();
    this.#running = true;
    this.#startedAt = Date.now();
    if (this.#options.nat !== undefined) this.#nat.start();
    this.#watchPeers();
    this.#spawn(this.#preloadAndBootstrap());
    this.#scheduleBootstrapRetry();
    log.info("node {peerId} listening on {addrs}", {
      peerId: this.peerId,
      addrs: this.multiaddrs(),
    });
  }

  /**
   * Stop the node. Background work is aborted and awaited; afterwards no
   * timer or channel of ours or of libp2p keeps the process alive.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#nat.stop();
    this.#background.abort(new Error("node stopping"));
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await Promise.allSettled(this.#tasks);
    this.#tasks = [];
    await this.libp2p.stop();
    log.info("node {peerId} stopped", { peerId: this.peerId });
  }

  /** Our listen multiaddrs, each ending in `/p2p/<peer id>`. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => withPeerId(a, this.peerId));
  }

  /** Peers with an open connection, with the observed IP of the connection. */
  connectedPeers(): PeerInfo[] {
    const byPeer = new Map<string, Multiaddr[]>();
    for (const conn of this.libp2p.getConnections()) {
      if (conn.status !== "open") continue;
      const id = conn.remotePeer.toString();
      const addrs = byPeer.get(id) ?? [];
      // Outbound connections first: their remote address is dialable.
      if (conn.direction === "outbound") addrs.unshift(conn.remoteAddr);
      else addrs.push(conn.remoteAddr);
      byPeer.set(id, addrs);
    }
    return [...byPeer].map(([id, addrs]) =>
      toPeerInfo(id, addrs, { observed: addrs[0] })
    );
  }

  /** Number of peers in the Kademlia routing table. */
  routingTableSize(): number {
    return this.kadRoutingTable()?.size ?? 0;
  }

  /** Everything `/metrics` needs, in one snapshot (zeros when stopped). */
  stats(): NetStats {
    const running = this.#running;
    return {
      peerId: this.peerId,
      multiaddrs: running ? this.multiaddrs() : [],
      connections: running ? this.libp2p.getConnections().length : 0,
      connectedPeers: running ? this.connectedPeers().length : 0,
      routingTableSize: running ? this.routingTableSize() : 0,
      protocols: this.counters(),
      reachability: this.reachability(),
    };
  }

  /**
   * Whether others can dial us (`public`, `private`, `unknown`), the
   * addresses they can use, and our relay figures.
   */
  reachability(): ReachabilityReport {
    return this.#nat.report();
  }

  /** A snapshot of the per-protocol counters. */
  counters(): NetCounters {
    return this.metrics.snapshot();
  }

  /**
   * Dial a peer by multiaddr (with `/p2p/<id>`) or peer id; resolves when
   * connected. Rejects `UNREACHABLE` or `INVALID_INPUT`.
   */
  async connect(
    target: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    let dialTarget: Multiaddr | PeerId;
    try {
      dialTarget = target.startsWith("/")
        ? multiaddr(target)
        : peerIdFromString(target);
    } catch (cause) {
      throw new TesserasError(
        "INVALID_INPUT",
        `cannot dial ${
          JSON.stringify(target.slice(0, 120))
        }: not a multiaddr or peer id`,
        { cause },
      );
    }
    try {
      await this.libp2p.dial(dialTarget, { signal: options.signal });
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new TesserasError(
        "UNREACHABLE",
        `cannot connect to ${target}: ${(cause as Error)?.message ?? cause}`,
        { cause },
      );
    }
  }

  /** kad-dht's routing table (implementation detail, may be absent). */
  kadRoutingTable(): KadRoutingTable | undefined {
    const table = (this.libp2p.services.dht as unknown as {
      routingTable?: KadRoutingTable;
    }).routingTable;
    return table !== undefined && typeof table.closestPeers === "function"
      ? table
      : undefined;
  }

  async #registerProtocols(): Promise<void> {
    const handlers = () => this.#handlers;
    const limiter = this.#options.replicateRateLimit === false
      ? undefined
      : new PeerRateLimiter(
        this.#options.replicateRateLimit ?? DEFAULT_REPLICATE_RATE_LIMIT,
      );
    const specs: [string, InboundSpec<unknown>][] = [
      [
        REPLICATE_PROTOCOL,
        replicateSpec({
          handlers,
          limits: this.limits.replicate,
          rateLimiter: limiter,
        }) as InboundSpec<unknown>,
      ],
      [
        ATTEST_PROTOCOL,
        attestSpec({ handlers, limits: this.limits.attest }) as InboundSpec<
          unknown
        >,
      ],
      [
        PROVE_PROTOCOL,
        proveSpec({ handlers, limits: this.limits.prove }) as InboundSpec<
          unknown
        >,
      ],
      [
        FETCH_PROTOCOL,
        fetchSpec({ handlers, limits: this.limits.fetch }) as InboundSpec<
          unknown
        >,
      ],
      [
        VERIFIED_FETCH_PROTOCOL,
        verifiedFetchSpec({
          handlers,
          limits: this.limits.fetch,
        }) as InboundSpec<
          unknown
        >,
      ],
    ];
    for (const [protocol, spec] of specs) {
      if (this.libp2p.getProtocols().includes(protocol)) continue;
      await this.libp2p.handle(
        protocol,
        (stream, connection) =>
          serveInbound(stream, connection, spec, this.metrics),
        {
          maxInboundStreams: spec.limits.maxInboundStreams,
          maxOutboundStreams: spec.limits.maxOutboundStreams,
          // Relayed connections carry shards within the relay's limits.
          runOnLimitedConnection: true,
        },
      );
    }
  }

  /**
   * Our own answer to ping in place of `@libp2p/ping`'s (registered by
   * the service as libp2p starts, hence `force`): its handler could close
   * without an echo, and the pinger then waited its whole timeout
   * (protocol/ping.ts).
   */
  async #answerPings(): Promise<void> {
    await this.libp2p.handle(PING_PROTOCOL, (stream) => answerPing(stream), {
      force: true,
      maxInboundStreams: PING_STREAMS,
      maxOutboundStreams: PING_STREAMS,
      runOnLimitedConnection: true,
    });
  }

  #watchPeers(): void {
    const callback = this.#options.onPeerSeen;
    if (callback === undefined) return;
    const fire = (peerId: string, addr: Multiaddr, info: PeerSeenInfo) => {
      try {
        const result = callback(peerId, addr.toString(), info);
        if (result instanceof Promise) {
          result.catch((err) => logCallbackError(err));
        }
      } catch (err) {
        logCallbackError(err);
      }
    };
    const signal = this.#background.signal;
    this.libp2p.addEventListener("connection:open", (evt) => {
      const conn = evt.detail;
      fire(conn.remotePeer.toString(), conn.remoteAddr, {
        source: conn.direction,
      });
    }, { signal });
    this.libp2p.addEventListener("peer:identify", (evt) => {
      const result: IdentifyResult = evt.detail;
      const id = result.peerId.toString();
      for (const addr of result.listenAddrs) {
        fire(id, addr, { source: "identify" });
      }
    }, { signal });
  }

  #spawn(task: Promise<void>): void {
    const tracked = task.catch((err) => {
      if (!this.#background.signal.aborted) {
        log.warn("background network task failed: {error}", {
          error: String(err),
        });
      }
    });
    this.#tasks.push(tracked);
    tracked.finally(() => {
      this.#tasks = this.#tasks.filter((t) => t !== tracked);
    });
  }

  /**
   * Put peers into the peer store and the routing table, as a restarted
   * node does with the peers it remembers (at most `limit` into the table).
   * kad-dht pings each new contact before adding it, so this dials them.
   * Resolves with how many were offered to the table.
   *
   * @example
   * ```ts
   * declare const node: TesserasNode;
   * declare const other: TesserasNode;
   * await node.addKnownPeers([{ id: other.peerId, addresses: other.multiaddrs() }]);
   * ```
   */
  async addKnownPeers(
    peers: readonly KnownPeer[],
    options: { signal?: AbortSignal; limit?: number } = {},
  ): Promise<number> {
    const signal = options.signal;
    const table = this.kadRoutingTable();
    const max = options.limit ?? Infinity;
    let offered = 0;
    for (const peer of peers) {
      if (signal?.aborted) break;
      if (peer.id === this.peerId) continue;
      let id: PeerId;
      let addrs: Multiaddr[];
      try {
        id = peerIdFromString(peer.id);
        addrs = peer.addresses.map((a) => stripPeerId(multiaddr(a)));
      } catch {
        log.warn("skipping malformed known peer {peer}", { peer: peer.id });
        continue;
      }
      await this.libp2p.peerStore.merge(id, {
        multiaddrs: addrs,
        protocols: [KAD_PROTOCOL],
      }, { signal });
      if (table !== undefined && offered < max) {
        await table.add(id, { signal }).catch(() => {});
        offered++;
      }
    }
    return offered;
  }

  async #preloadAndBootstrap(): Promise<void> {
    const signal = this.#background.signal;
    const known = this.#options.knownPeers ?? [];
    await this.addKnownPeers(known, {
      signal,
      limit: this.#options.maxPreloadedPeers ?? 200,
    });
    if (signal.aborted) return;
    if (known.length > 0) {
      log.info("preloaded {count} known peers ({table} in the routing table)", {
        count: known.length,
        table: this.routingTableSize(),
      });
    }
    await this.#dialBootstrap(signal);
  }

  async #dialBootstrap(signal: AbortSignal): Promise<void> {
    const own = new Set(this.multiaddrs());
    const targets = (this.#options.bootstrap ?? []).filter((a) =>
      !own.has(a) && !a.endsWith(`/p2p/${this.peerId}`)
    );
    await Promise.all(targets.map(async (addr) => {
      try {
        await this.libp2p.dial(multiaddr(addr), { signal });
        log.info("connected to bootstrap peer {addr}", { addr });
      } catch (err) {
        if (!signal.aborted) {
          log.warn("cannot reach bootstrap peer {addr}: {error}", {
            addr,
            error: String((err as Error)?.message ?? err),
          });
        }
      }
    }));
  }

  #scheduleBootstrapRetry(): void {
    if ((this.#options.bootstrap ?? []).length === 0) return;
    const every = this.#options.bootstrapRetryMs ?? 30_000;
    const tick = () => {
      if (!this.#running) return;
      if (this.libp2p.getConnections().length === 0) {
        this.#spawn(this.#dialBootstrap(this.#background.signal));
      }
      this.#retryTimer = unrefTimeout(tick, every);
    };
    this.#retryTimer = unrefTimeout(tick, every);
  }
}

function unrefTimeout(
  fn: () => void,
  ms: number,
): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms);
  Deno.unrefTimer(timer as unknown as number);
  return timer;
}

/**
 * When every listen address is one IPv4 loopback address other than
 * 127.0.0.1 (several nodes on one machine, each on its own 127.0.N.1),
 * dial from it too, so peers observe distinct addresses and subnets. Such a
 * node can only reach loopback peers anyway.
 */
function loopbackBindAddress(listen: readonly string[]): string | undefined {
  const ips = new Set<string>();
  for (const addr of listen) {
    const match = /^\/ip4\/(127\.\d+\.\d+\.\d+)\/tcp\//.exec(addr);
    if (match === null) return undefined;
    ips.add(match[1]);
  }
  const [ip] = ips;
  return ips.size === 1 && ip !== "127.0.0.1" ? ip : undefined;
}

/**
 * Listening on 0.0.0.0 or :: makes libp2p enumerate the network
 * interfaces; without the permission it fails later with an unhandled
 * rejection that kills the process, so refuse clearly up front.
 */
function assertWildcardPermission(listen: readonly string[]): void {
  const wildcard = listen.some((a) =>
    a.startsWith("/ip4/0.0.0.0/") || a.startsWith("/ip6/::/")
  );
  if (!wildcard || typeof Deno === "undefined") return;
  const state = Deno.permissions.querySync({
    name: "sys",
    kind: "networkInterfaces",
  }).state;
  if (state !== "granted") {
    throw new TesserasError(
      "UNAUTHORIZED",
      "listening on all interfaces needs --allow-sys=networkInterfaces; grant it or listen on a specific address",
    );
  }
}

function logCallbackError(err: unknown): void {
  log.warn("onPeerSeen callback failed: {error}", { error: String(err) });
}

function withPeerId(addr: Multiaddr, peerId: string): string {
  const text = addr.toString();
  return text.endsWith(`/p2p/${peerId}`) ? text : `${text}/p2p/${peerId}`;
}

function stripPeerId(addr: Multiaddr): Multiaddr {
  const components = addr.getComponents();
  const last = components[components.length - 1];
  return last?.name === "p2p" ? addr.decapsulateCode(last.code) : addr;
}

/**
 * Build (but do not start) a tesseras libp2p node.
 *
 * @example
 * ```ts
 * import type { InboundHandlers } from "../core/mod.ts";
 * import { Libp2pDhtPort } from "./dht_port.ts";
 * import { loadOrCreateIdentity } from "./identity.ts";
 * declare const dataDir: string;
 * declare const peerStore: { upsert(id: string, addr: string): void };
 * declare const replicationService: InboundHandlers;
 * const { privateKey } = await loadOrCreateIdentity(`${dataDir}/identity.key`);
 * const node = await createTesserasNode({
 *   privateKey,
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   bootstrap: ["/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…"],
 *   onPeerSeen: (id, addr) => peerStore.upsert(id, addr),
 * });
 * node.setInboundHandlers(replicationService);
 * await node.start();
 * const dht = new Libp2pDhtPort(node);
 * ```
 */
export async function createTesserasNode(
  options: TesserasNodeOptions,
): Promise<TesserasNode> {
  installDenoExitFixes();
  assertWildcardPermission(options.listen ?? []);
  const useMemory = options.transport === "memory";
  const late: { monitor?: NatMonitor } = {};
  const nat = useMemory || options.nat === undefined
    ? undefined
    : natParts(options.nat, {
      serving: () => late.monitor?.serving() ?? false,
    });
  let libp2p: Libp2p<Services>;
  try {
    libp2p = await createLibp2p({
      start: false,
      // Noise handshakes and identify records sign with it on every connection.
      privateKey: withCachedSigning(options.privateKey),
      logger: libp2pLogger(),
      nodeInfo: {
        name: "tesseras",
        userAgent: options.agentVersion ?? "tesseras",
      },
      ...addressesAndTransports(options, nat),
      connectionEncrypters: [noise()],
      ...connectionSettings(options.connections ?? {}),
      services: {
        ...baseServices(options),
        ...nat?.services as Record<string, never>,
      },
    });
  } catch (cause) {
    throw new TesserasError(
      "INVALID_INPUT",
      `cannot build the network node: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
  }
  applyKadTuning(libp2p.services.dht, options.dht);
  late.monitor = natMonitor(libp2p, options.nat, nat);
  return new TesserasNode(libp2p, options, { nat: late.monitor });
}

/** Where the node listens and announces, over which transports. */
function addressesAndTransports(
  options: TesserasNodeOptions,
  nat: NatParts | undefined,
) {
  const useMemory = options.transport === "memory";
  const listen = options.listen ??
    (useMemory ? [`/memory/${crypto.randomUUID()}`] : ["/ip4/127.0.0.1/tcp/0"]);
  const localAddress = options.dialLocalAddress ?? loopbackBindAddress(listen);
  const tcpDialOpts = localAddress === undefined
    ? undefined
    // Node's net.connect option, passed through by @libp2p/tcp.
    : { localAddress } as Record<string, unknown>;
  return {
    addresses: {
      listen: [...listen],
      announce: options.announce === undefined
        ? undefined
        : [...options.announce],
    },
    transports: [
      useMemory ? memory() : tcp({ dialOpts: tcpDialOpts }),
      ...(nat?.transports ?? []) as [],
    ],
    connectionGater: nat?.connectionGater,
  };
}

/** Stream multiplexing, keep-alive and the connection manager's limits. */
function connectionSettings(
  conn: NonNullable<TesserasNodeOptions["connections"]>,
) {
  const streamsPerConnection = conn.maxStreamsPerConnection ?? 256;
  const keepAlive = conn.keepAlive ?? true;
  return {
    streamMuxers: [yamux({
      maxInboundStreams: streamsPerConnection,
      maxOutboundStreams: streamsPerConnection,
      enableKeepAlive: keepAlive,
    })],
    connectionMonitor: { enabled: keepAlive },
    connectionManager: {
      maxConnections: conn.maxConnections ?? 300,
      inboundConnectionThreshold: conn.inboundConnectionThreshold ?? 5,
      maxIncomingPendingConnections: conn.maxIncomingPendingConnections ??
        16,
      dialTimeout: conn.dialTimeoutMs ?? 10_000,
    },
  };
}

/** identify, ping and the DHT (the NAT services come beside them). */
function baseServices(options: TesserasNodeOptions) {
  const mapper = options.peerInfoMapper === "passthrough"
    ? passthroughMapper
    : removePrivateAddressesMapper;
  return {
    identify: identify({ maxInboundStreams: 8, maxOutboundStreams: 8 }),
    ping: ping({
      maxInboundStreams: PING_STREAMS,
      maxOutboundStreams: PING_STREAMS,
    }),
    dht: kadDHT({
      protocol: KAD_PROTOCOL,
      clientMode: false,
      peerInfoMapper: mapper,
      maxInboundStreams: 32,
      maxOutboundStreams: 64,
      ...kadTuningInit(options.dht),
      ...(options.records ? recordKadInit(options.records) : {}),
    }),
  };
}

function natMonitor(
  libp2p: Libp2p<Services>,
  options: NatOptions | undefined,
  parts: NatParts | undefined,
): NatMonitor {
  return new NatMonitor(libp2p, {
    reservations: parts === undefined ? 0 : options?.relayReservations ?? 2,
    dialDiscovered: parts !== undefined && options?.mdns === true,
    relayServer: parts === undefined ? "off" : options?.relayServer ?? "off",
    budget: parts?.budget,
  });
}
