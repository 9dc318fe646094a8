/**
 * One daemon per data directory. The lock is an SQLite database held in
 * exclusive locking mode: the operating system releases it when the
 * process dies, even by `kill -9`, so a crash never leaves a stale lock.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { TesserasError } from "../core/mod.ts";

/** A held data-directory lock. */
export interface DaemonLock {
  /** Release the lock. */
  release(): void;
}

/**
 * Takes the exclusive lock at `path`, or throws `ALREADY_RUNNING` at once
 * when another process holds it.
 *
 * @example
 * ```ts
 * const lock = acquireDaemonLock("/tmp/t/daemon.lock");
 * lock.release();
 * ```
 */
export function acquireDaemonLock(path: string): DaemonLock {
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    // In exclusive locking mode the lock taken by BEGIN EXCLUSIVE is kept
    // after COMMIT. Nothing is written, so the lock works on a full disk.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (err) {
    db.close();
    if (String(err).includes("locked") || String(err).includes("busy")) {
      throw new TesserasError(
        "ALREADY_RUNNING",
        `another tesseras daemon is already using this data directory (lock ${path}); stop it first or pass a different --data-dir`,
        { cause: err },
      );
    }
    throw err;
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
