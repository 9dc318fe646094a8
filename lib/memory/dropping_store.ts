/**
 * A free rider's store, for tests and the simulator: it says yes to every
 * shard and keeps nothing.
 *
 * @module
 */
import type {
  FragmentId,
  FragmentStore,
  IoOptions,
  TesseraId,
} from "../core/mod.ts";

/**
 * Wraps `inner` so that `store` succeeds without storing; everything else
 * passes through (so only shards stored before, if any, remain). It has no
 * `storeForPeer`, so a service credits the sender through the ledger
 * port, as it would for a store that kept the bytes.
 *
 * @example
 * ```ts
 * const liar = new DroppingStore(new MemoryFragmentStore());
 * await liar.store(id, bytes); // resolves; nothing is kept
 * ```
 */
export class DroppingStore implements FragmentStore {
  /** @param inner the store reads, lists and deletes go to */
  constructor(readonly inner: FragmentStore) {}

  /** Accept the shard and drop it. */
  store(_id: FragmentId, _data: Uint8Array, _options?: IoOptions) {
    return Promise.resolve();
  }

  /** The inner store's bytes (none of what this store was given). */
  read(tesseraId: TesseraId, index: number, options?: IoOptions) {
    return this.inner.read(tesseraId, index, options);
  }

  /** Delete from the inner store. */
  delete(tesseraId: TesseraId, index?: number, options?: IoOptions) {
    return this.inner.delete(tesseraId, index, options);
  }

  /** The inner store's shards. */
  list(tesseraId?: TesseraId, options?: IoOptions) {
    return this.inner.list(tesseraId, options);
  }

  /** Verify in the inner store. */
  verify(tesseraId: TesseraId, index: number, options?: IoOptions) {
    return this.inner.verify(tesseraId, index, options);
  }

  /** The inner store's bytes held. */
  totalBytes(options?: IoOptions) {
    return this.inner.totalBytes(options);
  }
}
