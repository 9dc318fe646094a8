/**
 * What placement was offered: for each tessera, the peers the DHT
 * returned when its shards were placed or repaired, and which of them
 * refused every shard pushed to them. The subnet check judges a
 * placement by the subnets it could have used (these peers' /24s), not by
 * every /24 of the network: the full stack's owner sees only the DHT's
 * closest peers, and a peer that refused had no room.
 *
 * A decorator at the port boundary (`DhtPort`): the service under test
 * runs unchanged, the log only watches its calls.
 *
 * @module
 */
import type {
  DhtPort,
  FragmentEnvelope,
  IoOptions,
  PeerId,
  PeerInfo,
  ReplicateAck,
  TesseraId,
} from "../lib/core/mod.ts";
import { subnetOf } from "../lib/replication/mod.ts";

/** One tessera's offers. */
interface Offer {
  /** Peers the DHT returned for its id, with the IP it gave. */
  readonly offered: Map<PeerId, string | undefined>;
  /** Peers that stored at least one of its shards. */
  readonly took: Set<PeerId>;
  /** Peers that refused a shard of it (or could not be reached). */
  readonly refused: Set<PeerId>;
}

/**
 * The offers every node's placement met, keyed by tessera.
 *
 * @example
 * ```ts
 * import type { DhtPort } from "../lib/core/mod.ts";
 * declare const dht: DhtPort;
 * declare const tesseraId: string;
 * const log = new OfferLog();
 * const watched = log.wrap(dht); // give this to the ReplicationService
 * log.roomFor(tesseraId, { isLive: () => true }); // distinct /24s it could use
 * ```
 */
export class OfferLog {
  readonly #offers = new Map<TesseraId, Offer>();

  /**
   * `dht` with its lookups and pushes recorded here. Each call returns
   * the inner promise itself (the record is a side reaction), so the
   * order in which callers resume is the inner port's: a wrapper that
   * awaited would shift the port level's event order.
   */
  wrap(dht: DhtPort): DhtPort {
    const find = (key: TesseraId, count: number, o?: IoOptions) => {
      const peers = dht.findClosestPeers(key, count, o);
      peers.then((found) => this.#offered(key, found), () => {});
      return peers;
    };
    const replicate = (
      peer: PeerId,
      envelope: FragmentEnvelope,
      o?: IoOptions,
    ): Promise<ReplicateAck> => {
      // A placement looks its tessera up before it pushes; a push of a
      // tessera never looked up (a reciprocity probe, probe.ts) is not a
      // placement and has nothing to judge: not recorded.
      const offer = this.#offers.get(envelope.fragment.tesseraId);
      const ack = dht.replicate(peer, envelope, o);
      ack.then(
        (a) => offer && (a.accepted ? offer.took : offer.refused).add(peer),
        () => offer?.refused.add(peer),
      );
      return ack;
    };
    return {
      get selfId() {
        return dht.selfId;
      },
      findClosestPeers: find,
      replicate,
      requestAttestation: dht.requestAttestation.bind(dht),
      ping: dht.ping.bind(dht),
      fetch: dht.fetch.bind(dht),
      ...(dht.requestProof ? { requestProof: dht.requestProof.bind(dht) } : {}),
      ...(dht.announceHolder
        ? { announceHolder: dht.announceHolder.bind(dht) }
        : {}),
      ...(dht.findHolders ? { findHolders: dht.findHolders.bind(dht) } : {}),
      ...(dht.withdrawHolder
        ? { withdrawHolder: dht.withdrawHolder.bind(dht) }
        : {}),
      get refreshesHolders() {
        return dht.refreshesHolders;
      },
    };
  }

  /**
   * Distinct subnets (IPv4 /24, IPv6 /48) among the peers offered for
   * `tesseraId` that are live now and had room: they stored a shard of
   * it, or were never refused. `ipOf` gives a peer's true address (the
   * DHT's when it returns `undefined`).
   */
  roomFor(
    tesseraId: TesseraId,
    options: {
      readonly isLive: (peer: PeerId) => boolean;
      readonly ipOf?: (peer: PeerId) => string | undefined;
    },
  ): number {
    const offer = this.#offers.get(tesseraId);
    if (!offer) return 0;
    const subnets = new Set<string>();
    for (const [peer, ip] of offer.offered) {
      if (!options.isLive(peer)) continue;
      if (offer.refused.has(peer) && !offer.took.has(peer)) continue;
      subnets.add(subnetOf({ id: peer, ip: options.ipOf?.(peer) ?? ip }));
    }
    return subnets.size;
  }

  #offered(key: TesseraId, peers: readonly PeerInfo[]): void {
    const offer = this.#offer(key);
    for (const p of peers) offer.offered.set(p.id, p.ip);
  }

  #offer(id: TesseraId): Offer {
    let offer = this.#offers.get(id);
    if (!offer) {
      offer = { offered: new Map(), took: new Set(), refused: new Set() };
      this.#offers.set(id, offer);
    }
    return offer;
  }
}
