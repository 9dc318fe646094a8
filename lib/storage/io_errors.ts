/**
 * Translation of operating-system and SQLite failures into
 * `TesserasError`s, so that callers see `INSUFFICIENT_SPACE` for a full
 * disk whether the file write or the database commit hit it.
 *
 * @module
 */
import { type IoOptions, TesserasError } from "../core/mod.ts";

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_FULL = 13;

/**
 * True when `err` says the disk (or the file system quota) is full.
 *
 * @example
 * ```ts
 * declare const p: string;
 * declare const bytes: Uint8Array;
 * try { await Deno.writeFile(p, bytes); } catch (e) { if (isNoSpace(e)) {} }
 * ```
 */
export function isNoSpace(err: unknown): boolean {
  if (err instanceof TesserasError) return err.code === "INSUFFICIENT_SPACE";
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; errcode?: unknown };
  if (e.code === "ENOSPC" || e.code === "EDQUOT") return true;
  if (typeof e.errcode === "number" && (e.errcode & 0xff) === SQLITE_FULL) {
    return true;
  }
  return /os error 28\b|No space left on device|disk is full/i.test(e.message);
}

// Deno's node:sqlite errors carry only `code: "ERR_SQLITE_ERROR"` and the
// message (no `errcode`), so the message is checked as well.
function isBusy(err: Error): boolean {
  const errcode = (err as { errcode?: unknown }).errcode;
  if (typeof errcode === "number") {
    return (errcode & 0xff) === SQLITE_BUSY ||
      (errcode & 0xff) === SQLITE_LOCKED;
  }
  return /database (table )?is locked|database is busy/i.test(err.message);
}

/**
 * True when `err` is a "file not found" from `Deno` file APIs.
 *
 * @example
 * ```ts
 * declare const p: string;
 * try { await Deno.stat(p); } catch (e) { if (!isNotFound(e)) throw e; }
 * ```
 */
export function isNotFound(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound ||
    (err instanceof Error && (err as { code?: unknown }).code === "ENOENT");
}

/**
 * `err` as a `TesserasError`: an abort reason and an existing
 * `TesserasError` (and any non-`Error` value) pass through unchanged, a full disk becomes
 * `INSUFFICIENT_SPACE`, a locked database and anything else
 * `STORAGE_ERROR`. `what` says what was being done, e.g. `"storing shard 3
 * of <id>"`.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const sql: string;
 * try { db.exec(sql); } catch (e) { throw storageError(e, "migrating"); }
 * ```
 */
export function storageError(err: unknown, what: string): unknown {
  if (err instanceof TesserasError) return err;
  // Abort reasons (any value a caller chose, DOMException by default) pass
  // through untouched so `signal.reason` reaches the caller as given.
  if (!(err instanceof Error)) return err;
  if (err instanceof DOMException && err.name === "AbortError") return err;
  if (err instanceof DOMException && err.name === "TimeoutError") return err;
  const detail = err.message;
  if (isNoSpace(err)) {
    return new TesserasError(
      "INSUFFICIENT_SPACE",
      `${what}: the disk is full (${detail}); free some space or move the data directory`,
      { cause: err },
    );
  }
  if (isBusy(err)) {
    return new TesserasError(
      "STORAGE_ERROR",
      `${what}: the database stayed locked by another process (${detail}); is a second tesseras using the same data directory?`,
      { cause: err },
    );
  }
  return new TesserasError("STORAGE_ERROR", `${what}: ${detail}`, {
    cause: err,
  });
}

/**
 * Run a synchronous storage call (SQLite calls are short and blocking)
 * as a promise: its result resolves it, and what it throws rejects it
 * through {@linkcode storageError}. An aborted `signal` stops the call
 * from starting; nothing can stop it midway.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const sql: string;
 * declare const signal: AbortSignal;
 * const n = await runStorage("counting peers", () => db.prepare(sql).get(), { signal });
 * ```
 */
export function runStorage<T>(
  what: string,
  fn: () => T,
  options: IoOptions = {},
): Promise<T> {
  try {
    options.signal?.throwIfAborted();
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(storageError(err, what));
  }
}
