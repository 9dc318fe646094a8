/**
 * `tesseras verify`: checks a stopped node's data directory — every shard
 * file against its row and checksum, every row against its file — and
 * reports each inconsistency.
 *
 * @module
 */
import {
  FsFragmentStore,
  openDatabase,
  type ScanReport,
} from "../storage/mod.ts";
import { acquireDaemonLock } from "./lock.ts";
import { dataLayout } from "./paths.ts";

/** Options of {@linkcode verifyDataDir}. */
export interface VerifyOptions {
  /** Remove stray temp files and shard files without a row. */
  readonly repair?: boolean;
  /** Cancels the scan. */
  readonly signal?: AbortSignal;
}

/**
 * Scans the data directory's fragment store. Throws `ALREADY_RUNNING`
 * while a daemon uses the directory (its writes in flight would look like
 * inconsistencies).
 *
 * @example
 * ```ts
 * const report = await verifyDataDir("/srv/tesseras");
 * if (report.issues.length > 0) Deno.exit(1);
 * ```
 */
export async function verifyDataDir(
  dataDir: string,
  options: VerifyOptions = {},
): Promise<ScanReport> {
  const layout = dataLayout(dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  const lock = acquireDaemonLock(layout.lock);
  try {
    const db = await openDatabase(layout.database);
    try {
      const store = new FsFragmentStore(db, { root: layout.fragments });
      return await store.verifyAll({
        repair: options.repair ?? false,
        signal: options.signal,
      });
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}
