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
  const { signal, checksums = true, repair = false, onProgress } = options;
  const wanted = new Set<FragmentIssueKind>(
    options.only ?? [
      "orphan_file",
      "outboard_mismatch",
      "missing_file",
      "checksum_mismatch",
      "size_mismatch",
      "stray_temp",
      "unexpected_entry",
    ],
  );
  const issues: FragmentIssue[] = [];
  const progress = { filesSeen: 0, rowsChecked: 0, bytesHashed: 0 };
  const hasRow = ctx.db.prepare(
    "SELECT 1 AS x FROM fragments WHERE tessera_id = ? AND shard_index = ?",
  );
  const report = (issue: FragmentIssue) => {
    if (!wanted.has(issue.kind)) return;
    issues.push(issue);
    log.warn("fragment store: {kind} {path}: {detail}", { ...issue });
  };

  const removeIf = async (wantedKind: FragmentIssueKind, path: string) =>
    repair && wanted.has(wantedKind) && await removeQuietly(path);

  // Pass 1: what is on disk.
  for (const top of await listDir(ctx.root)) {
    signal?.throwIfAborted();
    const path = join(ctx.root, top.name);
    if (top.isDirectory && isTesseraId(top.name)) {
      const tesseraId = top.name;
      for (const entry of await listDir(path)) {
        signal?.throwIfAborted();
        const p = join(path, entry.name);
        const index = parseShardFileName(entry.name);
        const outboardOf = parseOutboardFileName(entry.name);
        if (entry.isFile && outboardOf !== null) {
          if (hasRow.get(tesseraId, outboardOf)) continue;
          if (!wanted.has("orphan_file")) continue;
          const repaired = repair
            ? await ctx.locks.run(
              `${tesseraId}/${outboardOf}`,
              async () =>
                !hasRow.get(tesseraId, outboardOf) && await removeQuietly(p),
            )
            : false;
          report({
            kind: "orphan_file",
            path: p,
            tesseraId,
            index: outboardOf,
            detail:
              "outboard file without a row (an interrupted store or delete)",
            repaired,
          });
        } else if (entry.isFile && index !== null) {
          progress.filesSeen++;
          onProgress?.({ ...progress });
          if (hasRow.get(tesseraId, index)) continue;
          if (!wanted.has("orphan_file")) continue;
          // Under the shard's lock a store in progress has either finished
          // (row present) or not yet renamed: the file is truly orphaned.
          const repaired = repair
            ? await ctx.locks.run(
              `${tesseraId}/${index}`,
              async () =>
                !hasRow.get(tesseraId, index) && await removeQuietly(p),
            )
            : false;
          report({
            kind: "orphan_file",
            path: p,
            tesseraId,
            index,
            detail: "shard file without a row (an interrupted store)",
            repaired,
          });
        } else if (entry.isFile && isTempName(entry.name)) {
          if (ctx.inFlight.has(p)) continue;
          report({
            kind: "stray_temp",
            path: p,
            tesseraId,
            detail: "temp file of an interrupted write",
            repaired: await removeIf("stray_temp", p),
          });
        } else {
          report({
            kind: "unexpected_entry",
            path: p,
            tesseraId,
            detail: describeEntry(entry),
            repaired: false,
          });
        }
      }
    } else if (top.isFile && isTempName(top.name)) {
      if (ctx.inFlight.has(path)) continue;
      report({
        kind: "stray_temp",
        path,
        detail: "temp file of an interrupted write",
        repaired: await removeIf("stray_temp", path),
      });
    } else {
      report({
        kind: "unexpected_entry",
        path,
        detail: describeEntry(top),
        repaired: false,
      });
    }
  }

  // Pass 2: every row, paged by key so no statement stays open across an
  // await and memory stays flat however many shards are held.
  const rowKinds = [
    "missing_file",
    "size_mismatch",
    "checksum_mismatch",
    "outboard_mismatch",
  ];
  if (!rowKinds.some((k) => wanted.has(k as FragmentIssueKind))) {
    return { ...progress, issues };
  }
  const page = ctx.db.prepare(
    `SELECT tessera_id, shard_index, checksum, size_bytes FROM fragments
     WHERE (tessera_id, shard_index) > (?, ?)
     ORDER BY tessera_id, shard_index LIMIT ${PAGE}`,
  );
  let after: [string, number] = ["", -1];
  for (;;) {
    const rows = page.all(...after) as unknown as RowRef[];
    if (rows.length === 0) break;
    for (const row of rows) {
      signal?.throwIfAborted();
      const tesseraId = String(row.tessera_id);
      const index = Number(row.shard_index);
      const p = join(ctx.root, tesseraId, shardFileName(index));
      progress.rowsChecked++;
      const found = await checkRow(p, row, checksums, signal);
      progress.bytesHashed += found.hashed;
      onProgress?.({ ...progress });
      if (found.issue) {
        report({ ...found.issue, path: p, tesseraId, index, repaired: false });
      } else if (wanted.has("outboard_mismatch")) {
        const ob = join(ctx.root, tesseraId, outboardFileName(index));
        const issue = await checkOutboardFile(ob, row, found.outboard);
        if (issue) {
          const fix = repair && found.outboard !== undefined
            ? () =>
              ctx.locks.run(`${tesseraId}/${index}`, async () => {
                await writeOutboardFile(ob, found.outboard!, {
                  inFlight: ctx.writing ?? new Set(),
                  signal,
                });
                return true;
              })
            : () => Promise.resolve(false);
          report({
            kind: "outboard_mismatch",
            path: ob,
            tesseraId,
            index,
            detail: issue,
            repaired: await fix(),
          });
        }
      }
    }
    const last = rows[rows.length - 1];
    after = [String(last.tessera_id), Number(last.shard_index)];
  }
  return { ...progress, issues };
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
