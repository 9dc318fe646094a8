/**
 * The real-world implementations of the `Clock` and `Rng` ports.
 *
 * @module
 */
import type { Clock, IoOptions, Rng } from "./ports.ts";

/**
 * Wall-clock time; `sleep` is a timer that an `AbortSignal` cancels and
 * that never keeps the process alive after cancellation.
 *
 * @example
 * ```ts
 * await systemClock.sleep(10);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, options: IoOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * Cryptographically secure randomness from `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * const nonce = cryptoRng.bytes(32);
 * ```
 */
export const cryptoRng: Rng = {
  next(): number {
    const buf = new Uint32Array(2);
    crypto.getRandomValues(buf);
    // 53 random bits, as Math.random would give.
    return (buf[0] * 2 ** 21 + (buf[1] >>> 11)) / 2 ** 53;
  },
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) {
      crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
    }
    return out;
  },
};
