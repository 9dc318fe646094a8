/**
 * The consistency scan behind `tesseras verify`: every shard file against
 * its row, every row against its file and checksum, and whatever else
 * lies in the fragment directory.
 *
 * @module
 */
import { join } from "node:path";
import { getLogger } from "@logtape/logtape";
import { type IoOptions, isTesseraId, type TesseraId } from "../core/mod.ts";
import { isTempName, removeQuietly } from "./atomic_file.ts";
import { bytesEqual, ChunkTree, outboardOfFile } from "../codec/mod.ts";
import { toHex } from "../core/mod.ts";
import { readOutboardFile, writeOutboardFile } from "./fragment_outboard.ts";
import type { Database } from "./database.ts";
import { isNotFound, storageError } from "./io_errors.ts";
import type { KeyedLock } from "../core/mod.ts";
import {
  outboardFileName,
  parseOutboardFileName,
  parseShardFileName,
  shardFileName,
} from "./validation.ts";

const log = getLogger(["tesseras", "storage"]);

/** What kind of inconsistency a scan found. */
export type FragmentIssueKind =
  /**
   * A shard or outboard file without a row (e.g. a crash between rename
   * and insert, or between a delete's row and its files).
   */
  | "orphan_file"
  /**
   * A row whose outboard is missing, of the wrong length or not the
   * shard's (`repair` rewrites it from an intact shard).
   */
  | "outboard_mismatch"
  /** A row whose shard file is gone. */
  | "missing_file"
  /** A shard file whose BLAKE3 differs from its row's checksum. */
  | "checksum_mismatch"
  /** A shard file whose size differs from its row's size. */
  | "size_mismatch"
  /** A temp file left by an interrupted write. */
  | "stray_temp"
  /** Anything else in the fragment directory (not written by tesseras). */
  | "unexpected_entry";

/** One inconsistency. */
export interface FragmentIssue {
  /** Its kind. */
  readonly kind: FragmentIssueKind;
  /** The file or directory concerned. */
  readonly path: string;
  /** The tessera concerned, when known. */
  readonly tesseraId?: TesseraId;
  /** The shard index concerned, when known. */
  readonly index?: number;
  /** What was found, in words. */
  readonly detail: string;
  /** Whether `repair` removed the cause. */
  readonly repaired: boolean;
}

/** Progress of a running scan. */
export interface ScanProgress {
  /** Shard files looked at so far. */
  readonly filesSeen: number;
  /** Rows checked so far. */
  readonly rowsChecked: number;
  /** Bytes hashed so far. */
  readonly bytesHashed: number;
}

/** Options of a scan. */
export interface ScanOptions extends IoOptions {
  /** Recompute every checksum (default true); `false` checks only presence and size. */
  readonly checksums?: boolean;
  /**
   * Remove stray temp files and shard and outboard files without a row,
   * and rewrite wrong outboards of intact shards (default false).
   */
  readonly repair?: boolean;
  /** Look only for these kinds (default: all). */
  readonly only?: readonly FragmentIssueKind[];
  /** Called after each file or row. */
  readonly onProgress?: (progress: ScanProgress) => void;
}

/** The result of a scan. */
export interface ScanReport {
  /** Rows checked. */
  readonly rowsChecked: number;
  /** Shard files seen on disk. */
  readonly filesSeen: number;
  /** Bytes hashed. */
  readonly bytesHashed: number;
  /** Every inconsistency, in the order found. */
  readonly issues: FragmentIssue[];
}

/** What a scan needs from the store. */
export interface ScanContext {
  /** The database with the `fragments` table. */
  readonly db: Database;
  /** The fragment directory. */
  readonly root: string;
  /** Temp files being written now: never stray. */
  readonly inFlight: ReadonlySet<string>;
  /** The store's per-shard lock, so that a repair never races a store. */
  readonly locks: KeyedLock;
  /** Temp files being written now, for an outboard rewrite. */
  readonly writing?: Set<string>;
}

interface RowRef {
  tessera_id: string;
  shard_index: number;
  checksum: string;
  size_bytes: number;
}

const PAGE = 500;

/**
 * Scans the fragment directory and the `fragments` table; see
 * `FsFragmentStore.scan`.
 *
 * @example
 * ```ts
 * declare const ctx: ScanContext;
 * const report = await scanFragments(ctx, { checksums: true });
 * if (report.issues.length > 0) Deno.exitCode = 1;
 * ```
 */
export async function scanFragments(
  ctx: ScanContext,
  options: ScanOptions = {},
): Promise<ScanReport> {
  const scan = new FragmentScan(ctx, options);
  await scan.disk();
  await scan.rows();
  return scan.report();
}

const ALL_KINDS: readonly FragmentIssueKind[] = [
  "orphan_file",
  "outboard_mismatch",
  "missing_file",
  "checksum_mismatch",
  "size_mismatch",
  "stray_temp",
  "unexpected_entry",
];

