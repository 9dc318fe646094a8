/**
 * `Libp2pDhtPort`: the core's `DhtPort` over a running `TesserasNode`:
 * Kademlia lookups for placement, and our three wire protocols plus ping
 * for everything else.
 *
 * @module
 */
import {
  assertTesseraId,
  type Attestation,
  type AttestRequest,
  type DhtPort,
  type FetchOptions,
  type FragmentEnvelope,
  fromHex,
  type IoOptions,
  MAX_HOLDER_RECORDS,
  type PeerInfo,
  type ProofAnswer,
  type ReplicateAck,
  type ShardRef,
  TesserasError,
} from "../core/mod.ts";
import type { PeerId } from "@libp2p/interface";
import { getLogger } from "@logtape/logtape";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import type { TesserasNode } from "./node.ts";
import { toPeerInfo } from "./peer_info.ts";
import { isDialableFrom, isRelayAddress } from "./reachability.ts";
import { sendAttest } from "./protocol/attest.ts";
import { sendProve } from "./protocol/prove.ts";
import { parsePeerId } from "./protocol/exchange.ts";
import { sendFetch } from "./protocol/fetch.ts";
import { sendVerifiedFetch } from "./protocol/verified_fetch.ts";
import { sendReplicate } from "./protocol/replicate.ts";

const log = getLogger(["tesseras", "net"]);

/** Options of {@linkcode Libp2pDhtPort}. */
export interface Libp2pDhtPortOptions {
  /**
   * Longest a Kademlia lookup may take before the routing table answers
   * instead, ms (default 15 s).
   */
  readonly lookupTimeoutMs?: number;
  /** Default ping timeout, ms (default 10 s). */
  readonly pingTimeoutMs?: number;
  /**
   * The IP of a peer whose addresses carry none (the memory transport of
   * the simulator's full-stack mode assigns each node a virtual IP here).
   */
  readonly ipOf?: (peer: string) => string | undefined;
}

/**
 * The `DhtPort` of a real node.
 *
 * @example
 * ```ts
 * import type { FragmentEnvelope } from "../core/mod.ts";
 * import type { TesserasNode } from "./node.ts";
 * declare const node: TesserasNode;
 * declare const tesseraId: string;
 * declare const envelope: FragmentEnvelope;
 * const dht = new Libp2pDhtPort(node);
 * const peers = await dht.findClosestPeers(tesseraId, 7);
 * const ack = await dht.replicate(peers[0].id, envelope);
 * ```
 */
export class Libp2pDhtPort implements DhtPort {
  /** `replicate` reads an envelope's `parts` as it sends them. */
  readonly sendsShardParts = true;
  readonly #node: TesserasNode;
  readonly #lookupTimeoutMs: number;
  readonly #pingTimeoutMs: number;
  readonly #ipOf: ((peer: string) => string | undefined) | undefined;

  /**
   * @param node a started (or about to be started) node
   * @param options lookup and ping timeouts
   */
  constructor(node: TesserasNode, options: Libp2pDhtPortOptions = {}) {
    this.#node = node;
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? 15_000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    this.#ipOf = options.ipOf;
  }

  /** Our own peer id. */
  get selfId(): string {
    return this.#node.peerId;
  }

