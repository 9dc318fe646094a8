/**
 * The simulated network: one {@linkcode DhtPort} per node over a shared
 * in-memory fabric. Closest-peer lookups run an iterative Kademlia over
 * each node's own k-buckets (only online peers the asker can reach are
 * returned); messages go to the target's {@linkcode InboundHandlers} after
 * a virtual-time latency, may be lost, and fail `UNREACHABLE` when the
 * target is offline. Every node has an IPv4 address so /24 and /16
 * diversity mean something.
 *
 * @module
 */
import {
  type Attestation,
  type AttestRequest,
  type Clock,
  type DhtPort,
  type FragmentEnvelope,
  type InboundHandlers,
  type IoOptions,
  ManifestDecoder,
  type NodeIdentity,
  type PeerId,
  type PeerInfo,
  type ProofAnswer,
  type ReplicateAck,
  type ShardRef,
  type TesseraId,
  TesserasError,
  toHex,
} from "../lib/core/mod.ts";
import { SimKeyring } from "./identity.ts";
import { Kademlia, key64 } from "./kademlia.ts";
import { ProviderRecords } from "./provider_records.ts";
import type { SimRng } from "./rng.ts";

/** Kinds of traffic counted by the network. */
export type MessageKind = "replicate" | "attest" | "fetch" | "ping" | "lookup";

/** Messages and payload bytes of one kind. */
export interface TrafficCount {
  /** Requests sent (including failed ones). */
  messages: number;
  /** Requests that failed (offline, lost, refused by a thrown error). */
  failed: number;
  /** Payload bytes carried (fragment bytes for replicate and fetch). */
  bytes: number;
}

/** One delivered message, as shown to a traffic observer. */
export interface MessageEvent {
  /** What kind. */
  readonly kind: MessageKind;
  /** Sender's node index. */
  readonly from: number;
  /** Target's node index. */
  readonly to: number;
  /** Payload bytes. */
  readonly bytes: number;
  /** The tessera concerned, when there is one. */
  readonly tesseraId?: TesseraId;
  /** Whether the exchange succeeded (for replicate: the ack accepted it). */
  readonly ok: boolean;
}

/** Options of {@linkcode SimNetwork}. */
export interface SimNetworkOptions {
  /**
   * The clock latencies and timeouts run on (the run's virtual clock; a
   * test's manual clock does when latency is 0).
   */
  readonly clock: Clock;
  /** Randomness for ids, latencies, loss and bucket sampling. */
  readonly rng: SimRng;
  /**
   * One-way latency in virtual ms: a number, or `[min, max]` drawn
   * uniformly per message (default 0: delivery without a clock event,
   * the fast path for year-long runs).
   */
  readonly latencyMs?: number | readonly [number, number];
  /** Probability that a request is lost (default 0). */
  readonly lossRate?: number;
  /** Virtual ms a lost request takes to time out (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * `kademlia` (default): iterative lookups over each node's k-buckets;
   * `exact`: the true closest online peers (an oracle, for comparison).
   */
  readonly lookup?: "kademlia" | "exact";
  /** Bucket size k (default 20). */
  readonly k?: number;
  /** Expected peak number of nodes (sizes the routing tables). */
  readonly expectedNodes?: number;
  /** Copy payload bytes on delivery, as a real wire would (default false). */
  readonly copyPayloads?: boolean;
  /** Seed of the identity keyring (default the rng's seed). */
  readonly keyringSeed?: string;
  /**
   * Issues the nodes' identities (default a {@linkcode SimKeyring}, cheap
   * and only for the simulator; tests of signatures pass a real one).
   */
  readonly keyring?: { identity(peer: PeerId): NodeIdentity };
  /**
   * Whether provider records are refreshed while their announcer is up,
   * as kad-dht's reprovider refreshes the daemon's (default true); false:
   * they expire unless announced again.
   */
  readonly refreshProviders?: boolean;
}

