/**
 * The owner's own tessera bytes as files `{root}/{id}.blob`, each written
 * atomically (temp file, fsync, rename, fsync of the directory), with the
 * streaming side of the port: sizes, ranged reads and staging areas
 * `{root}/.staging/{random}/` for puts, repairs and retrievals (removed at
 * start by `removeStrayTempFiles`); also each blob's file path.
 *
 * @module
 */
import { join } from "node:path";
import {
  assertTesseraId,
  type BlobStore,
  type ByteRange,
  type ImportOptions,
  type ImportSlices,
  type IoOptions,
  isTesseraId,
  type LocalFile,
  MAX_TESSERA_SIZE,
  type ShardStaging,
  type StagedCopy,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import {
  copyFileHashed,
  hashFileSliced,
  importedHashes,
  statImportSource,
} from "../codec/mod.ts";
import {
  ensureDir,
  isTempName,
  removeQuietly,
  syncDir,
  syncFile,
  writeFileAtomic,
} from "./atomic_file.ts";
import { isNotFound, storageError } from "./io_errors.ts";

/** A staging area of {@linkcode FsBlobStore}: its imported copy is a file. */
export interface FileStaging extends ShardStaging {
  /** As {@linkcode ShardStaging.importFile}; resolves with the copy's file. */
  importFile(
    source: string,
    options?: ImportOptions,
  ): Promise<LocalFile & StagedCopy>;
}

/** Options of {@linkcode FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding the `.blob` files. */
  readonly root: string;
}

const BLOB = /^([0-9a-f]{64})\.blob$/;
/** Staging areas live here, beside the blobs (same file system: renames). */
const STAGING = ".staging";

