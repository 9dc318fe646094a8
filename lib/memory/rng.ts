/**
 * A seeded {@linkcode Rng}: the same seed gives the same sequence, so
 * tests and simulations are reproducible bit for bit. Not for secrets.
 *
 * @module
 */
import type { Rng } from "../core/mod.ts";

/**
 * sfc32 seeded through splitmix32: fast, good statistical quality, 32-bit
 * state words so it stays in integer arithmetic.
 *
 * @example
 * ```ts
 * const rng = seededRng(42);
 * rng.next(); // same value on every run
 * ```
 */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  const next32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next32();
  return {
    next: () => next32() / 4294967296,
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        let w = next32();
        for (let j = i; j < Math.min(n, i + 4); j++) {
          out[j] = w & 0xff;
          w >>>= 8;
        }
      }
      return out;
    },
  };
}
