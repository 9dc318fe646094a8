/**
 * The outboard file beside each shard file (`{index:03}.obao`, see
 * docs/proofs.md): written with the shard, read for chunk proofs and
 * fetches, rebuilt from the shard when missing or damaged.
 *
 * A shard of one group has an empty outboard, kept as no file at all.
 * The outboard is renamed into place before the shard and removed after
 * it, so the shard's row (the store's commit point) never exists without
 * its outboard unless something outside the store removed it; that case
 * is healed on the next read.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  type Checksum,
  fromHex,
  type IoOptions,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import {
  checkOutboard,
  ChunkTree,
  fileReadAt,
  type GroupProof,
  outboardOfFile,
  proveGroups,
  verifyGroupProofs,
} from "../codec/mod.ts";
import {
  removeQuietly,
  syncDir,
  tempPathFor,
  writeAndSync,
} from "./atomic_file.ts";
import { isNotFound, storageError } from "./io_errors.ts";

const log = getLogger(["tesseras", "storage"]);

/** Where a shard and its outboard live, and what the shard's row says. */
export interface ShardFiles {
  /** The shard file. */
  readonly shard: string;
  /** Its outboard file. */
  readonly outboard: string;
  /** The directory holding both (fsynced after a rebuild). */
  readonly dir: string;
  /** The row's checksum. */
  readonly checksum: Checksum;
  /** The row's size. */
  readonly size: number;
}

/** Options of {@linkcode writeOutboardFile}. */
export interface OutboardWriteOptions extends IoOptions {
  /** Temp files being written: the scan must not call them stray. */
  readonly inFlight: Set<string>;
}

/**
 * Write `bytes` as the outboard at `path`: temp file, fsync, rename (the
 * caller fsyncs the directory with the shard's rename). An empty
 * outboard removes any file instead.
 */
export async function writeOutboardFile(
  path: string,
  bytes: Uint8Array,
  options: OutboardWriteOptions,
): Promise<void> {
  if (bytes.length === 0) {
    await removeQuietly(path);
    return;
  }
  const tmp = tempPathFor(path);
  options.inFlight.add(tmp);
  try {
    await writeAndSync(tmp, bytes, { signal: options.signal });
    options.signal?.throwIfAborted();
    await Deno.rename(tmp, path);
  } catch (err) {
    await removeQuietly(tmp);
    throw storageError(err, `writing the outboard ${path}`);
  } finally {
    options.inFlight.delete(tmp);
  }
}

/**
 * The outboard at `path` when it has the length a shard of `size` bytes
 * needs (for a one-group shard: none, whether or not a file exists),
 * else `null` (missing, truncated or too long).
 */
export async function readOutboardFile(
  path: string,
  size: number,
): Promise<Uint8Array | null> {
  const want = new ChunkTree(size).outboardBytes;
  if (want === 0) return new Uint8Array(0);
  try {
    const bytes = await Deno.readFile(path);
    return bytes.length === want ? bytes : null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw storageError(err, `reading the outboard ${path}`);
  }
}

/**
 * Rebuild the outboard of `files.shard` and write it. Throws
 * `CHECKSUM_MISMATCH` (writing nothing) when the shard itself no longer
 * hashes to its checksum or size: then the shard is what is damaged.
 */
export async function rebuildOutboard(
  files: ShardFiles,
  options: OutboardWriteOptions,
): Promise<Uint8Array> {
  const built = await outboardOfFile(files.shard, options).catch((err) => {
    throw storageError(err, `hashing ${files.shard}`);
  });
  if (toHex(built.root) !== files.checksum || built.size !== files.size) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `${files.shard} no longer hashes to its checksum ${files.checksum} (${built.size} of ${files.size} bytes): the shard is damaged; delete it and let repair re-place it`,
    );
  }
  await writeOutboardFile(files.outboard, built.outboard, options);
  await syncDir(files.dir);
  log.warn("rebuilt the outboard {path}", { path: files.outboard });
  return built.outboard;
}

/**
 * The outboard of a held shard, rebuilt first when it is missing or of
 * the wrong length; checked against the checksum (a damaged outboard is
 * rebuilt too).
 */
export async function loadOutboard(
  files: ShardFiles,
  options: OutboardWriteOptions,
): Promise<Uint8Array> {
  const stored = await readOutboardFile(files.outboard, files.size);
  if (stored !== null) {
    try {
      checkOutboard(stored, {
        size: files.size,
        checksum: fromHex(files.checksum),
      });
      return stored;
    } catch {
      // Damaged: fall through and rebuild it from the shard.
    }
  }
  return await rebuildOutboard(files, options);
}

/**
 * Chunk proofs of `groups` from the files, with their groups' chaining
 * values, checked against the row's checksum before they leave: an answer that fails here would be counted
 * against us as a lie. A failure rebuilds the outboard and proves once
 * more; when that fails too, the shard is damaged (`CHECKSUM_MISMATCH`:
 * the caller reports it as corrupt, to be re-placed).
 */
export async function proveFromFiles(
  files: ShardFiles,
  groups: readonly number[],
  options: OutboardWriteOptions,
): Promise<{ proofs: GroupProof[]; cvs: Uint8Array[] }> {
  const target = {
    size: files.size,
    checksum: fromHex(files.checksum),
    groups,
  };
  for (let attempt = 0;; attempt++) {
    try {
      const proofs = await proveOnce(files, groups);
      // The check's chaining values are what the holder signs.
      const cvs = verifyGroupProofs(proofs, target);
      return { proofs, cvs };
    } catch (err) {
      if (err instanceof TesserasError && err.code === "INVALID_INPUT") {
        throw err;
      }
      if (attempt > 0) {
        throw new TesserasError(
          "CHECKSUM_MISMATCH",
          `cannot prove groups of ${files.shard} against its checksum: the shard is damaged`,
          { cause: err },
        );
      }
      await rebuildOutboard(files, options);
    }
  }
}

async function proveOnce(
  files: ShardFiles,
  groups: readonly number[],
): Promise<GroupProof[]> {
  using shard = await Deno.open(files.shard, { read: true });
  let outboard: Deno.FsFile | null = null;
  try {
    outboard = new ChunkTree(files.size).outboardBytes === 0
      ? null
      : await Deno.open(files.outboard, { read: true });
    const empty = { read: () => Promise.resolve(new Uint8Array(0)) };
    return await proveGroups({
      size: files.size,
      shard: fileReadAt(shard),
      outboard: outboard ? fileReadAt(outboard) : empty,
    }, groups);
  } finally {
    outboard?.close();
  }
}