/** What {@linkcode SimNetwork.addNode} needs. */
export interface AddNodeOptions {
  /** IPv4 address of the node (none: it counts as its own subnet). */
  readonly ip?: string;
  /** Its 64-bit key as 16 hex characters (default random). */
  readonly keyHex?: string;
  /** Its peer id (default `sim` and the key). */
  readonly peerId?: PeerId;
}

interface NodeSlot {
  readonly peerId: PeerId;
  readonly info: PeerInfo;
  online: boolean;
  /** When it last went offline (its provider records expire from then). */
  downSince: number;
  departed: boolean;
  handlers: InboundHandlers | null;
  port: DhtPort | null;
  /** What requests to it reject with while it is offline, built once. */
  unreachable: TesserasError | null;
}

/** One request for {@linkcode SimNetwork.deliver}. */
export interface Delivery<T, P = undefined> {
  /** What kind (counted in {@linkcode SimNetwork.traffic}). */
  readonly kind: MessageKind;
  /** Payload bytes of the request. */
  readonly bytes: number;
  /** The tessera concerned, when there is one. */
  readonly tesseraId?: TesseraId;
  /** Handed back to `call`. */
  readonly payload: P;
  /** The target's handling of the request. */
  readonly call: (
    handlers: InboundHandlers,
    sender: PeerInfo,
    payload: P,
    options: IoOptions,
  ) => Promise<T>;
  /** Payload bytes of the answer (default 0). */
  readonly answerBytes?: (answer: T) => number;
  /** Whether the answer counts as a success (default yes). */
  readonly ok?: (answer: T) => boolean;
}

/**
 * The rejection of a request to an offline peer. Building an `Error`
 * costs this runtime a microsecond or two whatever its stack depth, and
 * long runs send hundreds of thousands of requests to absent peers, so a
 * slot builds its error once and throws it again (callers read a caught
 * error, never change it). Without a stack: a kept error's captured
 * frames would pin the closures, and through them the whole health check,
 * of the first request that failed (measured: 130 MiB more peak memory
 * in a 30-day run).
 */
function offlineError(peer: PeerId | number): TesserasError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TesserasError(
      "UNREACHABLE",
      `peer ${peer} is offline: try another holder`,
    );
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The shared fabric.
 *
 * @example
 * ```ts
 * import type { InboundHandlers } from "../lib/core/mod.ts";
 * import { SimRng, VirtualClock } from "./mod.ts";
 * declare const handlers: InboundHandlers;
 * declare const id: string;
 * const clock = new VirtualClock();
 * const net = new SimNetwork({ clock, rng: new SimRng(1) });
 * const a = net.addNode({ ip: "10.0.0.1" });
 * const b = net.addNode({ ip: "10.0.1.1" });
 * net.attach(b, handlers);
 * net.fillRoutingTables();
 * await net.dht(a).findClosestPeers(id, 1); // [b's PeerInfo]
 * ```
 */
export class SimNetwork {
  readonly clock: Clock;
  readonly kademlia: Kademlia;
  /** Counters per message kind. */
  readonly traffic: Record<MessageKind, TrafficCount> = {
    replicate: { messages: 0, failed: 0, bytes: 0 },
    attest: { messages: 0, failed: 0, bytes: 0 },
    fetch: { messages: 0, failed: 0, bytes: 0 },
    ping: { messages: 0, failed: 0, bytes: 0 },
    lookup: { messages: 0, failed: 0, bytes: 0 },
  };
  /** Called for every request after it settles. */
  onMessage: ((event: MessageEvent) => void) | null = null;
  readonly #rng: SimRng;
  readonly #latency: readonly [number, number];
  readonly #loss: number;
  readonly #timeout: number;
  readonly #exact: boolean;
  readonly #copy: boolean;
  readonly #keyring: { identity(peer: PeerId): NodeIdentity };
  readonly #nodes: NodeSlot[] = [];
  readonly #byPeer = new Map<PeerId, number>();
  /**
   * Who announced holding what (provider records), refreshed while the
   * announcer is up, as kad-dht's reprovider does.
   */
  readonly providers: ProviderRecords;
  /** Whether `providers` are refreshed (see the option). */
  readonly refreshesProviders: boolean;
  /**
   * One manifest decoder for every node: the payloads are shared, not
   * copied (`copyPayloads` false), so every holder keeps the buffer the
   * owner signed, decoded once here instead of once per holder and check.
   */
  readonly manifestDecoder: ManifestDecoder = new ManifestDecoder();

