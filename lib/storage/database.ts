/**
 * Opening the node's SQLite database: WAL, foreign keys, a busy timeout,
 * and the schema migrations applied once each, in order, one transaction
 * per migration, recorded in `schema_migrations`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { getLogger } from "@logtape/logtape";
import { type Clock, type IoOptions, TesserasError } from "../core/mod.ts";
import { type Migration, MIGRATIONS } from "./migrations/mod.ts";
import { storageError } from "./io_errors.ts";

const log = getLogger(["tesseras", "storage"]);

/** The database handle every SQLite-backed store takes. */
export type Database = DatabaseSync;

/** Options of {@linkcode openDatabase}. */
export interface OpenDatabaseOptions extends IoOptions {
  /**
   * How long a statement waits for another connection's lock before
   * failing, ms (default 5000).
   */
  readonly busyTimeoutMs?: number;
  /**
   * `FULL` (default) makes every commit durable across a power loss;
   * `NORMAL` is faster and still never corrupts the file, but the last
   * commits may roll back after a power loss (not after a process crash).
   */
  readonly synchronous?: "FULL" | "NORMAL";
  /** The migrations to apply (default: {@linkcode MIGRATIONS}). */
  readonly migrations?: readonly Migration[];
  /** Time source for `applied_at` (default: wall clock). */
  readonly clock?: Pick<Clock, "now">;
}

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  /** The migration's version. */
  readonly version: number;
  /** The migration's file name. */
  readonly name: string;
  /** When it was applied, ms since the epoch. */
  readonly appliedAt: number;
}

