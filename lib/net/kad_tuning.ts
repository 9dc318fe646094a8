/**
 * Kademlia tuning of a tesseras node: kad-dht's options plus three
 * switches kad-dht has no option for, made by replacing a method on the
 * service instance (kad-dht 16 internals; when the shape differs, the
 * switch does nothing and kad-dht keeps its default behaviour).
 *
 * The defaults are kad-dht's, which suit the internet; the simulator's
 * full-stack level (many nodes in one process over the memory transport)
 * turns the background work and the redundant per-answer work off.
 *
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import type { KadDHT, KadDHTInit } from "@libp2p/kad-dht";

/**
 * Kademlia tuning. Every field defaults to kad-dht's own default, which
 * suits the internet; an in-process network (the simulator's full-stack
 * level) wants fewer parallel requests and no background lookups.
 */
export interface DhtTuningOptions {
  /** Peers queried in parallel on each lookup path (kad-dht: 10). */
  readonly alpha?: number;
  /** Disjoint paths of one lookup (kad-dht: `alpha`). */
  readonly disjointPaths?: number;
  /**
   * Whether kad-dht runs its own background lookups (default true): a
   * lookup of our own id 1 s after start and every 5 minutes, and the
   * routing-table refresh at start and every 5 minutes. With `false` the
   * table fills only from connections, lookups and
   * `TesserasNode.addKnownPeers`, and lookups no longer wait
   * for the first self-lookup.
   */
  readonly backgroundLookups?: boolean;
  /**
   * Shortest time a DHT request or the ping before adding a peer to the
   * routing table may take before it counts as failed, ms (kad-dht adapts
   * between this and 60 s from observed round trips; default 5 s).
   */
  readonly minRequestTimeoutMs?: number;
  /**
   * Whether kad-dht pings a newly learned peer before adding it to the
   * routing table (default true). `false` adds it at once: for an
   * in-process network, where every lookup answer would otherwise open a
   * connection to each of the up to 20 peers it names, and a dead peer's
   * dial fails at once anyway.
   */
  readonly verifyNewContacts?: boolean;
  /**
   * Whether a peer that a lookup answer names again while it is already in
   * the routing table is processed again (default true): kad-dht queues a
   * routing-table update (a no-op for a present peer) and libp2p merges
   * its addresses into the peer store, for each of the up to 20 peers of
   * every answer. `false` skips both for present peers, which is exact
   * only while peers keep their addresses, as in one process.
   */
  readonly reprocessKnownPeers?: boolean;
  /**
   * Whether kad-dht's lookups and answers read a peer's id and addresses
   * from the peer store each time (default true). Every answer to a
   * lookup names up to 20 peers, each read under the peer store's lock
   * and decoded from its record: about a third of a walk's CPU time in one
   * process (measured at 20 nodes: 0.26 vs 0.16 s per provider
   * announcement, 0.17 vs 0.11 s per `findClosestPeers`). `false` keeps
   * the first read of each peer, which is exact only while peers keep
   * their addresses, as in one process.
   */
  readonly rereadPeerInfo?: boolean;
}

/**
 * kad-dht's init options for `tuning` (empty when nothing is set).
 *
 * @example
 * ```ts
 * import { kadDHT } from "@libp2p/kad-dht";
 * const protocol = "/tesseras/kad/1.0.0";
 * kadDHT({ protocol, ...kadTuningInit({ alpha: 3, backgroundLookups: false }) });
 * ```
 */
export function kadTuningInit(
  tuning: DhtTuningOptions = {},
): Partial<KadDHTInit> {
  const adaptive = tuning.minRequestTimeoutMs === undefined
    ? undefined
    : { minTimeout: tuning.minRequestTimeoutMs };
  return {
    alpha: tuning.alpha,
    disjointPaths: tuning.disjointPaths,
    networkDialTimeout: adaptive,
    pingNewContactTimeout: adaptive,
    pingOldContactTimeout: adaptive,
    ...(tuning.backgroundLookups ?? true ? {} : {
      // Longest valid timer delay: the self-lookup never runs, and
      // queries do not wait for it.
      initialQuerySelfInterval: MAX_TIMER_MS,
      querySelfInterval: MAX_TIMER_MS,
      allowQueryWithZeroPeers: true,
    }),
  };
}

/**
 * Apply the switches of `tuning` that kad-dht has no option for to a
 * built (not yet started) kad-dht service.
 *
 * @example
 * ```ts
 * import type { TesserasNode } from "./node.ts";
 * declare const node: TesserasNode;
 * applyKadTuning(node.libp2p.services.dht, { verifyNewContacts: false });
 * ```
 */