  /** @param options see {@linkcode SimNetworkOptions} */
  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.#rng = options.rng;
    const lat = options.latencyMs ?? 0;
    this.#latency = typeof lat === "number" ? [lat, lat] : [lat[0], lat[1]];
    this.#loss = options.lossRate ?? 0;
    this.#timeout = options.timeoutMs ?? 30_000;
    this.#exact = options.lookup === "exact";
    this.#copy = options.copyPayloads ?? false;
    this.refreshesProviders = options.refreshProviders ?? true;
    this.providers = new ProviderRecords(undefined, {
      ...(this.refreshesProviders
        ? {
          upUntil: (i: number, now: number) => {
            const n = this.#nodes[i];
            return n === undefined ? -Infinity : n.online ? now : n.downSince;
          },
        }
        : {}),
    });
    this.#keyring = options.keyring ?? new SimKeyring(
      options.keyringSeed ?? `sim-keyring/${options.rng.seed}`,
    );
    this.kademlia = new Kademlia({
      k: options.k,
      expectedNodes: options.expectedNodes,
      rng: options.rng.fork("kademlia"),
      isOnline: (i) => this.isOnline(i),
    });
  }

  /** Nodes ever added (departed ones included; indices are never reused). */
  get size(): number {
    return this.#nodes.length;
  }

  /**
   * Add a node (online, key in the DHT, empty routing table until
   * {@linkcode SimNetwork.join} or {@linkcode SimNetwork.fillRoutingTables}).
   * Returns its index.
   */
  addNode(options: AddNodeOptions): number {
    const index = this.#nodes.length;
    const keyHex = options.keyHex ?? toHex(this.#rng.bytes(8));
    const peerId = options.peerId ?? `sim${keyHex}`;
    const ip = options.ip;
    const info: PeerInfo = Object.freeze(
      ip === undefined
        ? { id: peerId, addresses: Object.freeze([]) }
        : { id: peerId, addresses: Object.freeze([`/ip4/${ip}/tcp/4001`]), ip },
    );
    this.#nodes.push({
      peerId,
      info,
      online: true,
      downSince: -Infinity,
      departed: false,
      handlers: null,
      port: null,
      unreachable: null,
    });
    this.#byPeer.set(peerId, index);
    const k = key64(keyHex);
    this.kademlia.add(index, k.hi, k.lo);
    return index;
  }

  /** Fill every present node's routing table (after the initial population). */
  fillRoutingTables(): void {
    for (let i = 0; i < this.#nodes.length; i++) {
      if (!this.#nodes[i].departed) this.kademlia.fill(i);
    }
  }

  /**
   * A node (new or returning) joins: refresh its buckets and announce
   * itself with a lookup of its own key, so its neighbours learn it.
   */
  join(index: number): void {
    this.kademlia.fill(index);
    this.kademlia.lookup(index, this.kademlia.keyOf(index), this.kademlia.k);
  }

  /** Route inbound messages of node `index` to `handlers`. */
  attach(index: number, handlers: InboundHandlers): void {
    this.#nodes[index].handlers = handlers;
  }

  /** Bring a node up or down (its data stays; see {@linkcode SimNetwork.depart}). */
  setOnline(index: number, online: boolean): void {
    const n = this.#nodes[index];
    if (n.departed) return;
    if (n.online && !online) n.downSince = this.clock.now();
    n.online = online;
  }

  /** A node leaves for good: offline, out of the key space. */
  depart(index: number): void {
    const n = this.#nodes[index];
    if (n.departed) return;
    if (n.online) n.downSince = this.clock.now();
    n.online = false;
    n.departed = true;
    n.handlers = null;
    this.kademlia.remove(index);
  }

  /** Whether node `index` answers now. */
  isOnline(index: number): boolean {
    return this.#nodes[index]?.online === true;
  }

  /** Whether node `index` has left for good. */
  isDeparted(index: number): boolean {
    return this.#nodes[index]?.departed === true;
  }

  /** Node index of a peer id, or `undefined`. */
  indexOf(peer: PeerId): number | undefined {
    return this.#byPeer.get(peer);
  }

  /** Peer id of node `index`. */
  peerId(index: number): PeerId {
    return this.#nodes[index].peerId;
  }

  /** The {@linkcode PeerInfo} of node `index`. */
  peerInfo(index: number): PeerInfo {
    return this.#nodes[index].info;
  }

  /** IPv4 address of node `index` (the simulator gives every node one). */
  ip(index: number): string {
    return this.#nodes[index].info.ip!;
  }

  /** A signing identity for node `index`, verifiable by every other node. */
  identity(index: number): NodeIdentity {
    return this.#keyring.identity(this.#nodes[index].peerId);
  }

  /** The {@linkcode DhtPort} node `index` uses. */
  dht(index: number): DhtPort {
    const slot = this.#nodes[index];
    if (!slot.port) slot.port = new SimDhtPort(this, index);
    return slot.port;
  }

  /** Closest online peers to `key` as node `asker` finds them. */
  async findClosest(
    asker: number,
    key: TesseraId,
    count: number,
    options: IoOptions = {},
  ): Promise<PeerInfo[]> {
    options.signal?.throwIfAborted();
    this.#requireOnline(asker);
    const k = key64(key);
    const t = this.traffic.lookup;
    t.messages++;
    let found: number[];
    if (this.#exact) {
      found = this.kademlia.trueClosest(
        k,
        count,
        (i) => i !== asker && this.isOnline(i),
      );
    } else {
      const before = this.kademlia.stats.queries;
      found = this.kademlia.lookup(asker, k, count);
      const rounds = Math.ceil(
        (this.kademlia.stats.queries - before) / this.kademlia.alpha,
      );
      const lat = this.#drawLatency();
      if (lat > 0 && rounds > 0) {
        await this.clock.sleep(2 * lat * rounds, options);
      }
    }
    return found.map((i) => this.#nodes[i].info);
  }

  /**
   * Deliver one request from `from` to `to` and its answer back, in
   * virtual time, failing as a real network would. `request.call` gets
   * `request.payload` passed back, so callers need no closure per message.
   */
  async deliver<T, P = undefined>(
    from: number,
    to: number,
    request: Delivery<T, P>,
    options: IoOptions = {},
  ): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    this.#requireOnline(from);
    this.traffic[request.kind].messages++;
    const lat = this.#drawLatency();
    const target = this.#nodes[to];
    if (!target || !target.online || !target.handlers) {
      if (lat > 0) await this.clock.sleep(2 * lat, { signal });
      this.#report(request, from, to, false, 0);
      throw target
        ? (target.unreachable ??= offlineError(target.peerId))
        : offlineError(to);
    }
    if (this.#loss > 0 && this.#rng.chance(this.#loss)) {
      if (lat > 0) await this.clock.sleep(this.#timeout, { signal });
      this.#report(request, from, to, false, 0);
      throw new TesserasError(
        "TIMEOUT",
        `request to ${target.peerId} timed out (message lost)`,
      );
    }
    if (lat > 0) await this.clock.sleep(lat, { signal });
    let answer: T;
    try {
      answer = await request.call(
        target.handlers,
        this.#nodes[from].info,
        request.payload,
        options,
      );
    } catch (e) {
      this.#report(request, from, to, false, request.bytes);
      throw e;
    }
    if (lat > 0) await this.clock.sleep(lat, { signal });
    if (!target.online) {
      this.#report(request, from, to, false, request.bytes);
      throw new TesserasError(
        "TIMEOUT",
        `peer ${target.peerId} went offline before answering`,
      );
    }
    const extra = request.answerBytes ? request.answerBytes(answer) : 0;
    this.#report(
      request,
      from,
      to,
      request.ok ? request.ok(answer) : true,
      request.bytes + extra,
    );
    return answer;
  }

  #report<T, P>(
    request: Delivery<T, P>,
    from: number,
    to: number,
    ok: boolean,
    bytes: number,
  ): void {
    const t = this.traffic[request.kind];
    if (!ok) t.failed++;
    t.bytes += bytes;
    this.onMessage?.({
      kind: request.kind,
      from,
      to,
      bytes,
      tesseraId: request.tesseraId,
      ok,
    });
  }

  /** Copy payload bytes when configured to (a real wire copies). */
  payload(bytes: Uint8Array): Uint8Array {
    return this.#copy ? bytes.slice() : bytes;
  }

  #requireOnline(index: number): void {
    if (!this.isOnline(index)) {
      throw new TesserasError(
        "UNREACHABLE",
        `this node (${this.#nodes[index]?.peerId ?? index}) is offline`,
      );
    }
  }

  #drawLatency(): number {
    const a = this.#latency[0], b = this.#latency[1];
    if (b <= 0) return 0;
    return a === b ? a : a + this.#rng.next() * (b - a);
  }
}

