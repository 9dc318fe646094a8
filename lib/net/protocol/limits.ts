/**
 * Protocol ids and the size, time and concurrency limits of each wire
 * protocol, with defaults sized for the largest legal shard.
 *
 * @module
 */
import { MAX_TESSERA_SIZE, TIER_SHAPES } from "../../core/mod.ts";

/** `/tesseras/replicate/1.0.0`: FragmentEnvelope → ReplicateAck. */
export const REPLICATE_PROTOCOL = "/tesseras/replicate/1.0.0";
/** `/tesseras/attest/1.0.0`: AttestRequest → AttestResponse. */
export const ATTEST_PROTOCOL = "/tesseras/attest/1.0.0";
/** `/tesseras/prove/1.0.0`: AttestRequest → chunk proofs (docs/proofs.md). */
export const PROVE_PROTOCOL = "/tesseras/prove/1.0.0";
/** `/tesseras/fetch/1.0.0`: tessera id + index → shard bytes. */
export const FETCH_PROTOCOL = "/tesseras/fetch/1.0.0";
/**
 * `/tesseras/fetch/2.0.0`: the same request → the shard's outboard, then
 * its bytes in pieces, checked group by group by the fetcher
 * (docs/proofs.md, verified_fetch.ts).
 */
export const VERIFIED_FETCH_PROTOCOL = "/tesseras/fetch/2.0.0";
/** Kademlia under our own prefix, so we never mix with the IPFS DHT. */
export const KAD_PROTOCOL = "/tesseras/kad/1.0.0";

const MIB = 1024 * 1024;
const KIB = 1024;

/** Most shards any tier produces (Large: 48 + 24 = 72). */
export const MAX_SHARD_COUNT: number = Math.max(
  ...Object.values(TIER_SHAPES).map((s) => s.dataShards + s.parityShards),
);

/**
 * Largest shard of a legal tessera: a 1 GiB Large tessera cut into 48 data
 * shards gives ceil(2^30 / 48) = 22,369,622 bytes.
 */
export const MAX_SHARD_BYTES: number = Math.ceil(MAX_TESSERA_SIZE / 48);

/** Room for a frame's protobuf fields around the shard bytes. */
const FRAME_OVERHEAD = 64 * KIB;

/** Limits of one protocol. */
export interface ProtocolLimits {
  /** Largest request frame a handler reads, bytes (after the length prefix). */
  readonly maxRequestBytes: number;
  /** Largest response frame our client reads, bytes. */
  readonly maxResponseBytes: number;
  /** Time a peer has to deliver its whole request, ms (stalled senders). */
  readonly readTimeoutMs: number;
  /** Time for the whole inbound exchange, handler and reply included, ms. */
  readonly handlerTimeoutMs: number;
  /** Time our client waits for a whole exchange by default, ms. */
  readonly requestTimeoutMs: number;
  /** Inbound streams of this protocol open at once per connection. */
  readonly maxInboundStreams: number;
  /** Outbound streams of this protocol open at once per connection. */
  readonly maxOutboundStreams: number;
  /** Inbound requests handled at once over all peers; more are refused. */
  readonly maxConcurrent: number;
  /**
   * After an error reply, time the peer has to finish its request and
   * half-close before the stream is reset; also how long the server waits
   * for that half-close after any reply, ms.
   */
  readonly lingerMs: number;
}

/** Limits of the four protocols. */
export interface NetLimits {
  /** `/tesseras/replicate/1.0.0`. */
  readonly replicate: ProtocolLimits;
  /** `/tesseras/attest/1.0.0`. */
  readonly attest: ProtocolLimits;
  /** `/tesseras/prove/1.0.0` (chunk proofs, docs/proofs.md). */
  readonly prove: ProtocolLimits;
  /** `/tesseras/fetch/1.0.0`. */
  readonly fetch: ProtocolLimits;
}

/** The attest protocol's limits, which prove shares but for its answers. */
const ATTEST_LIMITS: ProtocolLimits = {
  maxRequestBytes: 4 * KIB,
  maxResponseBytes: 256 * KIB,
  readTimeoutMs: 10_000,
  handlerTimeoutMs: 60_000,
  requestTimeoutMs: 60_000,
  maxInboundStreams: 8,
  maxOutboundStreams: 16,
  maxConcurrent: 8,
  lingerMs: 2_000,
};

/**
 * Defaults. A replicate frame carries a whole shard (up to 32 MiB of data
 * plus 64 KiB of fields, above the 22.4 MiB largest shard); fetch answers
 * carry one too. The read timeout allows a 32 MiB frame at ~300 KiB/s.
 */
export const DEFAULT_NET_LIMITS: NetLimits = {
  replicate: {
    maxRequestBytes: 32 * MIB + FRAME_OVERHEAD,
    maxResponseBytes: 64 * KIB,
    readTimeoutMs: 120_000,
    handlerTimeoutMs: 180_000,
    requestTimeoutMs: 180_000,
    maxInboundStreams: 4,
    maxOutboundStreams: 8,
    maxConcurrent: 8,
    lingerMs: 2_000,
  },
  attest: ATTEST_LIMITS,
  // An answer carries up to 72 shards x 20 groups of 8 KiB with their
  // paths (12.3 MiB); the holder reads 20 groups per shard.
  prove: { ...ATTEST_LIMITS, maxResponseBytes: 13 * MIB },
  fetch: {
    maxRequestBytes: 4 * KIB,
    maxResponseBytes: 32 * MIB + FRAME_OVERHEAD,
    readTimeoutMs: 10_000,
    handlerTimeoutMs: 180_000,
    requestTimeoutMs: 180_000,
    maxInboundStreams: 8,
    maxOutboundStreams: 16,
    maxConcurrent: 8,
    lingerMs: 2_000,
  },
};

/** Partial overrides of {@linkcode NetLimits}, per protocol and field. */
export type NetLimitsOverrides = {
  readonly [P in keyof NetLimits]?: Partial<ProtocolLimits>;
};

/**
 * The defaults overridden by `overrides`.
 *
 * @example
 * ```ts
 * const limits = netLimits({ replicate: { readTimeoutMs: 500 } });
 * ```
 */
export function netLimits(overrides: NetLimitsOverrides = {}): NetLimits {
  return {
    replicate: { ...DEFAULT_NET_LIMITS.replicate, ...overrides.replicate },
    attest: { ...DEFAULT_NET_LIMITS.attest, ...overrides.attest },
    prove: { ...DEFAULT_NET_LIMITS.prove, ...overrides.prove },
    fetch: { ...DEFAULT_NET_LIMITS.fetch, ...overrides.fetch },
  };
}
