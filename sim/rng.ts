/**
 * A seeded {@linkcode Rng} with the distributions the simulator needs.
 * Every subsystem draws from its own stream, forked by label from the run
 * seed, so adding a draw in one place does not shift every other one.
 *
 * @module
 */
import { type Rng, smallBytes } from "../lib/core/mod.ts";

/** cyrb128: four 32-bit words from a string, to seed sfc32. */
function seedWords(seed: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < seed.length; i++) {
    const k = seed.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [
    (h1 ^ h2 ^ h3 ^ h4) >>> 0,
    (h2 ^ h1) >>> 0,
    (h3 ^ h1) >>> 0,
    (h4 ^ h1) >>> 0,
  ];
}

/**
 * sfc32, seeded from a string: fast, 32-bit integer state, good quality
 * for simulation (not for secrets).
 *
 * @example
 * ```ts
 * const rng = new SimRng("seed-1");
 * rng.next(); // same value on every run
 * rng.fork("churn").exponential(10); // an independent stream
 * ```
 */
export class SimRng implements Rng {
  readonly #seed: string;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any string or number; equal seeds give equal streams */
  constructor(seed: string | number) {
    this.#seed = String(seed);
    [this.#a, this.#b, this.#c, this.#d] = seedWords(this.#seed);
    for (let i = 0; i < 15; i++) this.next32();
  }

  /** The seed this stream was built from. */
  get seed(): string {
    return this.#seed;
  }

  /** An independent stream named `label` under this one's seed. */
  fork(label: string): SimRng {
    return new SimRng(`${this.#seed}/${label}`);
  }

  /** A uniform 32-bit unsigned integer. */
  next32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) /
      9007199254740992;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    // From a shared slab: a fresh buffer per nonce costs more than the
    // nonce's randomness.
    const out = smallBytes(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const w = this.next32();
      out[i] = w;
      out[i + 1] = w >>> 8;
      out[i + 2] = w >>> 16;
      out[i + 3] = w >>> 24;
    }
    for (; i < n; i++) out[i] = this.next32() & 0xff;
    return out;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Poisson-distributed count with mean `lambda` (Knuth; normal above 50). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 50) {
      const u = 1 - this.next(), v = this.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
    }
    const limit = Math.exp(-lambda);
    let k = 0, p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Log-uniform in [lo, hi). */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Shuffle in place (Fisher-Yates) and return the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
