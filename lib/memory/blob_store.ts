/**
 * An in-memory {@linkcode BlobStore} for unit tests and the simulator,
 * with the whole port: ranged reads and staging areas in memory, so the
 * replication layer runs the same byte path on it as on the daemon's
 * files.
 *
 * @module
 */
import {
  type BlobStore,
  type ByteRange,
  type ImportOptions,
  type IoOptions,
  type ShardStaging,
  type StagedCopy,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { importedHashes, SlicedHash, statImportSource } from "../codec/mod.ts";

/**
 * The owner's tessera bytes in a map.
 *
 * @example
 * ```ts
 * import { MemoryBlobStore } from "./blob_store.ts";
 * const blobs = new MemoryBlobStore();
 * const id = "ab".repeat(32);
 * await blobs.put(id, new Uint8Array([1, 2, 3]));
 * await blobs.readRange(id, { offset: 1, length: 5 }); // [2, 3]
 * ```
 */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<TesseraId, Uint8Array>();
  readonly #copy: boolean;

  /**
   * An empty store.
   *
   * @param options `copy` (default `true`) copies bytes in and out;
   *   without it, `get` and `readRange` hand out views of the stored bytes
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

  /** The blob's size, or `null`. */
  size(id: TesseraId, options: IoOptions = {}): Promise<number | null> {
    options.signal?.throwIfAborted();
    return Promise.resolve(this.#blobs.get(id)?.length ?? null);
  }

  /** Up to `range.length` bytes from `range.offset`, or `null`. */
  readRange(
    id: TesseraId,
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    return settle(() => {
      options.signal?.throwIfAborted();
      const data = this.#blobs.get(id);
      if (!data) return null;
      const part = sliceOf(data, range);
      return this.#copy ? part.slice() : part;
    });
  }

  /** A fresh staging area in memory. */
  openStaging(options: IoOptions = {}): Promise<ShardStaging> {
    options.signal?.throwIfAborted();
    return Promise.resolve(
      new MemoryStaging((id, data) => void this.#blobs.set(id, data)),
    );
  }
}

/** The bytes of `range` in `data`, clipped at its end (a view). */
function sliceOf(data: Uint8Array, range: ByteRange): Uint8Array {
  const { offset, length } = range;
  if (
    !Number.isSafeInteger(offset) || offset < 0 ||
    !Number.isSafeInteger(length) || length < 0
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid byte range ${offset}+${length}`,
    );
  }
  return data.subarray(Math.min(offset, data.length), offset + length);
}

/**
 * One staging area in memory: appended pieces are copied (callers reuse
 * their buffers) and joined into one buffer on the first read.
 */
class MemoryStaging implements ShardStaging {
  readonly #shards = new Map<number, Uint8Array[]>();
  readonly #commit: (id: TesseraId, data: Uint8Array) => void;
  #imported: Uint8Array | null = null;
  #removed = false;

  constructor(commit: (id: TesseraId, data: Uint8Array) => void) {
    this.#commit = commit;
  }

  #live(options: IoOptions): void {
    options.signal?.throwIfAborted();
    if (this.#removed) {
      throw new TesserasError("INVALID_INPUT", "staging area was removed");
    }
  }

  async importFile(
    source: string,
    options: ImportOptions = {},
  ): Promise<StagedCopy> {
    this.#live(options);
    const { size: statSize } = await statImportSource(source, options);
    const slices = options.slices?.(statSize);
    try {
      this.#imported = await Deno.readFile(source, { signal: options.signal });
    } catch (err) {
      options.signal?.throwIfAborted();
      throw new TesserasError("NOT_FOUND", `cannot read ${source}: ${err}`);
    }
    const size = this.#imported.length;
    if (!options.hash && !slices) return { size };
    const hasher = new SlicedHash(slices);
    hasher.update(this.#imported);
    return { size, ...importedHashes(hasher.digest(), options.hash) };
  }

  readImported(
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array> {
    return settle(() => {
      this.#live(options);
      if (!this.#imported) {
        throw new TesserasError(
          "NOT_FOUND",
          "no imported file to read: call importFile first",
        );
      }
      return sliceOf(this.#imported, range);
    });
  }

  append(
    index: number,
    bytes: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    return settle(() => {
      this.#live(options);
      const pieces = this.#shards.get(index);
      if (pieces) pieces.push(bytes.slice());
      else this.#shards.set(index, [bytes.slice()]);
    });
  }

  read(
    index: number,
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array> {
    return settle(() => {
      this.#live(options);
      const pieces = this.#shards.get(index);
      if (!pieces) {
        throw new TesserasError(
          "NOT_FOUND",
          `shard ${index} was never staged in this area`,
        );
      }
      if (pieces.length > 1) pieces.splice(0, pieces.length, joined(pieces));
      return sliceOf(pieces[0], range);
    });
  }

  commitBlob(id: TesseraId, options: IoOptions = {}): Promise<void> {
    return settle(() => {
      this.#live(options);
      if (!this.#imported) {
        throw new TesserasError(
          "NOT_FOUND",
          "no imported file to commit: call importFile first",
        );
      }
      this.#commit(id, this.#imported);
      this.#imported = null;
    });
  }

  remove(): Promise<void> {
    return settle(() => {
      this.#removed = true;
      this.#shards.clear();
      this.#imported = null;
    });
  }
}

/** The pieces as one buffer. */
function joined(pieces: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of pieces) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `fn`'s result as a promise; what it throws, as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
