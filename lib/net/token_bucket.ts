/**
 * Per-peer token buckets: a peer may burst up to `capacity` requests, then
 * gets `refillPerSecond` more each second. Used to throttle replicate
 * floods before a byte of the payload is read.
 *
 * @module
 */

/** Settings of {@linkcode PeerRateLimiter}. */
export interface RateLimit {
  /** Requests a peer may send in a burst. */
  readonly capacity: number;
  /** Tokens added per second (fractions allowed). */
  readonly refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before idle (full) ones are dropped. */
const PRUNE_ABOVE = 4096;

/**
 * One token bucket per peer id.
 *
 * @example
 * ```ts
 * const limiter = new PeerRateLimiter({ capacity: 2, refillPerSecond: 1 });
 * limiter.take("peer-a"); // true
 * limiter.take("peer-a"); // true
 * limiter.take("peer-a"); // false until a second has passed
 * ```
 */
export class PeerRateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  /**
   * @param limit burst size and refill rate
   * @param options `now` returns ms (tests pass a fake clock)
   */
  constructor(limit: RateLimit, options: { now?: () => number } = {}) {
    this.#limit = limit;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Take one token for `peer`; false when its bucket is empty. */
  take(peer: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(peer);
    if (bucket === undefined) {
      if (this.#buckets.size >= PRUNE_ABOVE) this.#prune(now);
      bucket = { tokens: this.#limit.capacity, updatedAt: now };
      this.#buckets.set(peer, bucket);
    } else {
      this.#refill(bucket, now);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Number of peers tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(
      this.#limit.capacity,
      bucket.tokens + elapsed * this.#limit.refillPerSecond,
    );
    bucket.updatedAt = now;
  }

  #prune(now: number): void {
    for (const [peer, bucket] of this.#buckets) {
      this.#refill(bucket, now);
      if (bucket.tokens >= this.#limit.capacity) this.#buckets.delete(peer);
    }
  }
}