export function applyKadTuning(
  dht: KadDHT,
  tuning: DhtTuningOptions = {},
): void {
  if (tuning.backgroundLookups === false) disableTableRefresh(dht);
  if (tuning.verifyNewContacts === false) trustNewContacts(dht);
  if (tuning.reprocessKnownPeers === false) skipKnownPeers(dht);
  if (tuning.rereadPeerInfo === false) keepPeerInfo(dht);
}

/** Longest delay `setTimeout` honours (larger ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * kad-dht has no option to skip the ping of a new contact; replace the
 * check its k-bucket calls (kad-dht 16 internals; if absent, it pings).
 */
function trustNewContacts(dht: KadDHT): void {
  const kb = (dht as unknown as {
    routingTable?: { kb?: { verify?: unknown } };
  }).routingTable?.kb;
  if (kb !== undefined && typeof kb.verify === "function") {
    kb.verify = () => Promise.resolve(true);
  }
}

/** The kad-dht 16 internals {@linkcode skipKnownPeers} relies on. */
interface KadInternals {
  network?: {
    safeDispatchEvent?: (type: string, init?: { detail?: unknown }) => boolean;
  };
  routingTable?: {
    addEventListener?: (
      type: string,
      listener: (evt: CustomEvent<PeerId>) => void,
    ) => void;
  };
}

/**
 * Drop kad-dht's "peer learned" events for peers already in the routing
 * table (its network object emits one per peer of every lookup answer).
 * The set follows the table's own add/remove events. If the internals are
 * not as expected, nothing changes.
 */
function skipKnownPeers(dht: KadDHT): void {
  const { network, routingTable } = dht as unknown as KadInternals;
  const dispatch = network?.safeDispatchEvent;
  if (
    network === undefined || typeof dispatch !== "function" ||
    typeof routingTable?.addEventListener !== "function"
  ) return;
  const present = new Set<string>();
  routingTable.addEventListener(
    "peer:add",
    (evt) => present.add(evt.detail.toString()),
  );
  routingTable.addEventListener(
    "peer:remove",
    (evt) => present.delete(evt.detail.toString()),
  );
  network.safeDispatchEvent = (type, init) => {
    const peer = (init?.detail as { id?: PeerId } | undefined)?.id;
    if (type === "peer" && peer !== undefined && present.has(peer.toString())) {
      return true;
    }
    return dispatch.call(network, type, init);
  };
}

/** The kad-dht 16 internals {@linkcode keepPeerInfo} relies on. */
interface PeerRoutingInternals {
  peerRouting?: {
    components?: { peerStore?: { getInfo?: unknown } };
  };
}

/**
 * Give kad-dht's peer routing (its lookups and the answers it sends) a
 * view of the peer store whose `getInfo` remembers each peer's first
 * answer; every other call goes to the peer store itself. If the
 * internals are not as expected, nothing changes.
 */
function keepPeerInfo(dht: KadDHT): void {
  const routing = (dht as unknown as PeerRoutingInternals).peerRouting;
  const components = routing?.components;
  const store = components?.peerStore as
    | (Record<string | symbol, unknown> & {
      getInfo: (id: PeerId, options?: unknown) => Promise<unknown>;
    })
    | undefined;
  if (!routing || !components || typeof store?.getInfo !== "function") return;
  const known = new Map<string, Promise<unknown>>();
  const getInfo = (id: PeerId, options?: unknown): Promise<unknown> => {
    const key = id.toString();
    let info = known.get(key);
    if (info === undefined) {
      info = store.getInfo(id, options);
      known.set(key, info);
      // A failed read (not found yet) or a peer without addresses yet is
      // not remembered.
      info.then(
        (i) => {
          const addrs = (i as { multiaddrs?: unknown[] }).multiaddrs;
          if (!addrs || addrs.length === 0) known.delete(key);
        },
        () => known.delete(key),
      );
    }
    return info;
  };
  const view = new Proxy(store, {
    get(target, prop) {
      if (prop === "getInfo") return getInfo;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  routing.components = new Proxy(components, {
    get(target, prop) {
      return prop === "peerStore" ? view : Reflect.get(target, prop, target);
    },
  });
}

/**
 * kad-dht has no option for its routing-table refresh (a lookup per
 * common-prefix length at start, then every 5 minutes); neutralise its
 * start hook on this instance. Implementation detail of kad-dht 16: if the
 * shape changes, the refresh simply keeps running.
 */
function disableTableRefresh(dht: KadDHT): void {
  const refresh = (dht as unknown as {
    routingTableRefresh?: { afterStart?: () => Promise<void> };
  }).routingTableRefresh;
  if (refresh !== undefined && typeof refresh.afterStart === "function") {
    refresh.afterStart = () => Promise.resolve();
  }
}