/**
 * The file implementation of the `BlobStore` port. Ids are checked (64
 * lowercase hex) before any path is built, so no id can reach outside
 * `root`.
 *
 * @example
 * ```ts
 * declare const dataDir: string;
 * declare const id: string;
 * declare const bytes: Uint8Array;
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

  /** The blob's file (path and size), or `null` when absent. */
  async blobFile(
    id: TesseraId,
    options: IoOptions = {},
  ): Promise<LocalFile | null> {
    const path = this.blobPath(id);
    options.signal?.throwIfAborted();
    try {
      const info = await Deno.stat(path);
      return info.isFile ? { path, size: info.size } : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError(err, `checking blob ${id}`);
    }
  }

  /** The blob's size in bytes, or `null` when absent. */
  async size(id: TesseraId, options: IoOptions = {}): Promise<number | null> {
    return (await this.blobFile(id, options))?.size ?? null;
  }

  /**
   * Up to `range.length` bytes of the blob from `range.offset` (fewer at
   * its end), or `null` when absent.
   */
  async readRange(
    id: TesseraId,
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    const path = this.blobPath(id);
    options.signal?.throwIfAborted();
    try {
      return await readRangeOf(path, range);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError(err, `reading blob ${id}`);
    }
  }

  /**
   * A fresh staging area `{root}/.staging/{random}/`; remove it when
   * done. Its `commitBlob` renames the imported copy to `{id}.blob`.
   */
  async openStaging(options: IoOptions = {}): Promise<FileStaging> {
    options.signal?.throwIfAborted();
    const dir = join(this.#root, STAGING, crypto.randomUUID());
    await ensureDir(dir);
    return new FsStaging(dir, (id) => this.blobPath(id));
  }

  /**
   * Removes temp files left by interrupted `put`s and staging areas left
   * by interrupted streaming operations; returns how many. Run at start,
   * before any `put`.
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
    try {
      for await (const e of Deno.readDir(join(this.#root, STAGING))) {
        options.signal?.throwIfAborted();
        await Deno.remove(join(this.#root, STAGING, e.name), {
          recursive: true,
        }).then(() => removed++, () => {});
      }
    } catch (err) {
      if (!isNotFound(err)) {
        throw storageError(err, `cleaning ${join(this.#root, STAGING)}`);
      }
    }
    return removed;
  }
}

async function readRangeOf(
  path: string,
  range: ByteRange,
): Promise<Uint8Array> {
  if (
    !Number.isSafeInteger(range.offset) || range.offset < 0 ||
    !Number.isSafeInteger(range.length) || range.length < 0
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid byte range ${range.offset}+${range.length}`,
    );
  }
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const n = Math.max(0, Math.min(range.length, size - range.offset));
  const out = new Uint8Array(n);
  if (n === 0) return out;
  await file.seek(range.offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = await file.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return got === n ? out : out.subarray(0, got);
}

/**
 * One staging area: `source` (the imported copy) and `{index}.shard`
 * files, appended through handles kept open until `remove`.
 */
class FsStaging implements FileStaging {
  readonly #dir: string;
  readonly #blobPath: (id: TesseraId) => string;
  readonly #writers = new Map<number, Promise<Deno.FsFile>>();
  /** The imported copy's flush, started when the copy is whole. */
  #flushing: Promise<void> | null = null;
  #removed = false;

  constructor(dir: string, blobPath: (id: TesseraId) => string) {
    this.#dir = dir;
    this.#blobPath = blobPath;
  }

  get #source(): string {
    return join(this.#dir, "source");
  }

  #shard(index: number): string {
    if (!Number.isSafeInteger(index) || index < 0 || index > 255) {
      throw new TesserasError("INVALID_INPUT", `invalid shard index ${index}`);
    }
    return join(this.#dir, `${String(index).padStart(3, "0")}.shard`);
  }

  #live(): void {
    if (this.#removed) {
      throw new TesserasError(
        "INVALID_INPUT",
        `staging area ${this.#dir} was removed`,
      );
    }
  }

  async importFile(
    source: string,
    options: ImportOptions = {},
  ): Promise<LocalFile & StagedCopy> {
    this.#live();
    options.signal?.throwIfAborted();
    const dest = this.#source;
    const { size } = await statImportSource(source, options);
    const slices = options.slices?.(size);
    // A file given up is renamed (no second write of its size); across
    // file systems the rename fails and it is copied as any other.
    const moved = options.move === true &&
      await Deno.rename(source, dest).then(() => true, () => false);
    if (!moved) return await this.#copyIn(source, { ...options, slices });
    try {
      if (!options.hash && !slices) {
        return { path: dest, size: (await Deno.stat(dest)).size };
      }
      const hashed = await hashFileSliced(dest, { ...options, slices });
      return {
        path: dest,
        size: hashed.size,
        ...importedHashes(hashed, options.hash),
      };
    } catch (err) {
      throw storageError(err, `reading the moved copy of ${source}`);
    }
  }

  /** `source` copied to the imported copy, hashed on the way, its flush begun. */
  async #copyIn(
    source: string,
    options: IoOptions & {
      readonly maxBytes?: number;
      readonly hash?: boolean;
      readonly slices: ImportSlices | undefined;
    },
  ): Promise<LocalFile & StagedCopy> {
    const dest = this.#source;
    try {
      // Flushed in the background, awaited by the commit: the encode runs
      // while the disk catches up.
      const hashed = await copyFileHashed(source, dest, options);
      this.#flushing = flushFile(dest);
      return {
        path: dest,
        size: hashed.size,
        ...importedHashes(hashed, options.hash),
      };
    } catch (err) {
      await removeQuietly(dest);
      if (err instanceof TesserasError || options.signal?.aborted) throw err;
      if (isNotFound(err)) {
        throw new TesserasError("NOT_FOUND", `cannot read ${source}: ${err}`);
      }
      throw storageError(err, `copying ${source}`);
    }
  }

  async readImported(
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array> {
    this.#live();
    options.signal?.throwIfAborted();
    try {
      return await readRangeOf(this.#source, range);
    } catch (err) {
      if (isNotFound(err)) {
        throw new TesserasError(
          "NOT_FOUND",
          "no imported file to read: call importFile first",
        );
      }
      throw storageError(err, "reading the imported copy");
    }
  }

  async append(
    index: number,
    bytes: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    this.#live();
    options.signal?.throwIfAborted();
    const path = this.#shard(index);
    let opening = this.#writers.get(index);
    if (!opening) {
      opening = Deno.open(path, { write: true, create: true, append: true });
      this.#writers.set(index, opening);
    }
    try {
      const f = await opening;
      // write() may take fewer bytes than given (a nearly full disk).
      for (let at = 0; at < bytes.length;) {
        at += await f.write(bytes.subarray(at));
      }
    } catch (err) {
      throw storageError(err, `staging shard ${index}`);
    }
  }

  async read(
    index: number,
    range: ByteRange,
    options: IoOptions = {},
  ): Promise<Uint8Array> {
    this.#live();
    options.signal?.throwIfAborted();
    const path = this.#shard(index);
    try {
      return await readRangeOf(path, range);
    } catch (err) {
      if (isNotFound(err)) {
        throw new TesserasError(
          "NOT_FOUND",
          `shard ${index} was never staged in ${this.#dir}`,
        );
      }
      throw storageError(err, `reading staged shard ${index}`);
    }
  }

  async commitBlob(id: TesseraId, options: IoOptions = {}): Promise<void> {
    this.#live();
    options.signal?.throwIfAborted();
    const dest = this.#blobPath(id);
    try {
      await (this.#flushing ?? flushFile(this.#source));
      this.#flushing = null;
      await Deno.rename(this.#source, dest);
    } catch (err) {
      if (isNotFound(err)) {
        throw new TesserasError(
          "NOT_FOUND",
          "no imported file to commit: call importFile first",
        );
      }
      throw storageError(err, `storing blob ${id}`);
    }
    await syncDir(join(dest, ".."));
  }

  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    await this.#flushing?.catch(() => {});
    const writers = [...this.#writers.values()];
    this.#writers.clear();
    for (const w of await Promise.allSettled(writers)) {
      if (w.status === "fulfilled") {
        try {
          w.value.close();
        } catch { /* already closed */ }
      }
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Flush the file at `path` to disk. The promise is handled at once (a
 * flush started ahead may never be awaited when the operation fails
 * before its commit); awaiting it still rejects on a failed flush.
 */
function flushFile(path: string): Promise<void> {
  const flushed = syncFile(path);
  flushed.catch(() => {});
  return flushed;
}