  /**
   * Up to `count` peers closest to `key` in Kademlia's metric (XOR over
   * SHA-256 of the key bytes and of each peer id), self excluded: a DHT
   * lookup merged with our routing table and connected peers, so a small
   * network or a slow lookup still yields candidates. Each peer carries
   * its observed IP (an open connection's remote address, else the first
   * IP among its known addresses).
   */
  async findClosestPeers(
    key: string,
    count: number,
    options: IoOptions = {},
  ): Promise<PeerInfo[]> {
    assertTesseraId(key);
    if (!Number.isSafeInteger(count) || count <= 0) return [];
    this.#assertRunning();
    const keyBytes = fromHex(key);
    const target = await sha256(keyBytes);
    const candidates = new Map<string, PeerId>();
    await this.#lookupInto(candidates, {
      key,
      keyBytes,
      signal: options.signal,
    });
    this.#localInto(candidates, { target, count });
    candidates.delete(this.selfId);
    const ranked = await byDistance([...candidates.values()], target);
    return await this.#reachable(ranked, count);
  }

  /**
   * The DHT lookup's peers into `candidates` (when the routing table has
   * any peer to ask); a lookup that times out or fails keeps what it found.
   */
  async #lookupInto(
    candidates: Map<string, PeerId>,
    lookup: {
      readonly key: string;
      readonly keyBytes: Uint8Array;
      readonly signal?: AbortSignal;
    },
  ): Promise<void> {
    const { key, keyBytes, signal } = lookup;
    if ((this.#node.kadRoutingTable()?.size ?? 0) === 0) return;
    try {
      for await (
        const event of this.#node.libp2p.services.dht.getClosestPeers(
          keyBytes,
          { signal: this.#lookupSignal(signal) },
        )
      ) {
        if (event.name === "FINAL_PEER") {
          candidates.set(event.peer.id.toString(), event.peer.id);
        } else if (event.name === "PEER_RESPONSE") {
          // Peers behind a NAT answer no DHT query (kad-dht does not run
          // over relayed connections), so they are never FINAL_PEERs;
          // the peers that know them name them, with relay addresses.
          await this.#rememberCloser(event.closer, candidates);
        }
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      log.debug("DHT lookup for {key} ended early: {error}", {
        key,
        error: String((err as Error)?.message ?? err),
      });
    }
  }

  /**
   * Our routing table's closest peers and every connected peer into
   * `candidates`, so a small network or a slow lookup still yields some.
   */
  #localInto(
    candidates: Map<string, PeerId>,
    near: { readonly target: Uint8Array; readonly count: number },
  ): void {
    const table = this.#node.kadRoutingTable();
    if (table !== undefined) {
      const count = Math.max(near.count, 20);
      for (const id of table.closestPeers(near.target, { count })) {
        candidates.set(id.toString(), id);
      }
    }
    for (const conn of this.#node.libp2p.getConnections()) {
      candidates.set(conn.remotePeer.toString(), conn.remotePeer);
    }
  }

  async #rememberCloser(
    closer: readonly { id: PeerId; multiaddrs: Multiaddr[] }[],
    candidates: Map<string, PeerId>,
  ): Promise<void> {
    for (const peer of closer) {
      if (!peer.multiaddrs.some(isRelayAddress)) continue;
      candidates.set(peer.id.toString(), peer.id);
      await this.#node.libp2p.peerStore.merge(peer.id, {
        multiaddrs: peer.multiaddrs,
      }).catch(() => {});
    }
  }

  /**
   * The first `count` of `ids` that we can reach: connected now, or with
   * an address we can dial (public, relay, or on our own LAN). A peer that
   * advertises only another LAN's private addresses is no holder: nobody
   * could audit it or fetch from it (docs/nat.md).
   */
  async #reachable(ids: readonly PeerId[], count: number): Promise<PeerInfo[]> {
    const own = this.#node.libp2p.getMultiaddrs();
    const out: PeerInfo[] = [];
    for (let at = 0; at < ids.length && out.length < count; at += count) {
      const batch = ids.slice(at, at + count);
      const infos = await Promise.all(batch.map((id) => this.#peerInfo(id)));
      for (const [i, info] of infos.entries()) {
        if (out.length >= count) break;
        const connected = this.#node.libp2p.getConnections(batch[i])
          .some((c) => c.status === "open");
        const addrs = info.addresses.map((a) => multiaddr(a));
        if (connected || isDialableFrom(addrs, own)) out.push(info);
      }
    }
    return out;
  }

  /**
   * kad-dht keeps our announcements alive itself: its reprovider
   * re-provides every record of ours within 24 h of its 48 h expiry,
   * from the provider store kept in memory (so the repair sweep announces
   * everything again after a restart).
   */
  readonly refreshesHolders = true;

  /**
   * A fetch with a checksum is `/tesseras/fetch/2.0.0`'s, which returns
   * a shard only once every group of it matched the checksum: hashing it
   * again cost the getter a second BLAKE3 pass over every shard.
   */
  readonly verifiesFetch = true;

  /**
   * Announce that we hold shards of `tesseraId`: a kad-dht provider
   * record under {@linkcode holderCid} on the closest peers to it.
   * kad-dht keeps it in its own provider store first, then walks, and
   * re-provides it before it expires (records live 48 h, refreshed 24 h
   * before). A walk that fails is logged, not thrown: the reprovider
   * walks again from the stored record.
   */
  async announceHolder(
    tesseraId: string,
    options: IoOptions = {},
  ): Promise<void> {
    assertTesseraId(tesseraId);
    this.#assertRunning();
    const signal = this.#lookupSignal(options.signal);
    try {
      for await (
        const _ of this.#node.libp2p.services.dht.provide(
          await holderCid(tesseraId),
          { signal },
        )
      ) { /* drain the query's events */ }
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      log.debug("announcing holder of {key} ended early: {error}", {
        key: tesseraId,
        error: String((err as Error)?.message ?? err),
      });
    }
  }

  /**
   * Stop re-providing our record of `tesseraId` (kad-dht
   * cancelReprovide): we no longer hold it, and the records on other
   * peers expire within 48 h.
   */
  async withdrawHolder(
    tesseraId: string,
    options: IoOptions = {},
  ): Promise<void> {
    assertTesseraId(tesseraId);
    this.#assertRunning();
    options.signal?.throwIfAborted();
    await this.#node.libp2p.services.dht.cancelReprovide(
      await holderCid(tesseraId),
    );
  }

  /**
   * Peers that announced holding shards of `tesseraId` (kad-dht
   * findProviders), self excluded, at most `limit` (default and cap
   * {@linkcode MAX_HOLDER_RECORDS}): a flood of records stops the walk.
   */
  async findHolders(
    tesseraId: string,
    options: IoOptions & { readonly limit?: number } = {},
  ): Promise<PeerInfo[]> {
    assertTesseraId(tesseraId);
    this.#assertRunning();
    const limit = Math.min(
      options.limit ?? MAX_HOLDER_RECORDS,
      MAX_HOLDER_RECORDS,
    );
    const found = new Map<string, PeerId>();
    const signal = this.#lookupSignal(options.signal);
    try {
      for await (
        const event of this.#node.libp2p.services.dht.findProviders(
          await holderCid(tesseraId),
          { signal },
        )
      ) {
        if (event.name !== "PROVIDER") continue;
        for (const p of event.providers) {
          if (p.id.toString() !== this.selfId) found.set(p.id.toString(), p.id);
        }
        if (found.size >= limit) break;
      }
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      log.debug("finding holders of {key} ended early: {error}", {
        key: tesseraId,
        error: String((err as Error)?.message ?? err),
      });
    }
    return await Promise.all(
      [...found.values()].slice(0, limit).map((id) => this.#peerInfo(id)),
    );
  }

  #lookupSignal(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.#lookupTimeoutMs);
    return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  }

  /** Push one fragment to `peer`; resolves with its ack (see `sendReplicate`). */
  replicate(
    peer: string,
    envelope: FragmentEnvelope,
    options: IoOptions = {},
  ): Promise<ReplicateAck> {
    this.#assertRunning();
    return this.#reaching(
      peer,
      options,
      () =>
        sendReplicate(this.#node.libp2p, peer, envelope, {
          limits: this.#node.limits.replicate,
          metrics: this.#node.metrics,
          signal: options.signal,
        }),
    );
  }

  /** Ask `peer` for a signed, nonce-bound attestation (checked here). */
  requestAttestation(
    peer: string,
    request: AttestRequest,
    options: IoOptions = {},
  ): Promise<Attestation> {
    this.#assertRunning();
    return this.#reaching(
      peer,
      options,
      () =>
        sendAttest(this.#node.libp2p, peer, request, {
          limits: this.#node.limits.attest,
          metrics: this.#node.metrics,
          signal: options.signal,
        }),
    );
  }

  /**
   * Ask `peer` for chunk proofs (docs/proofs.md); the envelope and the
   * signature are checked here, the proofs are the caller's to judge.
   */
  requestProof(
    peer: string,
    request: AttestRequest,
    options: IoOptions = {},
  ): Promise<ProofAnswer> {
    this.#assertRunning();
    return this.#reaching(
      peer,
      options,
      () =>
        sendProve(this.#node.libp2p, peer, request, {
          limits: this.#node.limits.prove,
          metrics: this.#node.metrics,
          signal: options.signal,
        }),
    );
  }

  /** Round-trip time to `peer` in ms; rejects `UNREACHABLE` or `TIMEOUT`. */
  async ping(peer: string, options: IoOptions = {}): Promise<number> {
    this.#assertRunning();
    const metrics = this.#node.metrics;
    metrics.count("ping", "outbound");
    const timeout = AbortSignal.timeout(this.#pingTimeoutMs);
    const signal = options.signal === undefined
      ? timeout
      : AbortSignal.any([options.signal, timeout]);
    try {
      const id = parsePeerId(peer);
      return await this.#node.libp2p.services.ping.ping(id, { signal });
    } catch (err) {
      metrics.count("ping", "outboundErrors");
      if (err instanceof TesserasError) throw err;
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new TesserasError(
          "TIMEOUT",
          `ping to ${peer} got no answer within ${this.#pingTimeoutMs} ms`,
          { cause: err },
        );
      }
      throw new TesserasError(
        "UNREACHABLE",
        `cannot ping ${peer}: ${(err as Error)?.message ?? err}`,
        { cause: err },
      );
    }
  }

  /**
   * One shard's bytes from `peer`; rejects `NOT_FOUND` when it lacks it.
   * With `options.checksum`, over `/tesseras/fetch/2.0.0`: checked group
   * by group as it arrives, refused (`CHECKSUM_MISMATCH`) at the first
   * bad group.
   */
  fetch(
    peer: string,
    shard: ShardRef,
    options: FetchOptions = {},
  ): Promise<Uint8Array> {
    this.#assertRunning();
    const { checksum, size } = options;
    return this.#reaching(
      peer,
      options,
      () =>
        checksum !== undefined
          ? sendVerifiedFetch(this.#node.libp2p, peer, shard, {
            checksum,
            ...(size !== undefined ? { size } : {}),
            limits: this.#node.limits.fetch,
            metrics: this.#node.metrics,
            signal: options.signal,
          })
          : sendFetch(this.#node.libp2p, peer, shard, {
            limits: this.#node.limits.fetch,
            metrics: this.#node.metrics,
            signal: options.signal,
          }),
    );
  }

  /**
   * Run `send`; when it cannot reach a peer we know through relays,
   * ask the DHT for the peer's addresses now and try once more. A peer
   * behind a NAT moves its slots when a relay dies; until an identify
   * push or a lookup brings us the new relay addresses, those we hold
   * all point at the dead relay (docs/nat.md).
   */
  async #reaching<T>(
    peer: string,
    options: IoOptions,
    send: () => Promise<T>,
  ): Promise<T> {
    try {
      return await send();
    } catch (err) {
      const unreachable = err instanceof TesserasError &&
        err.code === "UNREACHABLE";
      if (!unreachable || options.signal?.aborted) throw err;
      if (!(await this.#refreshRelayed(peer, options.signal))) throw err;
      // Once more, also when the lookup brought nothing new: the first try
      // may have met a relayed connection whose relay had just died.
      log.info("trying {peer} again through its relays", { peer });
      return await send();
    }
  }

  /**
   * When we know `peer` by relay addresses, look it up in the DHT (not in
   * our peer store) and merge the addresses the answers name. Whether we
   * know it by relay addresses. (A peer with no address at all libp2p
   * looks up itself.)
   */
  async #refreshRelayed(
    peer: string,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const id = parsePeerId(peer);
    const store = this.#node.libp2p.peerStore;
    const known = await store.get(id).then(
      (p) => p.addresses.map((a) => a.multiaddr),
      () => [] as Multiaddr[],
    );
    // A peer behind a NAT (it has relay addresses); its other addresses,
    // LAN and loopback ones, may look dialable and still fail.
    if (!known.some(isRelayAddress)) return false;
    const knownText = new Set(known.map((a) => a.toString()));
    const fresh = new Map<string, Multiaddr>();
    try {
      for await (
        const event of this.#node.libp2p.services.dht.findPeer(id, {
          signal: this.#lookupSignal(signal),
          useCache: false,
        })
      ) {
        if (event.name !== "FINAL_PEER") continue;
        for (const a of event.peer.multiaddrs) {
          if (!knownText.has(a.toString())) fresh.set(a.toString(), a);
        }
        if (fresh.size > 0) break;
      }
    } catch {
      // Not found, or the lookup timed out: keep what we had.
    }
    if (fresh.size === 0) return true;
    log.info("found new addresses of {peer} in the DHT: {fresh}", {
      peer,
      fresh: [...fresh.keys()],
    });
    await store.merge(id, { multiaddrs: [...fresh.values()] });
    return true;
  }

  async #peerInfo(id: PeerId): Promise<PeerInfo> {
    let known: Multiaddr[] = [];
    try {
      const peer = await this.#node.libp2p.peerStore.get(id);
      known = peer.addresses.map((a) => a.multiaddr);
    } catch {
      // Not in the peer store: only the connection (if any) tells us more.
    }
    const conns = this.#node.libp2p.getConnections(id).filter((c) =>
      c.status === "open"
    );
    const observed =
      conns.find((c) => c.direction === "outbound")?.remoteAddr ??
        conns[0]?.remoteAddr;
    const info = toPeerInfo(id.toString(), known, { observed });
    if (info.ip !== undefined || this.#ipOf === undefined) return info;
    const ip = this.#ipOf(info.id);
    return ip === undefined ? info : { ...info, ip };
  }

  #assertRunning(): void {
    if (!this.#node.running) {
      throw new TesserasError(
        "NOT_RUNNING",
        "the network node is not running; start it first",
      );
    }
  }
}

