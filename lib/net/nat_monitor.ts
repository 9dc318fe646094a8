/**
 * `NatMonitor`: watches a running node's reachability and acts on it:
 * asks AutoNAT peers to verify a new public candidate (a UPnP mapping
 * appears after the first connections, which is when AutoNAT would
 * otherwise ask), reserves relay slots once the node turns out private,
 * and dials peers that mDNS finds on the LAN.
 *
 * It reads libp2p's address manager and transport manager, which libp2p
 * keeps on `libp2p.components` (not part of its public interface: a
 * libp2p update that moves them makes `report()` say `unknown` and the
 * reservations never start; `tests/net/reachability_test.ts` would fail).
 *
 * @module
 */
import type { Connection, Libp2p, PeerId } from "@libp2p/interface";
import { getLogger } from "@logtape/logtape";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import {
  classifyReachability,
  isHeldRelayAddress,
  isRelayAddress,
  type OwnAddress,
  type Reachability,
  usableAddresses,
} from "./reachability.ts";
import type { RelayServerMode } from "./nat.ts";
import type { RelayBudget } from "./relay_policy.ts";

const log = getLogger(["tesseras", "net", "nat"]);

const RELAY_HOP = "/libp2p/circuit/relay/0.2.0/hop";

/** Longest wait for a relay's answer to a reservation request, ms. */
const RESERVATION_WAIT_MS = 30_000;

/** Direct connections a private node keeps open (it cannot be dialled). */
const PRIVATE_MIN_PEERS = 8;

/** The relay's peer id in a relay address (`…/p2p/<relay>/p2p-circuit…`). */
function relayOf(addr: string): string {
  const m = /\/p2p\/([^/]+)\/p2p-circuit/.exec(addr);
  return m === null ? "" : m[1];
}

/** The AutoNAT protocol id under our prefix. */
export const AUTONAT_PROTOCOL = "/tesseras/autonat/2/dial-request";

/** What `id`, `/health` and `/metrics` show about reachability. */
export interface ReachabilityReport {
  /** `public`, `private` or `unknown`. */
  readonly reachability: Reachability;
  /** Addresses others can dial (verified public ones and relay ones). */
  readonly addresses: readonly string[];
  /** Our relay addresses (reservations we hold on relays). */
  readonly relayAddresses: readonly string[];
  /** Public addresses a UPnP router mapped for us. */
  readonly upnpAddresses: readonly string[];
  /** Whether we serve as a relay now. */
  readonly relayServing: boolean;
  /** Reservations others hold on us. */
  readonly relayReservations: number;
  /** Relayed connections we admitted / refused (fairness budget). */
  readonly relayedAdmitted: number;
  /** Relayed connections we refused for budget. */
  readonly relayedRefused: number;
  /** Open connections that go through a relay. */
  readonly relayedConnections: number;
}

/** Options of {@linkcode NatMonitor}. */
export interface NatMonitorOptions {
  /** Relay slots to reserve once private (0: none). */
  readonly reservations: number;
  /** Dial peers found by mDNS. */
  readonly dialDiscovered: boolean;
  /** The relay server's mode (`auto`: serve while public). */
  readonly relayServer: RelayServerMode;
  /** The relay budget, when we serve. */
  readonly budget?: RelayBudget;
  /** How often to re-check, ms (default 5 s). */
  readonly intervalMs?: number;
}

interface AddressManagerLike {
  getAddressesWithMetadata(): OwnAddress[];
  confirmObservedAddr(addr: Multiaddr, options: { type: "transport" }): void;
}
interface TransportManagerLike {
  listen(addrs: Multiaddr[]): Promise<void>;
}
interface AutoNatLike {
  client?: {
    verifyExternalAddresses(connection: Connection): Promise<void>;
  };
}
interface RelayServerLike {
  reservations?: { size: number };
}
interface UpnpLike {
  mapIpAddresses?(): Promise<void>;
}

