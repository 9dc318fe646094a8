/**
 * Fragment store decorators for tests and the simulator: one that passes
 * every call through (to override what a decorator changes), and a free
 * rider's store that says yes to every shard and keeps nothing.
 *
 * @module
 */
import {
  type FragmentId,
  type FragmentStore,
  type GroupProofData,
  type IoOptions,
  type TesseraId,
  tesserasHeld,
} from "../core/mod.ts";

/**
 * Passes every call to `inner`; subclasses override what they change.
 *
 * @example
 * ```ts
 * import type { FragmentId } from "../core/mod.ts";
 * class Counting extends ForwardingStore {
 *   stores = 0;
 *   override store(id: FragmentId, data: Uint8Array) {
 *     this.stores++;
 *     return super.store(id, data);
 *   }
 * }
 * ```
 */
export class ForwardingStore implements FragmentStore {
  /** @param inner the store every call goes to */
  constructor(readonly inner: FragmentStore) {}

  /** Store in the inner store. */
  store(id: FragmentId, data: Uint8Array, options?: IoOptions): Promise<void> {
    return this.inner.store(id, data, options);
  }

  /** Read from the inner store. */
  read(
    tesseraId: TesseraId,
    index: number,
    options?: IoOptions,
  ): Promise<Uint8Array | null> {
    return this.inner.read(tesseraId, index, options);
  }

  /** Delete from the inner store. */
  delete(
    tesseraId: TesseraId,
    index?: number,
    options?: IoOptions,
  ): Promise<void> {
    return this.inner.delete(tesseraId, index, options);
  }

  /** The inner store's shards. */
  list(tesseraId?: TesseraId, options?: IoOptions): Promise<FragmentId[]> {
    return this.inner.list(tesseraId, options);
  }

  /** The inner store's tesseras held. */
  tesserasHeld(options?: IoOptions): Promise<TesseraId[]> {
    return tesserasHeld(this.inner, options);
  }

  /** Verify in the inner store. */
  verify(
    tesseraId: TesseraId,
    index: number,
    options?: IoOptions,
  ): Promise<boolean> {
    return this.inner.verify(tesseraId, index, options);
  }

  /** The inner store's bytes held. */
  totalBytes(options?: IoOptions): Promise<number> {
    return this.inner.totalBytes(options);
  }

  /** The inner store's keyed hash of a shard, when it has one. */
  get keyedHash(): FragmentStore["keyedHash"] {
    const inner = this.inner;
    return inner.keyedHash?.bind(inner);
  }

  /** The inner store's outboard, when it keeps them. */
  get readOutboard(): FragmentStore["readOutboard"] {
    const inner = this.inner;
    return inner.readOutboard?.bind(inner);
  }

  /** Chunk proofs from the inner store. */
  proveGroups(
    tesseraId: TesseraId,
    index: number,
    groups: readonly number[] | ((size: number) => readonly number[]),
    options?: IoOptions,
  ): Promise<
    {
      size: number;
      proofs: GroupProofData[];
      cvs?: readonly (Uint8Array | string)[];
    } | null
  > {
    return this.inner.proveGroups(tesseraId, index, groups, options);
  }
}

/**
 * A free rider's store: `store` succeeds without storing; everything else
 * passes through (so only shards stored before, if any, remain). It has no
 * `storeForPeer`, so a service credits the sender through the ledger
 * port, as it would for a store that kept the bytes.
 *
 * @example
 * ```ts
 * import type { FragmentId } from "../core/mod.ts";
 * import { MemoryFragmentStore } from "./fragment_store.ts";
 * declare const id: FragmentId;
 * declare const bytes: Uint8Array;
 * const liar = new DroppingStore(new MemoryFragmentStore());
 * await liar.store(id, bytes); // resolves; nothing is kept
 * ```
 */
export class DroppingStore extends ForwardingStore {
  /** Accept the shard and drop it. */
  override store(
    _id: FragmentId,
    _data: Uint8Array,
    _options?: IoOptions,
  ): Promise<void> {
    return Promise.resolve();
  }
}