const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  applied_at INTEGER NOT NULL
)`;

/**
 * Opens (creating it and its parent directories when needed) the SQLite
 * database at `path` and brings its schema up to date. `":memory:"` opens
 * a private in-memory database. Throws `STORAGE_ERROR` when the database
 * was written by a newer tesseras (it records a migration this build does
 * not know) or a migration fails; the handle is closed in that case.
 *
 * @example
 * ```ts
 * declare const dataDir: string;
 * const db = await openDatabase(`${dataDir}/db/tesseras.db`);
 * try {
 *   // … build the stores on `db` …
 * } finally {
 *   db.close();
 * }
 * ```
 */
export async function openDatabase(
  path: string,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const { signal, busyTimeoutMs = 5000, synchronous = "FULL" } = options;
  const migrations = options.migrations ?? MIGRATIONS;
  const clock = options.clock ?? { now: () => Date.now() };
  checkMigrationList(migrations);
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TesserasError(
      "INVALID_INPUT",
      `busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`,
    );
  }
  const db = await openHandle(path, signal);
  const setup = { path, busyTimeoutMs, synchronous, migrations, clock };
  // SQLite answers SQLITE_BUSY at once, without its busy handler, when two
  // connections race to switch a fresh file to WAL or to take the write
  // lock for a migration (deadlock avoidance). Both steps are idempotent
  // or transactional, so they are retried until the busy timeout.
  const deadline = Date.now() + busyTimeoutMs;
  for (let attempt = 0;; attempt++) {
    try {
      setUp(db, setup);
      return db;
    } catch (err) {
      if (isBusy(err) && Date.now() < deadline && !signal?.aborted) {
        await new Promise((r) =>
          setTimeout(r, Math.min(100, 5 * 2 ** attempt))
        );
        continue;
      }
      db.close();
      throw storageError(err, `opening database ${path}`);
    }
  }
}

/** The database's folder made, then the file opened (created when new). */
async function openHandle(
  path: string,
  signal: AbortSignal | undefined,
): Promise<DatabaseSync> {
  signal?.throwIfAborted();
  if (path !== ":memory:") {
    try {
      await Deno.mkdir(dirname(path), { recursive: true });
    } catch (err) {
      throw storageError(err, `creating the directory of database ${path}`);
    }
  }
  signal?.throwIfAborted();
  try {
    return new DatabaseSync(path);
  } catch (err) {
    throw storageError(err, `opening database ${path}`);
  }
}

/** What {@linkcode setUp} applies to a freshly opened handle. */
interface SetUp {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: "FULL" | "NORMAL";
  readonly migrations: readonly Migration[];
  readonly clock: Pick<Clock, "now">;
}

/**
 * The pragmas (busy timeout, foreign keys, WAL, synchronous) and the
 * migrations; throws SQLite's error as is, for the caller to retry a busy
 * one.
 */
function setUp(db: DatabaseSync, setup: SetUp): void {
  const { path, busyTimeoutMs, synchronous } = setup;
  // The busy timeout first: the WAL switch itself may wait for a lock.
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  db.exec("PRAGMA foreign_keys = ON");
  const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode;
  if (path !== ":memory:" && mode !== "wal") {
    log.warn(
      "database {path} is in journal mode {mode}, not WAL (file system without shared memory?)",
      { path, mode },
    );
  }
  db.exec(`PRAGMA synchronous = ${synchronous === "NORMAL" ? 1 : 2}`);
  migrate(db, path, setup.migrations, setup.clock);
}

/** Whether `err` is SQLite's "database is locked" (SQLITE_BUSY). */
function isBusy(err: unknown): boolean {
  const text = String((err as Error)?.message ?? err);
  return /database is locked|SQLITE_BUSY/i.test(text);
}

/**
 * The migrations recorded in `schema_migrations`, oldest first.
 *
 * @example
 * ```ts
 * declare const db: Database;
 * appliedMigrations(db).map((m) => m.name); // ["001_initial.sql", …]
 * ```
 */
export function appliedMigrations(db: Database): AppliedMigration[] {
  const rows = db.prepare(
    "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
  ).all();
  return rows.map((r) => ({
    version: Number(r.version),
    name: String(r.name),
    appliedAt: Number(r.applied_at),
  }));
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back when it
 * throws). `fn` is synchronous on purpose: no other code of this process
 * can interleave with the transaction.
 *
 * @example
 * ```ts
 * declare const db: Database;
 * withTransaction(db, () => { db.exec("DELETE FROM holders"); });
 * ```
 */
export function withTransaction<T>(db: Database, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    const prefix = String(m.version).padStart(3, "0") + "_";
    if (m.version !== i + 1 || !m.name.startsWith(prefix)) {
      throw new TesserasError(
        "INTERNAL",
        `migration list is malformed at position ${i}: ${m.name} (version ${m.version}); versions must be 1, 2, 3… and names start with their zero-padded version`,
      );
    }
  });
}

function migrate(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[],
  clock: Pick<Clock, "now">,
): void {
  db.exec(SCHEMA_TABLE);
  checkRecorded(db, path, migrations);
  const isApplied = db.prepare(
    "SELECT 1 AS x FROM schema_migrations WHERE version = ?",
  );
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  for (const m of migrations) {
    if (isApplied.get(m.version)) continue;
    try {
      withTransaction(db, () => {
        // Another process may have applied it while we waited for the lock.
        if (isApplied.get(m.version)) return;
        db.exec(m.sql);
        record.run(m.version, m.name, clock.now());
        db.exec(`PRAGMA user_version = ${m.version}`);
        log.info("applied migration {name} to {path}", { name: m.name, path });
      });
    } catch (err) {
      throw storageError(
        err,
        `migration ${m.name} failed on ${path} and was rolled back`,
      );
    }
  }
}

function checkRecorded(
  db: DatabaseSync,
  path: string,
  migrations: readonly Migration[],
): void {
  const recorded = appliedMigrations(db);
  const latest = migrations.at(-1)?.name ?? "none";
  for (const row of recorded) {
    const known = migrations[row.version - 1];
    if (known === undefined || known.name !== row.name) {
      throw new TesserasError(
        "STORAGE_ERROR",
        `database ${path} records migration ${row.name} (version ${row.version}), which this tesseras does not know (it knows up to ${latest}): it was written by a newer tesseras; upgrade tesseras or use another data directory`,
      );
    }
  }
  // A gap (a later migration recorded, an earlier one not) means the
  // schema was edited by hand; applying the missing one now would run
  // migrations out of order.
  const versions = new Set(recorded.map((r) => r.version));
  const highest = recorded.at(-1)?.version ?? 0;
  for (let v = 1; v <= highest; v++) {
    if (!versions.has(v)) {
      throw new TesserasError(
        "STORAGE_ERROR",
        `database ${path} records migration ${highest} but not ${v}: its schema history is inconsistent; restore it from a backup or use another data directory`,
      );
    }
  }
}
