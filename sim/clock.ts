/**
 * A discrete-event virtual {@linkcode Clock}: `sleep` resolves in virtual
 * time, in deadline order (ties in the order they were scheduled), when
 * the driver advances the clock. The code that sleeps is the real
 * replication code; only the clock is virtual.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { Clock, IoOptions } from "../lib/core/mod.ts";

/** One scheduled event, kept in a binary heap ordered by `(at, seq)`. */
interface SimEvent {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | null;
}

/** A handle to cancel a scheduled callback. */
export interface ScheduledEvent {
  /** Cancel the callback if it has not run yet. */
  cancel(): void;
}

/** Options of {@linkcode VirtualClock.runUntil}. */
export interface RunOptions {
  /** Stop early (between events) when aborted. */
  readonly signal?: AbortSignal;
  /** Called after every event with the current virtual time. */
  readonly onEvent?: (now: number) => void;
}

/**
 * Lets every microtask queued so far run to completion: a macrotask turn.
 * `setImmediate` costs about a microsecond where `setTimeout(0)` costs
 * milliseconds once nested, which matters at millions of events.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time with an event queue.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ start: 0 });
 * let woke = 0;
 * clock.sleep(5_000).then(() => woke = clock.now());
 * await clock.runUntil(10_000);
 * woke; // 5000
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: SimEvent[] = [];
  #live = 0;
  #processed = 0;

  /** @param options `start`: initial virtual time, ms since the epoch (default 0) */
  constructor(options: { start?: number } = {}) {
    this.#now = options.start ?? 0;
  }

  /** Current virtual time, ms since the epoch. */
  now(): number {
    return this.#now;
  }

  /** Callbacks scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.#live;
  }

  /** Events run so far. */
  get processed(): number {
    return this.#processed;
  }

  /** Time of the next live event, or `undefined` when the queue is empty. */
  nextEventAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap.length > 0 ? this.#heap[0].at : undefined;
  }

  /**
   * Run `fn` at virtual time `at` (clamped to now). Ties run in the order
   * they were scheduled, so runs are deterministic.
   */
  schedule(at: number, fn: () => void): ScheduledEvent {
    const ev: SimEvent = { at: Math.max(at, this.#now), seq: this.#seq++, fn };
    this.#push(ev);
    this.#live++;
    return {
      cancel: () => {
        if (ev.fn !== null) {
          ev.fn = null;
          this.#live--;
        }
      },
    };
  }

  /** Resolves once virtual time reaches `now() + ms`; rejects when aborted. */
  sleep(ms: number, options: IoOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (!signal) {
        this.schedule(this.#now + Math.max(0, ms), resolve);
        return;
      }
      const onAbort = () => {
        handle.cancel();
        reject(signal.reason);
      };
      const handle = this.schedule(this.#now + Math.max(0, ms), () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Run every event due at or before `until`, one at a time, letting the
   * code each one wakes run to quiescence (a macrotask turn) before the
   * next; then set the time to `until`. Returns the number of events run.
   */
  async runUntil(until: number, options: RunOptions = {}): Promise<number> {
    let count = 0;
    await settle();
    for (;;) {
      if (options.signal?.aborted) break;
      this.#dropCancelled();
      const top = this.#heap[0];
      if (top === undefined || top.at > until) break;
      this.#pop();
      this.#live--;
      this.#now = top.at;
      const fn = top.fn!;
      top.fn = null;
      fn();
      count++;
      this.#processed++;
      await settle();
      options.onEvent?.(this.#now);
    }
    if (!options.signal?.aborted && until > this.#now) this.#now = until;
    return count;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0].fn === null) this.#pop();
  }

  #push(ev: SimEvent): void {
    const h = this.#heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
  }

  #pop(): SimEvent {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