/** Multicodec of raw bytes, and multihash code of SHA-256. */
const RAW_CODEC = 0x55;
const SHA256_MULTIHASH = 0x12;
const HOLDER_DOMAIN = new TextEncoder().encode("tesseras/holders/1\n");

/**
 * The CID holders of `tesseraId` announce under: CIDv1, raw codec, over
 * a SHA-256 multihash of the domain-separated id. SHA-256 because
 * kad-dht 16's provider handlers decode the key they receive (the
 * multihash alone) as a CID, which only a sha2-256 multihash survives
 * (measured: a blake3 multihash is refused as "Invalid CID").
 *
 * @example
 * ```ts
 * (await holderCid("ab".repeat(32))).toString(); // "bafkrei…"
 * ```
 */
export async function holderCid(tesseraId: string): Promise<CID> {
  assertTesseraId(tesseraId);
  const input = new Uint8Array(HOLDER_DOMAIN.length + 32);
  input.set(HOLDER_DOMAIN);
  input.set(fromHex(tesseraId), HOLDER_DOMAIN.length);
  return CID.createV1(
    RAW_CODEC,
    createDigest(SHA256_MULTIHASH, await sha256(input)),
  );
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
}

function xorInPlace(a: Uint8Array, b: Uint8Array): void {
  for (let i = 0; i < a.length; i++) a[i] ^= b[i];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}

/** `peers` sorted by Kademlia distance (XOR of SHA-256s) to `target`. */
async function byDistance(
  peers: readonly PeerId[],
  target: Uint8Array,
): Promise<PeerId[]> {
  const ranked = await Promise.all(
    peers.map(async (id) => ({
      id,
      distance: await sha256(id.toMultihash().bytes),
    })),
  );
  for (const r of ranked) xorInPlace(r.distance, target);
  ranked.sort((a, b) => compareBytes(a.distance, b.distance));
  return ranked.map((r) => r.id);
}
