/**
 * The daemon's NAT settings (UPnP, mDNS, relay serving and reservations)
 * and how reachability shows in `/health`, `/v1/id` and `/metrics` (the
 * `start` options are in `cli/nat_options.ts`).
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import type {
  NatOptions,
  ReachabilityReport,
  RelayCredit,
  RelayLimits,
  RelayServerMode,
} from "../net/mod.ts";

/** NAT traversal settings of a daemon. */
export interface NatConfig {
  /** Map the listen port on a UPnP router (default true). */
  readonly upnp: boolean;
  /** Find LAN peers by mDNS (default true). */
  readonly mdns: boolean;
  /** Serve circuit relay v2: `auto` (while public, the default), `on`, `off`. */
  readonly relay: RelayServerMode;
  /** Relay slots to hold while private (default 2). */
  readonly relayReservations: number;
  /** Relay server limits beyond the defaults (docs/nat.md). */
  readonly relayLimits: Partial<RelayLimits>;
}

/** The defaults. */
export const DEFAULT_NAT_CONFIG: NatConfig = {
  upnp: true,
  mdns: true,
  relay: "auto",
  relayReservations: 2,
  relayLimits: {},
};

/** `start` flags of the NAT settings; absent means "not given". */
export interface NatFlags {
  /** `--no-upnp` */
  readonly upnp?: boolean;
  /** `--no-mdns` */
  readonly mdns?: boolean;
  /** `--relay` */
  readonly relay?: RelayServerMode;
  /** `--relay-reservations` */
  readonly relayReservations?: number;
  /** `--relay-max-reservations`, `--relay-data-limit`, `--relay-budget` */
  readonly relayLimits?: Partial<RelayLimits>;
}

/** The relay server modes. */
export const RELAY_MODES: readonly RelayServerMode[] = ["auto", "on", "off"];

function relayMode(name: string, value: string | undefined) {
  if (value === undefined) return undefined;
  if (!RELAY_MODES.includes(value as RelayServerMode)) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${name}=${value}: expected auto, on or off`,
    );
  }
  return value as RelayServerMode;
}

function envBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return ["1", "true", "yes", "on"].includes(value.toLowerCase());
}

/**
 * Flags first, then `TESSERAS_UPNP`, `TESSERAS_MDNS`, `TESSERAS_RELAY`,
 * then the file's `nat` object, then the defaults.
 *
 * @example
 * ```ts
 * natConfig({ upnp: false }, () => undefined, {}).upnp; // false
 * ```
 */
export function natConfig(
  flags: NatFlags,
  env: (name: string) => string | undefined,
  file: Partial<NatConfig> = {},
): NatConfig {
  const d = DEFAULT_NAT_CONFIG;
  return {
    upnp: flags.upnp ?? envBool(env("TESSERAS_UPNP")) ?? file.upnp ?? d.upnp,
    mdns: flags.mdns ?? envBool(env("TESSERAS_MDNS")) ?? file.mdns ?? d.mdns,
    relay: flags.relay ?? relayMode("TESSERAS_RELAY", env("TESSERAS_RELAY")) ??
      relayMode("nat.relay", file.relay) ?? d.relay,
    relayReservations: flags.relayReservations ?? file.relayReservations ??
      d.relayReservations,
    relayLimits: { ...file.relayLimits, ...flags.relayLimits },
  };
}

/**
 * The network layer's options for a daemon listening on `listen`: UPnP,
 * mDNS and relay slots are left out on a node that listens on loopback
 * only (nothing to map, no LAN to search, no one outside to reach us;
 * several test daemons on one machine would otherwise find each other).
 *
 * @example
 * ```ts
 * natOptionsFor(DEFAULT_NAT_CONFIG, { listen: ["/ip4/0.0.0.0/tcp/4001"] });
 * ```
 */
export function natOptionsFor(
  config: NatConfig,
  context: {
    readonly listen: readonly string[];
    readonly credit?: RelayCredit;
  },
): NatOptions {
  const loopbackOnly = context.listen.length > 0 &&
    context.listen.every((a) => /^\/ip4\/127\.|^\/ip6\/::1\//.test(a));
  return {
    upnp: config.upnp && !loopbackOnly,
    mdns: config.mdns && !loopbackOnly,
    relayServer: config.relay,
    // Loopback-only: every peer is on this machine and dials us directly.
    relayReservations: loopbackOnly ? 0 : config.relayReservations,
    relayLimits: config.relayLimits,
    relayCredit: context.credit,
  };
}

/**
 * The `reachability` object of `/health` and `id --json`.
 *
 * @example
 * ```ts
 * import type { TesserasNode } from "../net/mod.ts";
 * declare const node: TesserasNode;
 * reachabilityJson(node.reachability()).status; // "private"
 * ```
 */
export function reachabilityJson(r: ReachabilityReport): {
  status: string;
  addresses: readonly string[];
  relay_addresses: readonly string[];
  upnp_addresses: readonly string[];
  relay: Record<string, number | boolean>;
} {
  return {
    status: r.reachability,
    addresses: r.addresses,
    relay_addresses: r.relayAddresses,
    upnp_addresses: r.upnpAddresses,
    relay: {
      serving: r.relayServing,
      reservations: r.relayReservations,
      relayed_admitted: r.relayedAdmitted,
      relayed_refused: r.relayedRefused,
      relayed_connections: r.relayedConnections,
    },
  };
}

/**
 * Prometheus lines for reachability and the relay.
 *
 * @example
 * ```ts
 * import type { TesserasNode } from "../net/mod.ts";
 * declare const node: TesserasNode;
 * reachabilityMetrics(node.reachability()).join("\n");
 * ```
 */
export function reachabilityMetrics(r: ReachabilityReport): string[] {
  const lines = [
    "# HELP tesseras_reachability 1 for the reachability AutoNAT found.",
    "# TYPE tesseras_reachability gauge",
  ];
  for (const state of ["public", "private", "unknown"]) {
    lines.push(
      `tesseras_reachability{state="${state}"} ${
        r.reachability === state ? 1 : 0
      }`,
    );
  }
  const gauges: [string, string, number][] = [
    ["relay_addresses", "Relay addresses we hold.", r.relayAddresses.length],
    ["relay_serving", "1 while we serve as a relay.", r.relayServing ? 1 : 0],
    [
      "relay_reservations",
      "Reservations others hold on us.",
      r.relayReservations,
    ],
    [
      "relayed_connections",
      "Open connections through a relay.",
      r.relayedConnections,
    ],
  ];
  for (const [name, help, value] of gauges) {
    lines.push(
      `# HELP tesseras_${name} ${help}`,
      `# TYPE tesseras_${name} gauge`,
      `tesseras_${name} ${value}`,
    );
  }
  lines.push(
    "# HELP tesseras_relay_circuits_total Relayed connections by verdict.",
    "# TYPE tesseras_relay_circuits_total counter",
    `tesseras_relay_circuits_total{verdict="admitted"} ${r.relayedAdmitted}`,
    `tesseras_relay_circuits_total{verdict="refused"} ${r.relayedRefused}`,
  );
  return lines;
}
