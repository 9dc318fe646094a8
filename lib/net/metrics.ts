/**
 * Message and error counters per wire protocol, for `/metrics`.
 *
 * @module
 */

/** The protocols we count. */
export type CountedProtocol =
  | "replicate"
  | "attest"
  | "prove"
  | "fetch"
  | "ping";

/** Counters of one protocol since the node started. */
export interface ProtocolCounters {
  /** Requests received from peers (every inbound stream). */
  inbound: number;
  /** Inbound requests answered with an error or reset. */
  inboundErrors: number;
  /** Inbound requests refused by a rate or concurrency limit. */
  inboundRateLimited: number;
  /** Requests we sent. */
  outbound: number;
  /** Requests we sent that failed (error reply, timeout, unreachable). */
  outboundErrors: number;
}

/** Snapshot of every protocol's counters. */
export type NetCounters = Record<CountedProtocol, ProtocolCounters>;

const PROTOCOLS: readonly CountedProtocol[] = [
  "replicate",
  "attest",
  "prove",
  "fetch",
  "ping",
];

/**
 * Mutable counters shared by the protocol handlers and clients of one node.
 *
 * @example
 * ```ts
 * const metrics = new NetMetrics();
 * metrics.count("fetch", "inbound");
 * metrics.snapshot().fetch.inbound; // 1
 * ```
 */
export class NetMetrics {
  readonly #counters: NetCounters;

  constructor() {
    this.#counters = Object.fromEntries(
      PROTOCOLS.map((p) => [p, {
        inbound: 0,
        inboundErrors: 0,
        inboundRateLimited: 0,
        outbound: 0,
        outboundErrors: 0,
      }]),
    ) as NetCounters;
  }

  /** Add one to `counter` of `protocol`. */
  count(protocol: CountedProtocol, counter: keyof ProtocolCounters): void {
    this.#counters[protocol][counter]++;
  }

  /** A copy of every counter. */
  snapshot(): NetCounters {
    return Object.fromEntries(
      PROTOCOLS.map((p) => [p, { ...this.#counters[p] }]),
    ) as NetCounters;
  }
}
