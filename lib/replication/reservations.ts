/**
 * Bytes a holder has promised to shards it is storing right now, per
 * sender: the room check runs under the sender's lock and reserves the
 * shard's size, the store (write, fsync, commit) runs outside it, and the
 * reservation is released once the ledger carries the credit. So several
 * shards of one sender are written at once while its deficit check still
 * sees every one of them.
 *
 * @module
 */
import type { PeerId } from "../core/mod.ts";

/**
 * Reserved bytes per sender and in all.
 *
 * @example
 * ```ts
 * import { StoreReservations } from "./reservations.ts";
 * const r = new StoreReservations();
 * const release = r.reserve("peer-a", 1024);
 * r.of("peer-a"); // 1024
 * release();
 * r.total; // 0
 * ```
 */
export class StoreReservations {
  readonly #bySender = new Map<PeerId, number>();
  #total = 0;

  /** Bytes reserved for `sender`'s shards being stored. */
  of(sender: PeerId): number {
    return this.#bySender.get(sender) ?? 0;
  }

  /** Bytes reserved for every sender (disk the stores will take). */
  get total(): number {
    return this.#total;
  }

  /** Reserve `bytes` for `sender`; the returned function releases them once. */
  reserve(sender: PeerId, bytes: number): () => void {
    this.#bySender.set(sender, this.of(sender) + bytes);
    this.#total += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.of(sender) - bytes;
      if (left > 0) this.#bySender.set(sender, left);
      else this.#bySender.delete(sender);
      this.#total -= bytes;
    };
  }
}
