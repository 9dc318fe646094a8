/**
 * A min-heap of watched tesseras by when their owner was last seen
 * (steward_watch.ts): a stewards' sweep pops only the tesseras whose
 * owner can have gone silent, instead of looking up every held tessera.
 * A key may lag behind a newer sighting (the heap is not told of each
 * challenge), so it is a lower bound that the popper checks and pushes
 * back; an entry whose token is no longer the current one is stale.
 *
 * @module
 */
import type { TesseraId } from "../core/mod.ts";

/** One entry: a tessera, its owner's last sighting as known, a token. */
export interface SeenEntry<T> {
  /** When the owner was last seen, as known when pushed (a lower bound). */
  readonly seen: number;
  readonly id: TesseraId;
  /** Whatever tells a current entry from a stale one (the watch's view). */
  readonly token: T;
}

/**
 * Entries by `seen`, oldest first.
 *
 * @example
 * ```ts
 * import { SeenQueue } from "./seen_queue.ts";
 * const queue = new SeenQueue<null>();
 * queue.push({ seen: 9, id: "b", token: null });
 * queue.push({ seen: 5, id: "a", token: null });
 * queue.popWhile((seen) => seen < 6).map((e) => e.id); // ["a"]
 * queue.size; // 1
 * ```
 */
export class SeenQueue<T> {
  readonly #heap: SeenEntry<T>[] = [];

  /** Entries queued, stale ones included. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queue `entry`. */
  push(entry: SeenEntry<T>): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].seen <= entry.seen) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  /**
   * Remove and return the oldest entries while `test(seen)` holds, oldest
   * first: `test` must hold of any `seen` older than one it holds of.
   */
  popWhile(test: (seen: number) => boolean): SeenEntry<T>[] {
    const out: SeenEntry<T>[] = [];
    while (this.#heap.length > 0 && test(this.#heap[0].seen)) {
      out.push(this.#pop());
    }
    return out;
  }

  #pop(): SeenEntry<T> {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    // Sift the last entry down from the root.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].seen < heap[left].seen
        ? right
        : left;
      if (heap[child].seen >= last.seen) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
