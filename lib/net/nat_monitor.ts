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
  isRelayAddress,
  type OwnAddress,
  type Reachability,
  usableAddresses,
} from "./reachability.ts";
import type { RelayServerMode } from "./nat.ts";
import type { RelayBudget } from "./relay_policy.ts";

const log = getLogger(["tesseras", "net", "nat"]);

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

/** See the module documentation. */
export class NatMonitor {
  readonly #libp2p: Libp2p;
  readonly #options: NatMonitorOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reserving = false;
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
      relayAddresses: records.filter((a) => isRelayAddress(a.multiaddr))
        .map((a) => withId(a.multiaddr)),
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
    if (now === "private") this.#reserveRelays();
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

  #reserveRelays(): void {
    const count = this.#options.reservations;
    if (count <= 0 || this.#reserving) return;
    const transports = this.#component<TransportManagerLike>(
      "transportManager",
    );
    if (transports === undefined) return;
    this.#reserving = true;
    const addrs = Array.from(
      { length: count },
      () => multiaddr("/p2p-circuit"),
    );
    log.info("private: reserving {count} relay slots", { count });
    transports.listen(addrs).catch((err) => {
      this.#reserving = false;
      log.warn("cannot listen on relays: {error}", { error: String(err) });
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
