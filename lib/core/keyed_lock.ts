/**
 * A per-key async mutex, the one lock of the project: work under the same
 * key runs one after the other, work under different keys runs freely.
 *
 * @module
 */

/**
 * Serialises async work by key. A task runs once every earlier task with
 * the same key has settled, whether it resolved or rejected; idle keys
 * are forgotten, so the map does not grow with every key ever used.
 *
 * @example
 * ```ts
 * import { KeyedLock } from "./keyed_lock.ts";
 * const locks = new KeyedLock();
 * const n = await locks.run("peer-a", () => Promise.resolve(1));
 * ```
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Run `fn` after every earlier task with the same `key` has settled. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(() => {}, () => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Number of keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