/** A node's view of the {@linkcode SimNetwork}. */
class SimDhtPort implements DhtPort {
  readonly selfId: PeerId;
  readonly #net: SimNetwork;
  readonly #self: number;

  constructor(net: SimNetwork, self: number) {
    this.#net = net;
    this.#self = self;
    this.selfId = net.peerId(self);
  }

  findClosestPeers(
    key: TesseraId,
    count: number,
    options?: IoOptions,
  ): Promise<PeerInfo[]> {
    return this.#net.findClosest(this.#self, key, count, options);
  }

  // Async, with its own await: concurrent pushes interleave with the
  // others' ledger updates at the same points as before (fewer ticks
  // here changed which pushes a peer refused in the free-riders-drop run).
  async replicate(
    peer: PeerId,
    envelope: FragmentEnvelope,
    options: IoOptions = {},
  ): Promise<ReplicateAck> {
    const net = this.#net;
    return await net.deliver(this.#self, this.#target(peer), {
      kind: "replicate",
      bytes: envelope.data.length,
      tesseraId: envelope.fragment.tesseraId,
      payload: { ...envelope, data: net.payload(envelope.data) },
      call: callReplicate,
      ok: ackAccepted,
    }, options);
  }

  requestAttestation(
    peer: PeerId,
    request: AttestRequest,
    options: IoOptions = {},
  ): Promise<Attestation> {
    return this.#challenge(peer, request, { call: callAttest }, options);
  }

  /**
   * Chunk proofs (docs/proofs.md), the daemon's audit: the same holder
   * code (`onProve`) and the same requester code judge them; counted as
   * `attest` traffic with the proof bytes the answer carries.
   */
  requestProof(
    peer: PeerId,
    request: AttestRequest,
    options: IoOptions = {},
  ): Promise<ProofAnswer> {
    return this.#challenge(peer, request, {
      call: callProve,
      answerBytes: proofBytes,
    }, options);
  }

  /** One challenge, counted as `attest` traffic. */
  #challenge<T>(
    peer: PeerId,
    request: AttestRequest,
    how: Pick<Delivery<T, AttestRequest>, "call" | "answerBytes">,
    options: IoOptions,
  ): Promise<T> {
    // Not async: one promise less per challenge, the most common message.
    const to = this.#net.indexOf(peer);
    if (to === undefined) return Promise.reject(unknownPeer(peer));
    return this.#net.deliver(this.#self, to, {
      kind: "attest",
      bytes: 0,
      tesseraId: request.tesseraId,
      payload: request,
      ...how,
    }, options);
  }

  /** Records are refreshed while we are up (see `providers`). */
  get refreshesHolders(): boolean {
    return this.#net.refreshesProviders;
  }

  withdrawHolder(tesseraId: TesseraId): Promise<void> {
    this.#net.providers.withdraw(tesseraId, this.#self);
    return Promise.resolve();
  }

  announceHolder(tesseraId: TesseraId): Promise<void> {
    const net = this.#net;
    net.traffic.lookup.messages++;
    net.providers.announce(tesseraId, {
      node: this.#self,
      now: net.clock.now(),
    });
    return Promise.resolve();
  }

  findHolders(
    tesseraId: TesseraId,
    options: IoOptions & { readonly limit?: number } = {},
  ): Promise<PeerInfo[]> {
    const net = this.#net;
    net.traffic.lookup.messages++;
    const found = net.providers.find(tesseraId, {
      now: net.clock.now(),
      ...(options.limit !== undefined ? { limit: options.limit + 1 } : {}),
    });
    const peers = found.filter((i) => i !== this.#self).map((i) =>
      net.peerInfo(i)
    );
    return Promise.resolve(
      options.limit !== undefined ? peers.slice(0, options.limit) : peers,
    );
  }

  async ping(peer: PeerId, options: IoOptions = {}): Promise<number> {
    const start = this.#net.clock.now();
    await this.#net.deliver(this.#self, this.#target(peer), {
      kind: "ping",
      bytes: 0,
      payload: undefined,
      call: callPing,
    }, options);
    return this.#net.clock.now() - start;
  }

  async fetch(
    peer: PeerId,
    shard: ShardRef,
    options: IoOptions = {},
  ): Promise<Uint8Array> {
    const net = this.#net;
    const bytes = await net.deliver(this.#self, this.#target(peer), {
      kind: "fetch",
      bytes: 0,
      tesseraId: shard.tesseraId,
      payload: shard,
      call: callFetch,
      answerBytes: fetchedBytes,
      ok: fetched,
    }, options);
    if (bytes === null) {
      throw new TesserasError(
        "NOT_FOUND",
        `peer ${peer} does not hold shard ${shard.index} of ${shard.tesseraId}`,
      );
    }
    return net.payload(bytes);
  }

  #target(peer: PeerId): number {
    const index = this.#net.indexOf(peer);
    if (index === undefined) throw unknownPeer(peer);
    return index;
  }
}

