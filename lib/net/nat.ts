/**
 * The NAT traversal parts of a node: AutoNAT, UPnP, the circuit relay v2
 * transport and server, DCUtR and mDNS, as libp2p services, plus the fair
 * relay gate.
 *
 * @module
 */
import { autoNATv2 } from "@libp2p/autonat-v2";
import {
  circuitRelayServer,
  circuitRelayTransport,
} from "@libp2p/circuit-relay-v2";
import { dcutr } from "@libp2p/dcutr";
import { identifyPush } from "@libp2p/identify";
import type { ConnectionGater, PeerId } from "@libp2p/interface";
// @ts-types="./mdns_types.d.ts"
import { mdns } from "@libp2p/mdns";
import { uPnPNAT } from "@libp2p/upnp-nat";
import {
  RelayBudget,
  type RelayCredit,
  type RelayLimits,
  relayLimits,
} from "./relay_policy.ts";

/**
 * `on` serves always, `off` never, `auto` while AutoNAT says we are
 * public (a relay behind a NAT helps nobody).
 */
export type RelayServerMode = "auto" | "on" | "off";

/** NAT traversal settings of a node (each off unless set). */
export interface NatOptions {
  /** Run AutoNAT (client and server). Default true when `nat` is given. */
  readonly autonat?: boolean;
  /** Map the listen port on a UPnP IGD router (default false). */
  readonly upnp?: boolean;
  /** Find peers on the LAN by multicast DNS and dial them (default false). */
  readonly mdns?: boolean;
  /** Serve circuit relay v2 (default `off`). */
  readonly relayServer?: RelayServerMode;
  /** The relay server's limits (see `DEFAULT_RELAY_LIMITS`). */
  readonly relayLimits?: Partial<RelayLimits>;
  /** Reciprocity credit a relay grants a peer, in bytes. */
  readonly relayCredit?: RelayCredit;
  /** Relay slots to reserve while private (default 2; 0: none). */
  readonly relayReservations?: number;
  /** Upgrade relayed connections with DCUtR (default true). */
  readonly dcutr?: boolean;
  /** How long AutoNAT waits for a dial-back, ms (default 10 s). */
  readonly autonatTimeoutMs?: number;
}

/** What `createTesserasNode` adds to the libp2p configuration. */
export interface NatParts {
  /** Extra transports (the relay transport). */
  readonly transports: unknown[];
  /** Extra services by name. */
  readonly services: Record<string, unknown>;
  /** The connection gater enforcing the relay's fairness. */
  readonly connectionGater: ConnectionGater;
  /** The relay budget (to report its counts). */
  readonly budget: RelayBudget | undefined;
  /** The effective relay limits. */
  readonly limits: RelayLimits;
}

/**
 * The libp2p pieces for `options`. `serving()` says whether the relay
 * server should grant reservations now (for `auto`: whether we are
 * public); it is read on every reservation request.
 *
 * @example
 * ```ts
 * const parts = natParts({ relayServer: "on" }, { serving: () => true });
 * Object.keys(parts.services); // ["autoNAT", "relay", "dcutr"]
 * ```
 */
export function natParts(
  options: NatOptions,
  context: { readonly serving: () => boolean },
): NatParts {
  const limits = relayLimits(options.relayLimits);
  const mode = options.relayServer ?? "off";
  const budget = mode === "off"
    ? undefined
    : new RelayBudget(limits, { credit: options.relayCredit });
  // Our addresses change after start (AutoNAT verifies one, UPnP maps one,
  // a relay grants a slot): identify push tells connected peers, whose DHT
  // answers then carry them. Without it peers keep the addresses of our
  // first handshake (loopback and LAN only, for a home node).
  const services: Record<string, unknown> = {
    identifyPush: identifyPush({ maxInboundStreams: 8, maxOutboundStreams: 8 }),
  };
  if (options.autonat !== false) {
    // v2: the server dials back on a fresh connection (v1 in js-libp2p
    // reuses the requester's own connection and so fails every TCP check
    // unless the server had dialled the requester).
    services.autoNAT = autoNATv2({
      protocolPrefix: "tesseras",
      timeout: options.autonatTimeoutMs ?? 10_000,
    });
  }
  if (options.upnp === true) {
    services.upnp = uPnPNAT({ portMappingDescription: "tesseras" });
  }
  if (budget !== undefined) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: limits.maxReservations,
        reservationTtl: limits.reservationTtlMs,
        defaultDataLimit: BigInt(limits.dataLimitBytes),
        defaultDurationLimit: limits.durationLimitMs,
      },
    });
  }
  if (options.dcutr !== false) services.dcutr = dcutr();
  if (options.mdns === true) {
    services.mdns = mdns({ serviceTag: "_tesseras._udp.local" });
  }
  return {
    transports: [
      circuitRelayTransport({
        reservationCompletionTimeout: 10_000,
        // Every reservation runs at once: the transport drops a queued one
        // without settling it once it counts "enough" relays, which for
        // configured reservations is always (circuit-relay-v2 4.2), so a
        // second slot asked for while the first was pending never came.
        reservationConcurrency: 8,
      }),
    ],
    services,
    connectionGater: relayGate(budget, context.serving),
    budget,
    limits,
  };
}

function relayGate(
  budget: RelayBudget | undefined,
  serving: () => boolean,
): ConnectionGater {
  return {
    denyInboundRelayReservation: () => budget === undefined || !serving(),
    denyOutboundRelayedConnection: async (source: PeerId, dest: PeerId) =>
      budget === undefined || !serving() ||
      !(await budget.admit(source.toString(), dest.toString())),
  };
}
