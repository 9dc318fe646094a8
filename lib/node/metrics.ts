/**
 * `/metrics` in the Prometheus text exposition format.
 *
 * @module
 */
import type { NetCounters, ReachabilityReport } from "../net/mod.ts";
import { reachabilityMetrics } from "./reachability.ts";

/** The figures `/metrics` reports. */
export interface MetricsSnapshot {
  /** Peers with an open connection. */
  readonly connectedPeers: number;
  /** Peers in the Kademlia routing table. */
  readonly routingTableSize: number;
  /** Peers in the persistent peer table. */
  readonly knownPeers: number;
  /** Addresses in the persistent peer table. */
  readonly knownAddresses: number;
  /** Shards held for others. */
  readonly fragmentsHeld: number;
  /** Bytes of shards held. */
  readonly fragmentBytesHeld: number;
  /** Our own tesseras tracked. */
  readonly tesserasTracked: number;
  /** Seconds since start. */
  readonly uptimeSeconds: number;
  /** Free bytes on the data directory's file system. */
  readonly diskFreeBytes: number;
  /** Quota: most bytes stored for one peer. */
  readonly perPeerLimitBytes: number;
  /** Quota: free space kept. */
  readonly minFreeSpaceBytes: number;
  /** Quota: largest deficit tolerated. */
  readonly deficitToleranceBytes: number;
  /** Per-protocol message counters. */
  readonly counters: NetCounters;
  /** Reachability and relay figures, when known. */
  readonly reachability?: ReachabilityReport;
}

function gauge(name: string, help: string, value: number): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    `${name} ${Number.isFinite(value) ? value : "NaN"}`,
  ];
}

/** The snapshot's plain figures, each a gauge: name, help, field. */
const GAUGES: readonly (readonly [string, string, keyof MetricsSnapshot])[] = [
  ["tesseras_peers_connected", "Peers connected.", "connectedPeers"],
  [
    "tesseras_routing_table_size",
    "Peers in the Kademlia routing table.",
    "routingTableSize",
  ],
  ["tesseras_known_peers", "Peers persisted.", "knownPeers"],
  ["tesseras_known_addresses", "Peer addresses persisted.", "knownAddresses"],
  ["tesseras_fragments_held", "Shards held for others.", "fragmentsHeld"],
  [
    "tesseras_fragment_bytes_held",
    "Bytes of shards held for others.",
    "fragmentBytesHeld",
  ],
  ["tesseras_tesseras_tracked", "Own tesseras tracked.", "tesserasTracked"],
  ["tesseras_uptime_seconds", "Seconds since start.", "uptimeSeconds"],
  [
    "tesseras_disk_free_bytes",
    "Free bytes on the data directory's file system.",
    "diskFreeBytes",
  ],
  [
    "tesseras_quota_per_peer_bytes",
    "Most bytes stored for any one peer.",
    "perPeerLimitBytes",
  ],
  [
    "tesseras_quota_min_free_bytes",
    "Free space always kept.",
    "minFreeSpaceBytes",
  ],
  [
    "tesseras_quota_deficit_tolerance_bytes",
    "Largest peer deficit tolerated.",
    "deficitToleranceBytes",
  ],
];

/**
 * Renders a snapshot as Prometheus text.
 *
 * @example
 * ```ts
 * declare const snapshot: MetricsSnapshot;
 * const text = renderMetrics(snapshot);
 * ```
 */
export function renderMetrics(s: MetricsSnapshot): string {
  const gauges = GAUGES.flatMap(([name, help, field]) =>
    gauge(name, help, s[field] as number)
  );
  const reach = s.reachability === undefined
    ? []
    : reachabilityMetrics(s.reachability);
  return [...gauges, ...protocolCounters(s.counters), ...reach, ""].join("\n");
}

/** The per-protocol counters: messages, errors, then throttled requests. */
function protocolCounters(counters: NetCounters): string[] {
  const messages = [
    "# HELP tesseras_protocol_messages_total Protocol messages by direction.",
    "# TYPE tesseras_protocol_messages_total counter",
  ];
  const errors = [
    "# HELP tesseras_protocol_errors_total Protocol errors by direction.",
    "# TYPE tesseras_protocol_errors_total counter",
  ];
  const limited = [
    "# HELP tesseras_protocol_rate_limited_total Inbound requests throttled.",
    "# TYPE tesseras_protocol_rate_limited_total counter",
  ];
  for (const [protocol, c] of Object.entries(counters)) {
    messages.push(
      `tesseras_protocol_messages_total{protocol="${protocol}",direction="inbound"} ${c.inbound}`,
      `tesseras_protocol_messages_total{protocol="${protocol}",direction="outbound"} ${c.outbound}`,
    );
    errors.push(
      `tesseras_protocol_errors_total{protocol="${protocol}",direction="inbound"} ${c.inboundErrors}`,
      `tesseras_protocol_errors_total{protocol="${protocol}",direction="outbound"} ${c.outboundErrors}`,
    );
    limited.push(
      `tesseras_protocol_rate_limited_total{protocol="${protocol}"} ${c.inboundRateLimited}`,
    );
  }
  return [...messages, ...errors, ...limited];
}
