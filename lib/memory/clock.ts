/**
 * A manual {@linkcode Clock} for tests: time moves only when told to.
 *
 * @module
 */
import type { Clock, IoOptions } from "../core/mod.ts";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
  readonly detach: () => void;
}

/**
 * Virtual time: `sleep` resolves when {@linkcode ManualClock.advance}
 * passes its deadline, in deadline order.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(0);
 * const done = clock.sleep(1000);
 * await clock.advance(1000);
 * await done;
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  /**
   * A clock stopped at `start`.
   *
   * @param start initial time, ms since the epoch
   */
  constructor(start = 0) {
    this.#now = start;
  }

  /** Current virtual time. */
  now(): number {
    return this.#now;
  }

  /** Resolves once virtual time reaches `now() + ms`. */
  sleep(ms: number, options: IoOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Number of sleeps waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Move time forward by `ms`, waking sleepers in deadline order and
   * letting the woken code run (one macrotask turn) before the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= target &&
          (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        ) {
          next = t;
        }
      }
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.detach();
      next.resolve();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