/** Issues a row check can find: without any wanted, no row is read. */
const ROW_KINDS: readonly FragmentIssueKind[] = [
  "missing_file",
  "size_mismatch",
  "checksum_mismatch",
  "outboard_mismatch",
];

/** One scan: pass 1 over the disk, pass 2 over the rows. */
class FragmentScan {
  readonly #ctx: ScanContext;
  readonly #options: ScanOptions;
  readonly #repair: boolean;
  readonly #wanted: ReadonlySet<FragmentIssueKind>;
  readonly #issues: FragmentIssue[] = [];
  readonly #progress = { filesSeen: 0, rowsChecked: 0, bytesHashed: 0 };
  readonly #hasRow: { get(tesseraId: string, index: number): unknown };

  constructor(ctx: ScanContext, options: ScanOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#repair = options.repair ?? false;
    this.#wanted = new Set(options.only ?? ALL_KINDS);
    this.#hasRow = ctx.db.prepare(
      "SELECT 1 AS x FROM fragments WHERE tessera_id = ? AND shard_index = ?",
    );
  }

  report(): ScanReport {
    return { ...this.#progress, issues: this.#issues };
  }

  #report(issue: FragmentIssue): void {
    if (!this.#wanted.has(issue.kind)) return;
    this.#issues.push(issue);
    log.warn("fragment store: {kind} {path}: {detail}", { ...issue });
  }

  async #removeIf(kind: FragmentIssueKind, path: string): Promise<boolean> {
    return this.#repair && this.#wanted.has(kind) && await removeQuietly(path);
  }

  /** Pass 1: what is on disk. */
  async disk(): Promise<void> {
    const { root } = this.#ctx;
    for (const top of await listDir(root)) {
      this.#options.signal?.throwIfAborted();
      const path = join(root, top.name);
      if (top.isDirectory && isTesseraId(top.name)) {
        await this.#tesseraDir(top.name, path);
      } else if (top.isFile && isTempName(top.name)) {
        await this.#strayTemp(path, undefined);
      } else this.#unexpected(path, top, undefined);
    }
  }

  /** The entries of one tessera's directory. */
  async #tesseraDir(tesseraId: TesseraId, dir: string): Promise<void> {
    for (const entry of await listDir(dir)) {
      this.#options.signal?.throwIfAborted();
      const p = join(dir, entry.name);
      const index = parseShardFileName(entry.name);
      const outboardOf = parseOutboardFileName(entry.name);
      if (entry.isFile && outboardOf !== null) {
        await this.#orphan(p, { tesseraId, index: outboardOf }, {
          detail:
            "outboard file without a row (an interrupted store or delete)",
        });
      } else if (entry.isFile && index !== null) {
        this.#progress.filesSeen++;
        this.#options.onProgress?.({ ...this.#progress });
        await this.#orphan(p, { tesseraId, index }, {
          detail: "shard file without a row (an interrupted store)",
        });
      } else if (entry.isFile && isTempName(entry.name)) {
        await this.#strayTemp(p, tesseraId);
      } else this.#unexpected(p, entry, tesseraId);
    }
  }

  /** A shard or outboard file: an orphan unless its row exists. */
  async #orphan(
    path: string,
    shard: { tesseraId: TesseraId; index: number },
    what: { detail: string },
  ): Promise<void> {
    const { tesseraId, index } = shard;
    if (this.#hasRow.get(tesseraId, index)) return;
    if (!this.#wanted.has("orphan_file")) return;
    // Under the shard's lock a store in progress has either finished
    // (row present) or not yet renamed: the file is truly orphaned.
    const repaired = this.#repair
      ? await this.#ctx.locks.run(
        `${tesseraId}/${index}`,
        async () =>
          !this.#hasRow.get(tesseraId, index) && await removeQuietly(path),
      )
      : false;
    this.#report({
      kind: "orphan_file",
      path,
      tesseraId,
      index,
      detail: what.detail,
      repaired,
    });
  }

  async #strayTemp(path: string, tesseraId: TesseraId | undefined) {
    if (this.#ctx.inFlight.has(path)) return;
    this.#report({
      kind: "stray_temp",
      path,
      ...(tesseraId !== undefined ? { tesseraId } : {}),
      detail: "temp file of an interrupted write",
      repaired: await this.#removeIf("stray_temp", path),
    });
  }

  #unexpected(
    path: string,
    entry: Deno.DirEntry,
    tesseraId: TesseraId | undefined,
  ): void {
    this.#report({
      kind: "unexpected_entry",
      path,
      ...(tesseraId !== undefined ? { tesseraId } : {}),
      detail: describeEntry(entry),
      repaired: false,
    });
  }

  /**
   * Pass 2: every row, paged by key so no statement stays open across an
   * await and memory stays flat however many shards are held.
   */
  async rows(): Promise<void> {
    if (!ROW_KINDS.some((k) => this.#wanted.has(k))) return;
    const page = this.#ctx.db.prepare(
      `SELECT tessera_id, shard_index, checksum, size_bytes FROM fragments
     WHERE (tessera_id, shard_index) > (?, ?)
     ORDER BY tessera_id, shard_index LIMIT ${PAGE}`,
    );
    let after: [string, number] = ["", -1];
    for (;;) {
      const rows = page.all(...after) as unknown as RowRef[];
      if (rows.length === 0) break;
      for (const row of rows) await this.#row(row);
      const last = rows[rows.length - 1];
      after = [String(last.tessera_id), Number(last.shard_index)];
    }
  }

  /** One row: its shard file, then (if intact) its outboard. */
  async #row(row: RowRef): Promise<void> {
    const { signal, checksums = true, onProgress } = this.#options;
    signal?.throwIfAborted();
    const tesseraId = String(row.tessera_id);
    const index = Number(row.shard_index);
    const p = join(this.#ctx.root, tesseraId, shardFileName(index));
    this.#progress.rowsChecked++;
    const found = await checkRow(p, row, checksums, signal);
    this.#progress.bytesHashed += found.hashed;
    onProgress?.({ ...this.#progress });
    if (found.issue) {
      this.#report({
        ...found.issue,
        path: p,
        tesseraId,
        index,
        repaired: false,
      });
    } else if (this.#wanted.has("outboard_mismatch")) {
      await this.#outboard(row, { tesseraId, index, rebuilt: found.outboard });
    }
  }

  /** The outboard of an intact shard; rewritten from it under `repair`. */
  async #outboard(
    row: RowRef,
    shard: { tesseraId: TesseraId; index: number; rebuilt?: Uint8Array },
  ): Promise<void> {
    const { tesseraId, index, rebuilt } = shard;
    const ob = join(this.#ctx.root, tesseraId, outboardFileName(index));
    const issue = await checkOutboardFile(ob, row, rebuilt);
    if (!issue) return;
    const repaired = this.#repair && rebuilt !== undefined
      ? await this.#ctx.locks.run(`${tesseraId}/${index}`, async () => {
        await writeOutboardFile(ob, rebuilt, {
          inFlight: this.#ctx.writing ?? new Set(),
          ...(this.#options.signal ? { signal: this.#options.signal } : {}),
        });
        return true;
      })
      : false;
    this.#report({
      kind: "outboard_mismatch",
      path: ob,
      tesseraId,
      index,
      detail: issue,
      repaired,
    });
  }
}