/** See the module documentation. */
export class NatMonitor {
  readonly #libp2p: Libp2p;
  readonly #options: NatMonitorOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = new Set<string>();
  #scanning = false;
  #dialing = false;
  #mapping = false;
  #announced = "";
  #refused = new Map<string, number>();
  #last: Reachability = "unknown";
  #signal: AbortController | undefined;

  /** @param libp2p a started node; @param options what to do */
  constructor(libp2p: Libp2p, options: NatMonitorOptions) {
    this.#libp2p = libp2p;
    this.#options = options;
  }

  /** The reachability now (also what `auto` relay serving reads). */
  reachability(): Reachability {
    const records = this.#records();
    return records === undefined
      ? "unknown"
      : classifyReachability(records, Date.now());
  }

  /** Whether the relay server grants reservations and circuits now. */
  serving(): boolean {
    const mode = this.#options.relayServer;
    return mode === "on" ||
      (mode === "auto" && this.reachability() === "public");
  }

  /** Begin watching (idempotent). */
  start(): void {
    if (this.#signal !== undefined) return;
    this.#signal = new AbortController();
    const signal = this.#signal.signal;
    this.#libp2p.addEventListener("self:peer:update", () => this.#check(), {
      signal,
    });
    // A relay that refused a slot while it was not yet serving (AutoNAT had
    // not judged it public) tells us when its addresses change: ask again
    // then rather than after the refusal's minute.
    this.#libp2p.addEventListener("peer:identify", (evt) => {
      if (this.#refused.delete(evt.detail.peerId.toString())) this.#check();
    }, { signal });
    const mdns = this.#service<EventTarget>("mdns");
    if (this.#options.dialDiscovered && mdns !== undefined) {
      // mDNS's own event: libp2p's `peer:discovery` also fires for every
      // peer the DHT or identify names, which are not LAN peers.
      mdns.addEventListener("peer", (evt) => {
        const info = (evt as CustomEvent<
          { id: PeerId; multiaddrs: Multiaddr[] }
        >).detail;
        this.#dialDiscovered(info.id, info.multiaddrs);
      }, { signal });
    }
    const schedule = (ms: number) => {
      const timer = setTimeout(tick, ms);
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    };
    const tick = () => {
      this.#check();
      schedule(this.#options.intervalMs ?? 5_000);
    };
    schedule(500);
  }

  /** Stop watching. */
  stop(): void {
    this.#signal?.abort();
    this.#signal = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A snapshot for `id`, `/health` and `/metrics`. */
  report(): ReachabilityReport {
    const records = this.#records() ?? [];
    const relay = this.#service<RelayServerLike>("relay");
    const counts = this.#options.budget?.counts ?? { admitted: 0, refused: 0 };
    const withId = (a: Multiaddr) => withPeerId(a, this.#libp2p.peerId);
    return {
      reachability: this.reachability(),
      addresses: usableAddresses(records).map(withId),
      relayAddresses: [
        ...new Set(
          records.filter(isHeldRelayAddress).map((a) => withId(a.multiaddr)),
        ),
      ],
      upnpAddresses: records.filter((a) => a.type === "ip-mapping")
        .map((a) => withId(a.multiaddr)),
      relayServing: relay !== undefined && this.serving(),
      relayReservations: relay?.reservations?.size ?? 0,
      relayedAdmitted: counts.admitted,
      relayedRefused: counts.refused,
      relayedConnections:
        this.#libp2p.getConnections().filter((c) =>
          isRelayAddress(c.remoteAddr)
        ).length,
    };
  }

  #check(): void {
    const now = this.reachability();
    if (now !== this.#last) {
      log.info("reachability {from} -> {to}", { from: this.#last, to: now });
      this.#last = now;
    }
    if (now === "unknown") this.#askAutoNat();
    this.#keepRelayAddressesVerified();
    this.#announceRelays();
    if (now === "private") this.#dialOut();
    if (now === "private") this.#mapPorts();
    if (now === "private" && !this.#scanning) {
      this.#scanning = true;
      this.#reserveRelays().catch(() => {}).finally(() => {
        this.#scanning = false;
      });
    }
  }

  /**
   * Map our port on a UPnP router now. upnp-nat maps after a 5 s debounce
   * that every change of our addresses restarts, and a starting node's
   * addresses change often (connections, relay slots): 15 s went by before
   * the first mapping in the namespace test. Once per check while we
   * have no mapping; does nothing before it has found a gateway.
   */
  #mapPorts(): void {
    const upnp = this.#service<UpnpLike>("upnp");
    if (typeof upnp?.mapIpAddresses !== "function" || this.#mapping) return;
    if ((this.#records() ?? []).some((a) => a.type === "ip-mapping")) return;
    this.#mapping = true;
    upnp.mapIpAddresses().catch(() => {}).finally(() => {
      this.#mapping = false;
    });
  }

  /** Ask up to 3 connected AutoNAT peers to dial our new candidates. */
  #askAutoNat(): void {
    const autonat = this.#service<AutoNatLike>("autoNAT")?.client;
    if (typeof autonat?.verifyExternalAddresses !== "function") return;
    const peers = new Set<string>();
    for (const conn of this.#libp2p.getConnections()) {
      if (peers.size >= 3) break;
      const id = conn.remotePeer.toString();
      if (peers.has(id) || conn.limits !== undefined) continue;
      peers.add(id);
      autonat.verifyExternalAddresses(conn).catch(() => {});
    }
  }

  /**
   * Hold `reservations` slots on relays we are directly connected to. Each
   * is a configured reservation (`<relay>/p2p-circuit`), not the relay
   * transport's own search, which walks the DHT without pause until it has
   * found enough relays (a busy loop where fewer relays exist). A relay
   * that refuses is asked again after a minute.
   */
  async #reserveRelays(): Promise<void> {
    const wanted = this.#options.reservations;
    const transports = this.#component<TransportManagerLike>(
      "transportManager",
    );
    if (wanted <= 0 || transports === undefined) return;
    const held = new Set(
      this.report().relayAddresses.map(relayOf).filter((r) => r !== ""),
    );
    const now = Date.now();
    let missing = wanted - held.size - this.#pending.size;
    for (const conn of this.#libp2p.getConnections()) {
      if (missing <= 0) break;
      const relay = conn.remotePeer.toString();
      if (
        held.has(relay) || this.#pending.has(relay) ||
        (this.#refused.get(relay) ?? 0) > now ||
        conn.direction !== "outbound" || conn.limits !== undefined ||
        !(await this.#speaksHop(conn))
      ) continue;
      missing--;
      this.#reserveOn(transports, conn);
    }
  }

  async #speaksHop(conn: Connection): Promise<boolean> {
    try {
      const peer = await this.#libp2p.peerStore.get(conn.remotePeer);
      return peer.protocols.includes(RELAY_HOP);
    } catch {
      return false;
    }
  }

  #reserveOn(transports: TransportManagerLike, conn: Connection): void {
    const relay = conn.remotePeer.toString();
    const base = conn.remoteAddr.toString();
    const addr = base.endsWith(`/p2p/${relay}`) ? base : `${base}/p2p/${relay}`;
    this.#pending.add(relay);
    // A reservation the relay transport drops from its queue never
    // settles (circuit-relay-v2 4.2 clears queued jobs once it has "enough"
    // relays, which for configured ones is always): give up after 30 s so
    // the slot is asked for elsewhere.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("no answer within 30 s")),
        RESERVATION_WAIT_MS,
      );
      Deno.unrefTimer(timer as unknown as number);
    });
    Promise.race([
      transports.listen([multiaddr(`${addr}/p2p-circuit`)]),
      gaveUp,
    ])
      .then(() => log.info("holding a slot on relay {relay}", { relay }))
      .catch((err) => {
        this.#refused.set(relay, Date.now() + 60_000);
        log.debug("relay {relay} gave no slot: {error}", {
          relay,
          error: String(err),
        });
      })
      .finally(() => {
        clearTimeout(timer);
        this.#pending.delete(relay);
      });
  }

  /**
   * A relay slot is dialable while we hold it, whatever AutoNAT made of
   * it (a dial-back through a relay can fail and unverify it, and libp2p
   * announces verified addresses only): confirm the slots we hold again.
   */
  #keepRelayAddressesVerified(): void {
    const manager = this.#component<AddressManagerLike>("addressManager");
    if (typeof manager?.confirmObservedAddr !== "function") return;
    for (const a of this.#records() ?? []) {
      if (isHeldRelayAddress(a) && !a.verified) {
        manager.confirmObservedAddr(a.multiaddr, { type: "transport" });
      }
    }
  }

  /**
   * When our relay addresses change, look up our own id in the DHT: the
   * peers closest to us connect, run identify and learn the new relay
   * addresses, so their DHT answers name us with them (a NATed peer
   * answers no DHT query itself, so nobody would learn them otherwise).
   */
  #announceRelays(): void {
    const relayed = this.report().relayAddresses.join(" ");
    if (relayed === this.#announced || relayed === "") return;
    this.#announced = relayed;
    const key = this.#libp2p.peerId.toMultihash().bytes;
    const signal = AbortSignal.any([
      AbortSignal.timeout(20_000),
      this.#signal?.signal ?? new AbortController().signal,
    ]);
    (async () => {
      let found = 0;
      for await (
        const _ of this.#libp2p.peerRouting.getClosestPeers(key, { signal })
      ) found++;
      log.info("announced relay addresses to {found} peers near us", {
        found,
      });
    })().catch(() => {});
  }

  /**
   * Nobody can dial a private node, so it dials out: it keeps direct
   * connections to at least `PRIVATE_MIN_PEERS` peers from its peer store
   * (the DHT fills it), which then know its relay addresses, serve it as
   * relays and put it in their routing tables.
   */
  #dialOut(): void {
    if (this.#dialing) return;
    const open = this.#libp2p.getConnections().filter((c) =>
      c.limits === undefined
    );
    const missing = PRIVATE_MIN_PEERS -
      new Set(open.map((c) => c.remotePeer.toString())).size;
    if (missing <= 0) return;
    this.#dialing = true;
    (async () => {
      const peers = await this.#libp2p.peerStore.all();
      const targets = peers.filter((p) =>
        !p.id.equals(this.#libp2p.peerId) &&
        this.#libp2p.getConnections(p.id).length === 0 &&
        p.addresses.some((a) => !isRelayAddress(a.multiaddr))
      ).slice(0, missing);
      await Promise.allSettled(
        targets.map((p) =>
          this.#libp2p.dial(p.id, { signal: AbortSignal.timeout(10_000) })
        ),
      );
    })().catch(() => {}).finally(() => {
      this.#dialing = false;
    });
  }

  #dialDiscovered(id: PeerId, addrs: readonly Multiaddr[]): void {
    if (id.equals(this.#libp2p.peerId)) return;
    if (this.#libp2p.getConnections(id).length > 0) return;
    if (addrs.length === 0) return;
    this.#libp2p.dial([...addrs], { signal: AbortSignal.timeout(10_000) })
      .then(() => log.info("connected to LAN peer {id}", { id: id.toString() }))
      .catch(() => {});
  }

  #records(): OwnAddress[] | undefined {
    const manager = this.#component<AddressManagerLike>("addressManager");
    if (typeof manager?.getAddressesWithMetadata !== "function") {
      return undefined;
    }
    return manager.getAddressesWithMetadata();
  }

  #component<T>(name: string): T | undefined {
    const components = (this.#libp2p as unknown as {
      components?: Record<string, unknown>;
    }).components;
    return components?.[name] as T | undefined;
  }

  #service<T>(name: string): T | undefined {
    return (this.#libp2p.services as Record<string, unknown>)[name] as
      | T
      | undefined;
  }
}

function withPeerId(addr: Multiaddr, peerId: PeerId): string {
  const text = addr.toString();
  const suffix = `/p2p/${peerId.toString()}`;
  return text.endsWith(suffix) ? text : `${text}${suffix}`;
}
