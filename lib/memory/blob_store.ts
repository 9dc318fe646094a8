/**
 * An in-memory {@linkcode BlobStore} for unit tests and the simulator.
 *
 * @module
 */
import type { BlobStore, IoOptions, TesseraId } from "../core/mod.ts";

/**
 * The owner's tessera bytes in a map.
 *
 * @example
 * ```ts
 * const blobs = new MemoryBlobStore();
 * await blobs.put(id, bytes);
 * ```
 */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<TesseraId, Uint8Array>();
  readonly #copy: boolean;

  /**
   * An empty store.
   *
   * @param options `copy` (default `true`) copies bytes in and out
   */
  constructor(options: { readonly copy?: boolean } = {}) {
    this.#copy = options.copy ?? true;
  }

  /** Store a tessera's bytes under its id. */
  put(id: TesseraId, data: Uint8Array, options: IoOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.#blobs.set(id, this.#copy ? data.slice() : data);
    return Promise.resolve();
  }

  /** The bytes, or `null`. */
  get(id: TesseraId, options: IoOptions = {}): Promise<Uint8Array | null> {
    options.signal?.throwIfAborted();
    const data = this.#blobs.get(id);
    if (!data) return Promise.resolve(null);
    return Promise.resolve(this.#copy ? data.slice() : data);
  }

  /** Whether the blob exists. */
  has(id: TesseraId, options: IoOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return Promise.resolve(this.#blobs.has(id));
  }

  /** Remove the blob (no error when absent). */
  delete(id: TesseraId, options: IoOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    this.#blobs.delete(id);
    return Promise.resolve();
  }

  /** Ids of all blobs, sorted. */
  list(options: IoOptions = {}): Promise<TesseraId[]> {
    options.signal?.throwIfAborted();
    return Promise.resolve([...this.#blobs.keys()].sort());
  }
}