async function checkRow(
  path: string,
  row: RowRef,
  checksums: boolean,
  signal: AbortSignal | undefined,
): Promise<
  {
    hashed: number;
    issue?: { kind: FragmentIssueKind; detail: string };
    /** The outboard rebuilt from the intact shard, when hashed. */
    outboard?: Uint8Array;
  }
> {
  const size = Number(row.size_bytes);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.lstat(path);
  } catch (err) {
    if (isNotFound(err)) {
      return {
        hashed: 0,
        issue: { kind: "missing_file", detail: "row without a shard file" },
      };
    }
    throw storageError(err, `checking ${path}`);
  }
  if (!stat.isFile) {
    return {
      hashed: 0,
      issue: { kind: "missing_file", detail: "the shard path is not a file" },
    };
  }
  if (stat.size !== size) {
    return {
      hashed: 0,
      issue: {
        kind: "size_mismatch",
        detail: `file has ${stat.size} bytes, row says ${size}`,
      },
    };
  }
  if (!checksums) return { hashed: 0 };
  // One pass gives the checksum and the outboard the shard should have.
  const built = await outboardOfFile(path, { signal }).catch((err) => {
    throw storageError(err, `hashing ${path}`);
  });
  const checksum = toHex(built.root);
  if (checksum !== String(row.checksum)) {
    return {
      hashed: built.size,
      issue: {
        kind: "checksum_mismatch",
        detail: `BLAKE3 is ${checksum}, row says ${row.checksum}`,
      },
    };
  }
  return { hashed: built.size, outboard: built.outboard };
}

/**
 * What is wrong with the outboard at `path` of an intact shard, or
 * `null`: its length always, its bytes when the shard was hashed
 * (`expected`).
 */
async function checkOutboardFile(
  path: string,
  row: RowRef,
  expected: Uint8Array | undefined,
): Promise<string | null> {
  const size = Number(row.size_bytes);
  const stored = await readOutboardFile(path, size);
  if (stored === null) {
    const want = new ChunkTree(size).outboardBytes;
    return `outboard missing or not ${want} bytes long`;
  }
  if (expected && !bytesEqual(stored, expected)) {
    return "outboard is not the shard's (damaged)";
  }
  return null;
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw storageError(err, `listing ${dir}`);
  }
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function describeEntry(e: Deno.DirEntry): string {
  const what = e.isSymlink ? "symlink" : e.isDirectory ? "directory" : "file";
  return `unexpected ${what} (not written by tesseras); left in place`;
}
