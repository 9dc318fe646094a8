/**
 * Crash-safe file writes: bytes go to a temp file in the destination's
 * directory, are fsynced, renamed over the destination, and the directory
 * is fsynced, so after a crash the destination holds either nothing (or
 * its previous content) or the whole new content — never a prefix. A crash
 * may leave a temp file behind; {@linkcode isTempName} recognises it.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import type { IoOptions } from "../core/mod.ts";
import { isNotFound, storageError } from "./io_errors.ts";

const WRITE_CHUNK = 1 << 20;
const TEMP_SUFFIX = /\.tmp-[0-9a-f]{16}$/;

/** Options of {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions extends IoOptions {
  /** File mode of the new file (default 0o600; ignored on Windows). */
  readonly mode?: number;
}

/**
 * A fresh temp path beside `path`: `{path}.tmp-{16 random hex}`.
 *
 * @example
 * ```ts
 * tempPathFor("/d/007.shard"); // "/d/007.shard.tmp-9f…"
 * ```
 */
export function tempPathFor(path: string): string {
  const r = crypto.getRandomValues(new Uint8Array(8));
  const hex = Array.from(r, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${path}.tmp-${hex}`;
}

/**
 * True when a directory entry named `name` is a temp file left by an
 * interrupted atomic write.
 *
 * @example
 * ```ts
 * isTempName("007.shard.tmp-0123456789abcdef"); // true
 * ```
 */
export function isTempName(name: string): boolean {
  return TEMP_SUFFIX.test(name);
}

/**
 * Writes `data` to `path` atomically (temp file, fsync, rename, fsync of
 * the directory). On any failure, including an abort, the temp file is
 * removed and `path` is untouched; a full disk throws `INSUFFICIENT_SPACE`.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * await writeFileAtomic("/data/blobs/x.blob", bytes);
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { signal, mode = 0o600 } = options;
  signal?.throwIfAborted();
  const tmp = tempPathFor(path);
  try {
    await writeAndSync(tmp, data, { signal, mode });
    signal?.throwIfAborted();
    await Deno.rename(tmp, path);
  } catch (err) {
    await removeQuietly(tmp);
    throw storageError(err, `writing ${basename(path)}`);
  }
  await syncDir(dirname(path));
}

/**
 * Writes `data` to a new file `path` (which must not exist) and fsyncs
 * it. Deno's `write` may write fewer bytes than asked (it does on a full
 * disk), so this loops until everything is written or an error is thrown.
 *
 * @example
 * ```ts
 * import { tempPathFor } from "./atomic_file.ts";
 * declare const dest: string;
 * declare const bytes: Uint8Array;
 * await writeAndSync(tempPathFor(dest), bytes);
 * ```
 */
export async function writeAndSync(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { signal, mode = 0o600 } = options;
  using file = await Deno.open(path, { write: true, createNew: true, mode });
  let offset = 0;
  while (offset < data.length) {
    signal?.throwIfAborted();
    const end = Math.min(data.length, offset + WRITE_CHUNK);
    offset += await file.write(data.subarray(offset, end));
  }
  await file.sync();
}

/**
 * Fsyncs the file at `path` (written earlier, through another handle or
 * by another call), so what it holds survives a power loss. Errors are
 * the system's, unwrapped: the caller says what it was storing.
 *
 * @example
 * ```ts
 * await syncFile("/data/blobs/.staging/x/source");
 * ```
 */
export async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true, write: true });
  await file.sync();
}

/**
 * Fsyncs a directory so that a rename or a new entry in it survives a
 * power loss. Not possible on Windows (directories cannot be opened
 * there); a no-op in that case.
 *
 * @example
 * ```ts
 * await syncDir("/data/fragments");
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    using d = await Deno.open(dir, { read: true });
    await d.sync();
  } catch (err) {
    throw storageError(err, `syncing directory ${dir}`);
  }
}

/**
 * Creates `dir` (mode 0o700) when missing, and fsyncs its parent when it
 * was created so that the new entry is durable.
 *
 * @example
 * ```ts
 * await ensureDir("/data/fragments/ab…cd");
 * ```
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return;
    if (isNotFound(err)) {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 }).catch((e) => {
        throw storageError(e, `creating directory ${dir}`);
      });
    } else {
      throw storageError(err, `creating directory ${dir}`);
    }
  }
  await syncDir(dirname(dir));
}

/**
 * Removes a file, ignoring "not found" (and any other error: used on
 * cleanup paths that must not mask the original failure).
 *
 * @example
 * ```ts
 * declare const tmp: string;
 * await removeQuietly(tmp);
 * ```
 */
export async function removeQuietly(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch {
    return false;
  }
}