function unknownPeer(peer: PeerId): TesserasError {
  return new TesserasError(
    "UNREACHABLE",
    `unknown peer ${peer}: not in the simulated network`,
  );
}

// The handlers each kind of request calls, shared by every message.
const callReplicate = (
  h: InboundHandlers,
  from: PeerInfo,
  sent: FragmentEnvelope,
  options: IoOptions,
) => h.onReplicate(sent, from, options);
const ackAccepted = (ack: ReplicateAck) => ack.accepted;
const callAttest = (
  h: InboundHandlers,
  from: PeerInfo,
  request: AttestRequest,
  options: IoOptions,
) => h.onAttest(request, from, options);
const callProve = (
  h: InboundHandlers,
  from: PeerInfo,
  request: AttestRequest,
  options: IoOptions,
) => {
  if (!h.onProve) {
    return Promise.reject(
      new TesserasError(
        "UNREACHABLE",
        "this node does not answer chunk proofs",
      ),
    );
  }
  return h.onProve(request, from, options);
};
/** Bytes of proof an answer carries: groups and sibling paths. */
const proofBytes = (a: ProofAnswer) => {
  let n = 0;
  for (const s of a.shards) {
    for (const g of s.groups) n += g.bytes.length + g.siblings.length;
  }
  return n;
};
const callPing = () => Promise.resolve(true);
const callFetch = (
  h: InboundHandlers,
  from: PeerInfo,
  shard: ShardRef,
  options: IoOptions,
) => h.onFetch(shard, from, options);
const fetchedBytes = (b: Uint8Array | null) => b?.length ?? 0;
const fetched = (b: Uint8Array | null) => b !== null;
