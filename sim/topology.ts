/**
 * IPv4 addresses for simulated nodes, so that /24 and /16 diversity and
 * correlated subnet failures mean something.
 *
 * @module
 */
import type { SimRng } from "./rng.ts";
import type { TopologySpec } from "./scenario.ts";

/**
 * Hands out addresses: ordinary nodes land on a random /24 of a pool
 * sized for `nodesPer24` nodes each, grouped `slash24PerSlash16` to a
 * /16; hotspot nodes crowd into a few /24s of their own /16.
 *
 * @example
 * ```ts
 * import { SimRng } from "./mod.ts";
 * const topo = new Topology({ nodesPer24: 2 }, new SimRng(1), 100);
 * topo.next(); // e.g. "11.0.3.1"
 * ```
 */
export class Topology {
  readonly #rng: SimRng;
  readonly #pool: number;
  readonly #per16: number;
  readonly #hot: { subnets: number; fraction: number } | undefined;
  readonly #hosts = new Map<string, number>();

  /**
   * @param spec the scenario's topology
   * @param rng randomness for subnet choice
   * @param expectedNodes sizes the pool of /24s
   */
  constructor(spec: TopologySpec, rng: SimRng, expectedNodes: number) {
    this.#rng = rng;
    const per24 = spec.nodesPer24 ?? 1.5;
    this.#pool = Math.max(1, Math.ceil(expectedNodes / per24));
    this.#per16 = Math.max(1, Math.floor(spec.slash24PerSlash16 ?? 16));
    this.#hot = spec.hotspots;
  }

  /** The address of the next node. */
  next(): string {
    let prefix: string;
    if (this.#hot && this.#rng.chance(this.#hot.fraction)) {
      prefix = `10.0.${this.#rng.int(this.#hot.subnets)}`;
    } else {
      const j = this.#rng.int(this.#pool);
      const g = Math.floor(j / this.#per16);
      prefix = `${11 + (g >> 8)}.${g & 255}.${j % this.#per16}`;
    }
    const host = (this.#hosts.get(prefix) ?? 0) + 1;
    this.#hosts.set(prefix, host);
    return `${prefix}.${((host - 1) % 254) + 1}`;
  }
}

/** The /24 of an IPv4 address (`a.b.c`). */
export function slash24(ip: string): string {
  return ip.slice(0, ip.lastIndexOf("."));
}

/** The /16 of an IPv4 address (`a.b`). */
export function slash16(ip: string): string {
  const s = slash24(ip);
  return s.slice(0, s.lastIndexOf("."));
}
