/**
 * An in-memory {@linkcode FragmentStore}: exact (it verifies checksums as
 * the disk store does) and cheap, for unit tests and the simulator.
 *
 * @module
 */
import {
  type FragmentId,
  type FragmentStore,
  type IoOptions,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex } from "../codec/mod.ts";

/** Options of {@linkcode MemoryFragmentStore}. */
export interface MemoryFragmentStoreOptions {
  /**
   * Hash stored bytes and reject a checksum mismatch, as the disk store
   * does (default `true`). The simulator may turn it off when the caller
   * has verified the bytes already.
   */
  readonly verifyOnStore?: boolean;
  /**
   * Copy bytes on store and read so callers cannot alias stored data
   * (default `true`).
   */
  readonly copy?: boolean;
  /** Capacity in bytes reported by {@linkcode MemoryFragmentStore.freeSpace} (default unlimited). */
  readonly capacityBytes?: number;
}

interface Entry {
  readonly id: FragmentId;
  readonly data: Uint8Array;
}

/**
 * Shards held in a map, keyed by tessera then index.
 *
 * @example
 * ```ts
 * const store = new MemoryFragmentStore();
 * await store.store(fragmentId, bytes);
 * const back = await store.read(fragmentId.tesseraId, fragmentId.index);
 * ```
 */
export class MemoryFragmentStore implements FragmentStore {
  readonly #byTessera = new Map<TesseraId, Map<number, Entry>>();
  readonly #verify: boolean;
  readonly #copy: boolean;
  readonly #capacity: number;
  #total = 0;

  /**
   * An empty store.
   *
   * @param options see {@linkcode MemoryFragmentStoreOptions}
   */
  constructor(options: MemoryFragmentStoreOptions = {}) {
    this.#verify = options.verifyOnStore ?? true;
    this.#copy = options.copy ?? true;
    this.#capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Store a shard; a second store of the same shard is a no-op. */
  store(
    id: FragmentId,
    data: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const shards = this.#byTessera.get(id.tesseraId);
    if (shards?.has(id.index)) return Promise.resolve();
    if (this.#verify && blake3Hex(data) !== id.checksum) {
      return Promise.reject(
        new TesserasError(
          "CHECKSUM_MISMATCH",
          `shard ${id.index} of ${id.tesseraId} does not hash to its checksum: refused`,
        ),
      );
    }
    const entry = {
      id: { ...id },
      data: this.#copy ? data.slice() : data,
    };
    if (shards) shards.set(id.index, entry);
    else this.#byTessera.set(id.tesseraId, new Map([[id.index, entry]]));
    this.#total += data.length;
    return Promise.resolve();
  }

  /** The shard's bytes, or `null`. */
  read(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    options.signal?.throwIfAborted();
    const entry = this.#byTessera.get(tesseraId)?.get(index);
    if (!entry) return Promise.resolve(null);
    return Promise.resolve(this.#copy ? entry.data.slice() : entry.data);
  }

  /** Remove one shard, or every shard of the tessera. */
  delete(
    tesseraId: TesseraId,
    index?: number,
    options: IoOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const shards = this.#byTessera.get(tesseraId);
    if (!shards) return Promise.resolve();
    if (index === undefined) {
      for (const e of shards.values()) this.#total -= e.data.length;
      this.#byTessera.delete(tesseraId);
    } else {
      const e = shards.get(index);
      if (e) {
        this.#total -= e.data.length;
        shards.delete(index);
        if (shards.size === 0) this.#byTessera.delete(tesseraId);
      }
    }
    return Promise.resolve();
  }

  /** Shards held, ordered by tessera id then index. */
  list(tesseraId?: TesseraId, options: IoOptions = {}): Promise<FragmentId[]> {
    options.signal?.throwIfAborted();
    const out: FragmentId[] = [];
    const ids = tesseraId === undefined
      ? [...this.#byTessera.keys()].sort()
      : [tesseraId];
    for (const t of ids) {
      const shards = this.#byTessera.get(t);
      if (!shards) continue;
      const indices = [...shards.keys()].sort((a, b) => a - b);
      for (const i of indices) out.push({ ...shards.get(i)!.id });
    }
    return Promise.resolve(out);
  }

  /** Whether the stored bytes still hash to the stored checksum (`false` when absent). */
  verify(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<boolean> {
    options.signal?.throwIfAborted();
    const entry = this.#byTessera.get(tesseraId)?.get(index);
    if (!entry) return Promise.resolve(false);
    return Promise.resolve(blake3Hex(entry.data) === entry.id.checksum);
  }

  /** Total bytes of all shards held. */
  totalBytes(options: IoOptions = {}): Promise<number> {
    options.signal?.throwIfAborted();
    return Promise.resolve(this.#total);
  }

  /** Capacity minus bytes held (unlimited by default). */
  freeSpace(): number {
    return this.#capacity - this.#total;
  }

  /**
   * Fault injection: flip one byte of a stored shard without touching its
   * checksum, as silent disk corruption would. Returns `false` when absent.
   */
  corrupt(tesseraId: TesseraId, index: number, offset = 0): boolean {
    const entry = this.#byTessera.get(tesseraId)?.get(index);
    if (!entry || entry.data.length === 0) return false;
    entry.data[offset % entry.data.length] ^= 0xff;
    return true;
  }

  /** Fault injection: forget everything, as a wiped disk would. */
  clear(): void {
    this.#byTessera.clear();
    this.#total = 0;
  }
}
