/**
 * A per-key async mutex: operations on the same shard run one after the
 * other, operations on different shards run freely.
 *
 * @module
 */

/**
 * Serialises async work by key.
 *
 * @example
 * ```ts
 * const locks = new KeyedLock();
 * await locks.run("ab…/3", async () => { … });
 * ```
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier `run` with the same key has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => release = resolve);
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Number of keys with work queued or running (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
