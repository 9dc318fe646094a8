/**
 * The owner's own tessera bytes as files `{root}/{id}.blob`, each written
 * atomically (temp file, fsync, rename, fsync of the directory).
 *
 * @module
 */
import { join } from "node:path";
import {
  assertTesseraId,
  type BlobStore,
  type IoOptions,
  isTesseraId,
  MAX_TESSERA_SIZE,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { ensureDir, isTempName, writeFileAtomic } from "./atomic_file.ts";
import { isNotFound, storageError } from "./io_errors.ts";

/** Options of {@linkcode FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding the `.blob` files. */
  readonly root: string;
}

const BLOB = /^([0-9a-f]{64})\.blob$/;

/**
 * The file implementation of the `BlobStore` port. Ids are checked (64
 * lowercase hex) before any path is built, so no id can reach outside
 * `root`.
 *
 * @example
 * ```ts
 * const blobs = new FsBlobStore({ root: `${dataDir}/blobs` });
 * await blobs.put(id, bytes);
 * (await blobs.get(id))?.length;
 * ```
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;

  /** @param options where the blobs live */
  constructor(options: FsBlobStoreOptions) {
    this.#root = options.root;
  }

  /** The directory holding the blobs. */
  get root(): string {
    return this.#root;
  }

  /** The file path of blob `id` (whether or not it exists). */
  blobPath(id: TesseraId): string {
    assertTesseraId(id);
    return join(this.#root, `${id}.blob`);
  }

  /**
   * Stores the bytes atomically (replacing any previous blob with this
   * id). A full disk rejects `INSUFFICIENT_SPACE` and leaves no file.
   */
  async put(
    id: TesseraId,
    data: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    const path = this.blobPath(id);
    if (data.length > MAX_TESSERA_SIZE) {
      throw new TesserasError(
        "TOO_LARGE",
        `blob is ${data.length} bytes; the limit is ${MAX_TESSERA_SIZE} bytes (1 GiB)`,
      );
    }
    options.signal?.throwIfAborted();
    await ensureDir(this.#root);
    await writeFileAtomic(path, data, { signal: options.signal });
  }

  /** The bytes, or `null` when absent. */
  async get(
    id: TesseraId,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    const path = this.blobPath(id);
    try {
      return await Deno.readFile(path, { signal: options.signal });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError(err, `reading blob ${id}`);
    }
  }

  /** Whether the blob exists. */
  async has(id: TesseraId, options: IoOptions = {}): Promise<boolean> {
    const path = this.blobPath(id);
    options.signal?.throwIfAborted();
    try {
      return (await Deno.stat(path)).isFile;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storageError(err, `checking blob ${id}`);
    }
  }

  /** Removes the blob (no error when absent). */
  async delete(id: TesseraId, options: IoOptions = {}): Promise<void> {
    const path = this.blobPath(id);
    options.signal?.throwIfAborted();
    try {
      await Deno.remove(path);
    } catch (err) {
      if (!isNotFound(err)) throw storageError(err, `deleting blob ${id}`);
    }
  }

  /** Ids of all blobs, sorted; temp files and foreign files are ignored. */
  async list(options: IoOptions = {}): Promise<TesseraId[]> {
    const ids: TesseraId[] = [];
    try {
      for await (const e of Deno.readDir(this.#root)) {
        options.signal?.throwIfAborted();
        const m = BLOB.exec(e.name);
        if (e.isFile && m && isTesseraId(m[1])) ids.push(m[1]);
      }
    } catch (err) {
      if (isNotFound(err)) return [];
      throw storageError(err, `listing blobs in ${this.#root}`);
    }
    return ids.sort();
  }

  /**
   * Removes temp files left by interrupted `put`s; returns how many. Run
   * at start, before any `put`.
   */
  async removeStrayTempFiles(options: IoOptions = {}): Promise<number> {
    let removed = 0;
    try {
      for await (const e of Deno.readDir(this.#root)) {
        options.signal?.throwIfAborted();
        if (e.isFile && isTempName(e.name)) {
          await Deno.remove(join(this.#root, e.name)).then(
            () => removed++,
            () => {},
          );
        }
      }
    } catch (err) {
      if (!isNotFound(err)) {
        throw storageError(err, `cleaning ${this.#root}`);
      }
    }
    return removed;
  }
}
