/**
 * `tesseras verify`: checks a stopped node's data directory — every shard
 * file against its row and checksum, every row against its file — and
 * reports each inconsistency.
 *
 * @module
 */
import {
  FsFragmentStore,
  type LedgerReconciliation,
  openDatabase,
  type ScanReport,
} from "../storage/mod.ts";
import { acquireDaemonLock } from "./lock.ts";
import { type DataLayout, dataLayout } from "./paths.ts";
import { TesserasError } from "../core/mod.ts";

/** What `tesseras verify` found. */
export interface VerifyReport extends ScanReport {
  /**
   * The reciprocity ledger against the shards held: every peer's
   * `bytes_stored_for_them` must equal the bytes of the shards it sent.
   */
  readonly ledger: LedgerReconciliation;
}

/** Options of {@linkcode verifyDataDir}. */
export interface VerifyOptions {
  /** Remove stray temp files and shard files without a row. */
  readonly repair?: boolean;
  /** Cancels the scan. */
  readonly signal?: AbortSignal;
}

/**
 * Scans the data directory's fragment store and checks the ledger against
 * the shards held. Throws `ALREADY_RUNNING`
 * while a daemon uses the directory (its writes in flight would look like
 * inconsistencies), and `NOT_FOUND`, creating nothing, when the directory
 * is not a node's (no database: a mistyped `--data-dir`).
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
): Promise<VerifyReport> {
  const layout = dataLayout(dataDir);
  await assertNodeDataDir(dataDir, layout);
  const lock = acquireDaemonLock(layout.lock);
  try {
    const db = await openDatabase(layout.database);
    try {
      const store = new FsFragmentStore(db, { root: layout.fragments });
      const scan = await store.verifyAll({
        repair: options.repair ?? false,
        signal: options.signal,
      });
      const ledger = await store.reconcileLedger({
        repair: options.repair ?? false,
        signal: options.signal,
      });
      return { ...scan, ledger };
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * A node's data directory has its database; anything else (a typo, an
 * empty folder) is refused before the lock or the database would create
 * files there and report a clean bill of health for nothing.
 */
async function assertNodeDataDir(
  dataDir: string,
  layout: DataLayout,
): Promise<void> {
  const info = await Deno.stat(layout.database).catch(() => null);
  if (info?.isFile) return;
  throw new TesserasError(
    "NOT_FOUND",
    `${dataDir} is not a tesseras data directory (it has no db/tesseras.db): check --data-dir or TESSERAS_DATA_DIR`,
  );
}
