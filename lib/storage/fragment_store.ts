/**
 * Shard bytes as files `{root}/{tessera_id}/{index:03}.shard`, each with
 * its outboard `{index:03}.obao` beside it (the BLAKE3 tree above 8 KiB
 * groups, for chunk proofs: docs/proofs.md; none for a shard of one
 * group), metadata rows in SQLite's `fragments` table.
 *
 * The order of operations makes a crash harmless: a store writes the
 * outboard and the shard as temp files, fsyncs them, renames the outboard
 * then the shard into place, fsyncs the directory and only then inserts
 * the row; a delete removes the row first, then the shard, then the
 * outboard. So the only residue a crash can leave is a temp file or a
 * shard or outboard file without a row — none is ever listed or read,
 * and {@linkcode FsFragmentStore.recoverAfterCrash} removes them at start.
 * An outboard lost otherwise is rebuilt from its shard when next needed.
 *
 * A shard pushed by a peer ({@linkcode FsFragmentStore.storeForPeer})
 * records its sender, and its row and the sender's reciprocity credit
 * (`reciprocity_balances`, the table `SqliteReciprocityLedger` reads in
 * the same database) are inserted, and on delete removed, in ONE SQLite
 * transaction: the row is the commit point of both.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { getLogger } from "@logtape/logtape";
import {
  assertTesseraId,
  type Checksum,
  type Clock,
  type FragmentId,
  type FragmentStore,
  type IoOptions,
  type PeerId,
  type SpooledShard,
  type StoreForPeerOptions,
  type StoreForPeerResult,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import {
  ensureDir,
  removeQuietly,
  syncDir,
  syncFile,
  tempPathFor,
  writeAndSync,
} from "./atomic_file.ts";
import {
  bytesEqual,
  type GroupProof,
  hashFile,
  outboardOf,
  outboardOfFile,
} from "../codec/mod.ts";
import {
  loadOutboard,
  proveFromFiles,
  readOutboardFile,
  type ShardFiles,
  writeOutboardFile,
} from "./fragment_outboard.ts";
import type { Database } from "./database.ts";
import { freeDiskBytes } from "./disk_space.ts";
import {
  scanFragments,
  type ScanOptions,
  type ScanReport,
} from "./fragment_scan.ts";
import {
  claimHeld,
  deleteHeld,
  insertHeld,
  type LedgerReconciliation,
  reconcileHeldCredit,
} from "./held_credit.ts";
import { isNotFound, storageError } from "./io_errors.ts";
import { KeyedLock } from "../core/mod.ts";
import {
  assertFragmentId,
  assertPeerId,
  assertShardIndex,
  assertShardSize,
  outboardFileName,
  shardFileName,
} from "./validation.ts";

const log = getLogger(["tesseras", "storage"]);

/** Options of {@linkcode FsFragmentStore}. */
export interface FsFragmentStoreOptions {
  /** Directory holding one sub-directory per tessera. */
  readonly root: string;
  /** Time source for `stored_at` (default: wall clock). */
  readonly clock?: Pick<Clock, "now">;
  /**
   * Refuse (`INSUFFICIENT_SPACE`) a store that would leave less than this
   * many bytes free on the disk of `root`. Needs `--allow-sys=statfs`.
   * Default 0: only an actual full disk refuses.
   */
  readonly minFreeBytes?: number;
}

/** A stored shard's row. */
export interface StoredFragment extends FragmentId {
  /** Size of the shard in bytes. */
  readonly sizeBytes: number;
  /** When it was stored, ms since the epoch. */
  readonly storedAt: number;
  /**
   * The peer that pushed it (credited for it in the ledger), or `null`:
   * stored before senders were recorded, or without a sender.
   */
  readonly sender: PeerId | null;
}

/** What {@linkcode FsFragmentStore.recoverAfterCrash} did. */
export interface CrashRecoveryReport {
  /** Temp files of interrupted writes removed. */
  readonly strayTempFiles: number;
  /** Shard files without a row (interrupted stores) removed. */
  readonly orphanFiles: number;
  /** The ledger check against the rows, corrections written. */
  readonly ledger: LedgerReconciliation;
}

interface FragmentRow {
  tessera_id: string;
  shard_index: number;
  shard_count: number;
  checksum: string;
  size_bytes: number;
  stored_at: number;
  sender_peer_id: string | null;
}

const COLUMNS =
  "tessera_id, shard_index, shard_count, checksum, size_bytes, stored_at, sender_peer_id";

/**
 * The file-and-SQLite implementation of the `FragmentStore` port.
 *
 * @example
 * ```ts
 * import type { Fragment } from "../core/mod.ts";
 * import { openDatabase } from "./database.ts";
 * declare const dataDir: string;
 * declare const fragment: Fragment;
 * const db = await openDatabase(`${dataDir}/db/tesseras.db`);
 * const store = new FsFragmentStore(db, { root: `${dataDir}/fragments` });
 * await store.store(fragment.id, fragment.data);
 * const bytes = await store.read(fragment.id.tesseraId, fragment.id.index);
 * ```
 */
export class FsFragmentStore implements FragmentStore {
  readonly #db: Database;
  readonly #root: string;
  readonly #clock: Pick<Clock, "now">;
  readonly #minFreeBytes: number;
  readonly #locks = new KeyedLock();
  /** Temp files being written right now; a scan must not call them stray. */
  readonly #inFlight = new Set<string>();
  #rootReady = false;

  /**
   * @param db a database opened by `openDatabase` (the `fragments` table)
   * @param options where the files live and how
   */
  constructor(db: Database, options: FsFragmentStoreOptions) {
    this.#db = db;
    this.#root = options.root;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#minFreeBytes = options.minFreeBytes ?? 0;
  }

  /** The directory holding the shard files. */
  get root(): string {
    return this.#root;
  }

  /**
   * The file path of a shard (whether or not it is held). Throws
   * `INVALID_ID`/`INVALID_INPUT` for a hostile id or index.
   */
  shardPath(tesseraId: TesseraId, index: number): string {
    assertTesseraId(tesseraId);
    return join(this.#root, tesseraId, shardFileName(index));
  }

  /**
   * Stores a shard atomically, without a sender (no ledger credit).
   * Rejects `CHECKSUM_MISMATCH` when `data` does not hash to
   * `id.checksum`, `INVALID_INPUT` when a different shard is already held
   * under the same index, `INSUFFICIENT_SPACE` on a full disk (leaving
   * neither a file nor a row). Storing the same shard again is a no-op.
   */
  async store(
    id: FragmentId,
    data: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    await this.#put(id, data, options, undefined);
  }

  /**
   * Stores a shard pushed by `options.sender` (same checks and errors as
   * {@linkcode FsFragmentStore.store}) and credits its size to the
   * sender's `bytes_stored_for_them` in the same SQLite transaction as
   * the row: a crash or a full disk leaves both or neither. A re-push of a
   * held shard credits nothing, unless its row has no sender yet (written
   * before senders were recorded): then it is claimed for the sender and
   * credited when the sender's credit does not already cover it. Rejects
   * `INVALID_ID` for a malformed sender.
   *
   * @example
   * ```ts
   * import type { FragmentId } from "../core/mod.ts";
   * declare const store: FsFragmentStore;
   * declare const id: FragmentId;
   * declare const bytes: Uint8Array;
   * declare const sender: string;
   * const { credited } = await store.storeForPeer(id, bytes, { sender });
   * ```
   */
  async storeForPeer(
    id: FragmentId,
    data: Uint8Array,
    options: StoreForPeerOptions,
  ): Promise<StoreForPeerResult> {
    assertPeerId(options?.sender);
    return await this.#put(id, data, options, options.sender);
  }

  async #put(
    id: FragmentId,
    data: Uint8Array,
    options: IoOptions,
    sender: PeerId | undefined,
  ): Promise<StoreForPeerResult> {
    const { signal } = options;
    assertFragmentId(id);
    assertShardSize(data.length);
    signal?.throwIfAborted();
    // One pass gives the checksum and the outboard.
    const built = outboardOf(data);
    const actual = toHex(built.root);
    if (actual !== id.checksum) {
      throw checksumMismatch(id, actual);
    }
    return await this.#locks.run(shardKey(id), async () => {
      const held = await this.#held(id);
      if (held === "intact") {
        await this.#keepOutboard(id, built.outboard, options);
        return { stored: false, credited: this.#claim(id, sender) };
      }
      await this.#checkFreeSpace(data.length, options);
      const dir = join(this.#root, id.tesseraId);
      const path = join(dir, shardFileName(id.index));
      const tmp = tempPathFor(path);
      this.#inFlight.add(tmp);
      try {
        await this.#ensureDirs(dir);
        await this.#writeOutboard(id, built.outboard, options);
        await writeAndSync(tmp, data, { signal });
        signal?.throwIfAborted();
        await Deno.rename(tmp, path);
      } catch (err) {
        await removeQuietly(tmp);
        // A new shard's outboard must not outlive the failed write.
        if (held === "absent") await this.#removeOutboard(id);
        throw storageError(err, `storing ${describe(id)}`);
      } finally {
        this.#inFlight.delete(tmp);
      }
      return await this.#commit(id, path, data.length, {
        insert: held === "absent",
        sender,
      });
    });
  }

  /**
   * A fresh temp path for a streaming writer, on the store's file system:
   * in the shard's directory (created if missing) when `shard` is given,
   * else at the root (for an encoder that learns the tessera id only at
   * the end). Hand the written file to
   * {@linkcode FsFragmentStore.storeFile}, or to
   * {@linkcode FsFragmentStore.discardTemp} to give up. While handed out,
   * a scan does not report it as stray.
   */
  async tempPath(
    shard?: { tesseraId: TesseraId; index: number },
    options: IoOptions = {},
  ): Promise<string> {
    options.signal?.throwIfAborted();
    let tmp: string;
    if (shard === undefined) {
      await ensureDir(this.#root);
      this.#rootReady = true;
      tmp = tempPathFor(join(this.#root, "staging"));
    } else {
      const path = this.shardPath(shard.tesseraId, shard.index);
      await this.#ensureDirs(join(this.#root, shard.tesseraId));
      tmp = tempPathFor(path);
    }
    this.#inFlight.add(tmp);
    return tmp;
  }

  /** Removes a temp file obtained from {@linkcode FsFragmentStore.tempPath}. */
  async discardTemp(tempPath: string): Promise<void> {
    this.#inFlight.delete(tempPath);
    await removeQuietly(tempPath);
  }

  /**
   * Stores a shard already written to `tempPath` (best obtained from
   * {@linkcode FsFragmentStore.tempPath}: it must be on the same file
   * system as the store). The file is hashed, fsynced, renamed into place
   * and the row inserted. The store takes ownership of `tempPath`: it is
   * renamed on success and removed on any failure (same errors as
   * {@linkcode FsFragmentStore.store}), except when it is the shard's own
   * path, which is refused (`INVALID_INPUT`) and left alone.
   */
  async storeFile(
    id: FragmentId,
    tempPath: string,
    options: IoOptions = {},
  ): Promise<void> {
    await this.#putFile(id, tempPath, { options, sender: undefined });
  }

  /**
   * Stores a pushed shard that the transport wrote to `spooled.path` (from
   * {@linkcode FsFragmentStore.tempPath}) and hashed on the way, for
   * `options.sender`: as {@linkcode FsFragmentStore.storeForPeer} (same
   * checks, errors and one transaction for the row and the credit),
   * without the shard ever in memory. The file is fsynced, its outboard
   * written, both renamed into place. Takes the file: renamed on success,
   * removed on any failure.
   *
   * @example
   * ```ts
   * import type { FragmentId, SpooledShard } from "../core/mod.ts";
   * declare const store: FsFragmentStore;
   * declare const id: FragmentId;
   * declare const spooled: SpooledShard;
   * const { credited } = await store.storeSpooledForPeer(id, spooled, {
   *   sender: "12D3KooW…",
   * });
   * ```
   */
  async storeSpooledForPeer(
    id: FragmentId,
    spooled: SpooledShard,
    options: StoreForPeerOptions,
  ): Promise<StoreForPeerResult> {
    assertPeerId(options?.sender);
    return await this.#putFile(id, spooled.path, {
      options,
      sender: options.sender,
      built: spooled,
    });
  }

  /**
   * `storeFile` and `storeSpooledForPeer`: hash the file unless the
   * caller did, then as `#put` but with a rename of the file itself.
   */
  async #putFile(
    id: FragmentId,
    tempPath: string,
    how: {
      options: IoOptions;
      sender: PeerId | undefined;
      built?: { checksum: Checksum; size: number; outboard: Uint8Array };
    },
  ): Promise<StoreForPeerResult> {
    const { options, sender } = how;
    const { signal } = options;
    assertFragmentId(id);
    if (resolve(tempPath) === resolve(this.shardPath(id.tesseraId, id.index))) {
      throw new TesserasError(
        "INVALID_INPUT",
        `storeFile needs a temp file, not the shard's own path ${tempPath}: get one from tempPath()`,
      );
    }
    let renamed = false;
    try {
      const built = how.built ?? await hashedFile(tempPath, options);
      assertShardSize(built.size);
      if (built.checksum !== id.checksum) {
        throw checksumMismatch(id, built.checksum);
      }
      return await this.#locks.run(shardKey(id), async () => {
        const held = await this.#held(id);
        if (held === "intact") {
          await this.#keepOutboard(id, built.outboard, options);
          return { stored: false, credited: this.#claim(id, sender) };
        }
        // A peer's shard keeps the reserve free, as `storeForPeer` does.
        if (sender !== undefined) {
          await this.#checkFreeSpace(built.size, options);
        }
        const dir = join(this.#root, id.tesseraId);
        const path = join(dir, shardFileName(id.index));
        try {
          await this.#ensureDirs(dir);
          await this.#writeOutboard(id, built.outboard, options);
          await syncFile(tempPath);
          signal?.throwIfAborted();
          await Deno.rename(tempPath, path);
          renamed = true;
        } catch (err) {
          if (held === "absent") await this.#removeOutboard(id);
          throw storageError(err, `storing ${describe(id)} from a file`);
        }
        return await this.#commit(id, path, built.size, {
          insert: held === "absent",
          sender,
        });
      });
    } finally {
      this.#inFlight.delete(tempPath);
      if (!renamed) await removeQuietly(tempPath);
    }
  }

  /** The shard's bytes, or `null` when not held. */
  read(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    return this.#fromFile(
      { tesseraId, index, signal: options.signal },
      (path) => Deno.readFile(path, { signal: options.signal }),
    );
  }

  /**
   * BLAKE3 keyed with `key` over the shard's bytes, hex, or `null` when
   * not held: read in 4 MiB pieces (`hashFile`), where `read()` would
   * hand back a fresh buffer of the whole shard for one hash.
   */
  keyedHash(
    tesseraId: TesseraId,
    index: number,
    key: Uint8Array,
    options: IoOptions = {},
  ): Promise<string | null> {
    return this.#fromFile(
      { tesseraId, index, signal: options.signal },
      async (path) =>
        (await hashFile(path, { key, signal: options.signal })).hash,
    );
  }

  /**
   * `use` of a held shard's file, `null` when not held; a row without
   * its file is logged and reads as not held.
   */
  async #fromFile<T>(
    shard: { tesseraId: TesseraId; index: number; signal?: AbortSignal },
    use: (path: string) => Promise<T>,
  ): Promise<T | null> {
    const { tesseraId, index } = shard;
    const path = this.shardPath(tesseraId, index);
    shard.signal?.throwIfAborted();
    if (this.get(tesseraId, index) === null) return null;
    try {
      return await use(path);
    } catch (err) {
      if (isNotFound(err)) {
        log.error(
          "shard {index} of {tesseraId} has a row but no file {path}; run `tesseras verify`",
          { tesseraId, index, path },
        );
        return null;
      }
      throw storageError(err, `reading shard ${index} of ${tesseraId}`);
    }
  }

  /** The shard's row, or `null` when not held. */
  get(tesseraId: TesseraId, index: number): StoredFragment | null {
    assertTesseraId(tesseraId);
    assertShardIndex(index);
    const row = this.#db.prepare(
      `SELECT ${COLUMNS} FROM fragments WHERE tessera_id = ? AND shard_index = ?`,
    ).get(tesseraId, index) as FragmentRow | undefined;
    return row ? toStored(row) : null;
  }

  /**
   * Removes one shard, or every shard of the tessera when `index` is
   * omitted. The row goes first (with the release of its sender's ledger
   * credit, in the same transaction), then the file; absent shards are no
   * error.
   */
  async delete(
    tesseraId: TesseraId,
    index?: number,
    options: IoOptions = {},
  ): Promise<void> {
    assertTesseraId(tesseraId);
    if (index !== undefined) assertShardIndex(index);
    options.signal?.throwIfAborted();
    const indices = index !== undefined
      ? [index]
      : (await this.list(tesseraId)).map((f) => f.index);
    for (const i of indices) {
      await this.#locks.run(`${tesseraId}/${i}`, async () => {
        try {
          deleteHeld(this.#db, {
            tesseraId,
            index: i,
            now: this.#clock.now(),
          });
        } catch (err) {
          throw storageError(err, `deleting shard ${i} of ${tesseraId}`);
        }
        await removeQuietly(join(this.#root, tesseraId, shardFileName(i)));
        await removeQuietly(join(this.#root, tesseraId, outboardFileName(i)));
      });
    }
    // Only succeeds once the directory is empty, which is what we want.
    await Deno.remove(join(this.#root, tesseraId)).catch(() => {});
  }

  /** Shards held, of one tessera or of all, ordered by tessera and index. */
  async list(
    tesseraId?: TesseraId,
    options: IoOptions = {},
  ): Promise<FragmentId[]> {
    const rows = await this.listStored(tesseraId, options);
    return rows.map(({ tesseraId, index, shardCount, checksum }) => ({
      tesseraId,
      index,
      shardCount,
      checksum,
    }));
  }

  /** The tesseras of which a shard is held, in no particular order. */
  // deno-lint-ignore require-await -- async so that an abort rejects
  async tesserasHeld(options: IoOptions = {}): Promise<TesseraId[]> {
    options.signal?.throwIfAborted();
    const rows = this.#db.prepare(
      "SELECT DISTINCT tessera_id FROM fragments",
    ).all() as { tessera_id: TesseraId }[];
    return rows.map((r) => r.tessera_id);
  }

  /** Like `list`, with each shard's size and time of storage. */
  // deno-lint-ignore require-await -- async so that bad input rejects
  async listStored(
    tesseraId?: TesseraId,
    options: IoOptions = {},
  ): Promise<StoredFragment[]> {
    if (tesseraId !== undefined) assertTesseraId(tesseraId);
    options.signal?.throwIfAborted();
    const rows = (tesseraId === undefined
      ? this.#db.prepare(
        `SELECT ${COLUMNS} FROM fragments ORDER BY tessera_id, shard_index`,
      ).all()
      : this.#db.prepare(
        `SELECT ${COLUMNS} FROM fragments WHERE tessera_id = ? ORDER BY shard_index`,
      ).all(tesseraId)) as unknown as FragmentRow[];
    return rows.map(toStored);
  }

  /**
   * Recomputes BLAKE3 of the stored file and compares it with the row's
   * checksum. `false` when the shard is not held, its file is missing or
   * its bytes differ. The same pass rebuilds the outboard, so a missing
   * or damaged outboard of an intact shard is rewritten (and `true`).
   */
  async verify(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<boolean> {
    const row = this.get(tesseraId, index);
    if (row === null) return false;
    const files = this.#files(row);
    try {
      const built = await outboardOfFile(files.shard, options);
      if (toHex(built.root) !== row.checksum || built.size !== row.sizeBytes) {
        return false;
      }
      await this.#locks.run(shardKey(row), async () => {
        const stored = await readOutboardFile(files.outboard, row.sizeBytes);
        if (stored !== null && bytesEqual(stored, built.outboard)) return;
        log.warn("rewriting the outboard of {shard}", { shard: describe(row) });
        await this.#writeOutboard(row, built.outboard, options);
        await syncDir(files.dir);
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storageError(err, `verifying shard ${index} of ${tesseraId}`);
    }
  }

  /**
   * The outboard of a held shard (docs/proofs.md), or `null` when the
   * shard is not held. A missing or damaged outboard is rebuilt from the
   * shard first; rejects `CHECKSUM_MISMATCH` when the shard itself is
   * damaged.
   *
   * @example
   * ```ts
   * declare const store: FsFragmentStore;
   * declare const tesseraId: string;
   * const outboard = await store.readOutboard(tesseraId, 0);
   * ```
   */
  async readOutboard(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    const row = this.get(tesseraId, index);
    if (row === null) return null;
    options.signal?.throwIfAborted();
    return await this.#locks.run(
      shardKey(row),
      () => loadOutboard(this.#files(row), this.#writeOptions(options)),
    );
  }

  /**
   * Chunk proofs of `groups` of a held shard (or of those `groups(size)`
   * picks), read from its file and its outboard (rebuilt when missing or
   * damaged) and checked against the row's checksum before they are
   * returned, with the shard's size and the groups' chaining values (what
   * the holder signs); `null` when the shard is not held.
   * Rejects `CHECKSUM_MISMATCH` when the shard is damaged (report it
   * corrupt), `INVALID_INPUT` for a group outside the shard.
   *
   * @example
   * ```ts
   * declare const store: FsFragmentStore;
   * declare const tesseraId: string;
   * const { proofs } = (await store.proveGroups(tesseraId, 0, [3, 17]))!;
   * ```
   */
  async proveGroups(
    tesseraId: TesseraId,
    index: number,
    groups: readonly number[] | ((size: number) => readonly number[]),
    options: IoOptions = {},
  ): Promise<{ size: number; proofs: GroupProof[]; cvs: Uint8Array[] } | null> {
    const row = this.get(tesseraId, index);
    if (row === null) return null;
    options.signal?.throwIfAborted();
    const picked = typeof groups === "function"
      ? groups(row.sizeBytes)
      : groups;
    const { proofs, cvs } = await this.#locks.run(
      shardKey(row),
      () =>
        proveFromFiles(this.#files(row), picked, this.#writeOptions(options)),
    );
    return { size: row.sizeBytes, proofs, cvs };
  }

  /** Total bytes of all shards held (from the rows). */
  // deno-lint-ignore require-await -- async so that an abort rejects
  async totalBytes(options: IoOptions = {}): Promise<number> {
    options.signal?.throwIfAborted();
    const row = this.#db.prepare(
      "SELECT COALESCE(SUM(size_bytes), 0) AS total FROM fragments",
    ).get();
    return Number(row?.total ?? 0);
  }

  /** Number of shards held. */
  count(): number {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM fragments").get();
    return Number(row?.n ?? 0);
  }

  /**
   * Checks every file against its row and every row against its file
   * (and, unless `checksums: false`, every checksum). Returns every
   * inconsistency found. With `repair: true` it removes stray temp files
   * and shard files without a row (safe: they are never listed); rows
   * whose file is missing or corrupt are only reported — deciding about
   * them (delete, re-fetch) is the caller's job. Works on a stopped node's
   * data; do not `repair` while another process writes to the same store.
   */
  scan(options: ScanOptions = {}): Promise<ScanReport> {
    return scanFragments({
      db: this.#db,
      root: this.#root,
      inFlight: this.#inFlight,
      locks: this.#locks,
      writing: this.#inFlight,
    }, options);
  }

  /** Alias of {@linkcode FsFragmentStore.scan}, for `tesseras verify`. */
  verifyAll(options: ScanOptions = {}): Promise<ScanReport> {
    return this.scan(options);
  }

  /**
   * What the daemon runs at start, before it accepts pushes: removes the
   * residue a crash can leave — temp files of interrupted writes and shard
   * files without a row (a crash between the rename and the row's
   * transaction; safe to remove because the row is the commit point, so
   * nothing ever listed or credited them) — and brings the ledger's
   * `bytes_stored_for_them` within what the rows allow
   * ({@linkcode FsFragmentStore.reconcileLedger} with `repair`). Returns
   * the counts. Never touches a row or a file that has one; shards being
   * written now by this store are left alone. Do not run it while another
   * process writes to the same data directory.
   *
   * @example
   * ```ts
   * import { getLogger } from "@logtape/logtape";
   * declare const fragments: FsFragmentStore;
   * const log = getLogger(["tesseras", "storage"]);
   * const r = await fragments.recoverAfterCrash();
   * log.info("removed {t} temp and {o} orphan shard files", {
   *   t: r.strayTempFiles, o: r.orphanFiles,
   * });
   * ```
   */
  async recoverAfterCrash(
    options: IoOptions = {},
  ): Promise<CrashRecoveryReport> {
    const report = await this.scan({
      signal: options.signal,
      checksums: false,
      repair: true,
      only: ["stray_temp", "orphan_file"],
    });
    const removed = (kind: string) =>
      report.issues.filter((i) => i.kind === kind && i.repaired).length;
    const ledger = await this.reconcileLedger({
      signal: options.signal,
      repair: true,
    });
    if (ledger.corrections.length > 0) {
      log.warn(
        "corrected the ledger credit of {n} peers to match the shards held",
        {
          n: ledger.corrections.length,
          corrections: ledger.corrections,
        },
      );
    }
    return {
      strayTempFiles: removed("stray_temp"),
      orphanFiles: removed("orphan_file"),
      ledger,
    };
  }

  /**
   * Checks every peer's `bytes_stored_for_them` against the shards held
   * whose sender it is: exact once every row has a sender, bounded while
   * rows from before migration 004 (no sender) remain. With `repair`,
   * writes the corrections, in one transaction. For `tesseras verify`
   * (report) and {@linkcode FsFragmentStore.recoverAfterCrash} (repair).
   *
   * @example
   * ```ts
   * declare const fragments: FsFragmentStore;
   * const { corrections } = await fragments.reconcileLedger();
   * ```
   */
  // deno-lint-ignore require-await -- async so that an abort rejects
  async reconcileLedger(
    options: IoOptions & { readonly repair?: boolean } = {},
  ): Promise<LedgerReconciliation> {
    options.signal?.throwIfAborted();
    const repair = options.repair ?? false;
    const now = this.#clock.now();
    try {
      return reconcileHeldCredit(this.#db, { repair, now });
    } catch (err) {
      throw storageError(err, "reconciling the ledger with the shards held");
    }
  }

  /**
   * Removes temp files left by interrupted writes (not those being
   * written right now); returns how many were removed. Superseded at
   * start by {@linkcode FsFragmentStore.recoverAfterCrash}, which also
   * removes orphan shard files and reconciles the ledger.
   */
  async removeStrayTempFiles(options: IoOptions = {}): Promise<number> {
    const report = await this.scan({
      signal: options.signal,
      checksums: false,
      repair: true,
      only: ["stray_temp"],
    });
    return report.issues.filter((i) => i.repaired).length;
  }

  /**
   * Whether the shard is already held: `intact` (row and a file of the
   * right size: storing again is a no-op), `file_lost` (a row whose file
   * is gone or truncated: storing again heals it) or `absent`. A
   * different shard held under the same index is refused.
   */
  async #held(id: FragmentId): Promise<"absent" | "intact" | "file_lost"> {
    const held = this.get(id.tesseraId, id.index);
    if (held === null) return "absent";
    if (held.checksum !== id.checksum || held.shardCount !== id.shardCount) {
      throw new TesserasError(
        "INVALID_INPUT",
        `this node already holds shard ${id.index} of ${id.tesseraId} with checksum ${held.checksum} (of ${held.shardCount}); refusing a different shard under the same index — delete the held one first if it is wrong`,
      );
    }
    try {
      const st = await Deno.stat(this.shardPath(id.tesseraId, id.index));
      if (st.isFile && st.size === held.sizeBytes) return "intact";
    } catch (err) {
      if (!isNotFound(err)) throw storageError(err, `checking ${describe(id)}`);
    }
    log.warn("re-writing the lost file of {shard}", { shard: describe(id) });
    return "file_lost";
  }

  /** Claims a held row without a sender for `sender`; bytes credited. */
  #claim(id: FragmentId, sender: PeerId | undefined): number {
    if (sender === undefined) return 0;
    // Most re-pushes hit a row that has its sender: no write transaction.
    if (this.get(id.tesseraId, id.index)?.sender !== null) return 0;
    try {
      return claimHeld(this.#db, {
        tesseraId: id.tesseraId,
        index: id.index,
        peer: sender,
        now: this.#clock.now(),
      });
    } catch (err) {
      throw storageError(err, `crediting ${describe(id)} to ${sender}`);
    }
  }

  async #checkFreeSpace(bytes: number, options: IoOptions): Promise<void> {
    if (this.#minFreeBytes <= 0) return;
    const free = await freeDiskBytes(this.#root, options);
    if (free - bytes < this.#minFreeBytes) {
      throw new TesserasError(
        "INSUFFICIENT_SPACE",
        `storing ${bytes} bytes would leave ${
          free - bytes
        } bytes free under ${this.#root}, below the minimum of ${this.#minFreeBytes}; free some space or lower the minimum`,
      );
    }
  }

  #files(row: FragmentId & { readonly sizeBytes: number }): ShardFiles {
    const dir = join(this.#root, row.tesseraId);
    return {
      dir,
      shard: join(dir, shardFileName(row.index)),
      outboard: join(dir, outboardFileName(row.index)),
      checksum: row.checksum,
      size: row.sizeBytes,
    };
  }

  #writeOptions(options: IoOptions) {
    return { inFlight: this.#inFlight, signal: options.signal };
  }

  /** Write the outboard of `id` (before its shard is renamed into place). */
  async #writeOutboard(
    id: FragmentId,
    outboard: Uint8Array,
    options: IoOptions,
  ): Promise<void> {
    const path = join(this.#root, id.tesseraId, outboardFileName(id.index));
    await writeOutboardFile(path, outboard, this.#writeOptions(options));
  }

  async #removeOutboard(id: FragmentId): Promise<void> {
    await removeQuietly(
      join(this.#root, id.tesseraId, outboardFileName(id.index)),
    );
  }

  /** A re-store of an intact shard heals a missing outboard, cheaply. */
  async #keepOutboard(
    id: FragmentId,
    outboard: Uint8Array,
    options: IoOptions,
  ): Promise<void> {
    const path = join(this.#root, id.tesseraId, outboardFileName(id.index));
    if (outboard.length === 0) return;
    const st = await Deno.stat(path).catch(() => null);
    if (st?.isFile && st.size === outboard.length) return;
    await writeOutboardFile(path, outboard, this.#writeOptions(options));
    await syncDir(join(this.#root, id.tesseraId));
  }

  async #ensureDirs(dir: string): Promise<void> {
    if (!this.#rootReady) {
      await ensureDir(this.#root);
      this.#rootReady = true;
    }
    await ensureDir(dir);
  }

  /**
   * Makes the rename durable, then inserts the row and the sender's credit
   * in one transaction (unless `insert` is false: the row already exists
   * and only its file was re-written; a row without a sender is claimed).
   */
  async #commit(
    id: FragmentId,
    path: string,
    size: number,
    how: { insert: boolean; sender: PeerId | undefined },
  ): Promise<StoreForPeerResult> {
    const { insert, sender } = how;
    try {
      await syncDir(join(this.#root, id.tesseraId));
      if (!insert) return { stored: true, credited: this.#claim(id, sender) };
      insertHeld(this.#db, { id, size, storedAt: this.#clock.now(), sender });
      return { stored: true, credited: sender !== undefined ? size : 0 };
    } catch (err) {
      // No row was inserted (we hold the lock and checked), so the file is
      // an orphan: remove it rather than leave a shard nobody lists.
      if (insert) {
        await removeQuietly(path);
        await this.#removeOutboard(id);
      }
      throw storageError(err, `recording ${describe(id)}`);
    }
  }
}

/** The checksum, size and outboard of a shard written to `path`. */
async function hashedFile(
  path: string,
  options: IoOptions,
): Promise<{ checksum: Checksum; size: number; outboard: Uint8Array }> {
  const built = await outboardOfFile(path, options);
  return {
    checksum: toHex(built.root),
    size: built.size,
    outboard: built.outboard,
  };
}

function shardKey(id: FragmentId): string {
  return `${id.tesseraId}/${id.index}`;
}

function describe(id: FragmentId): string {
  return `shard ${id.index} of ${id.tesseraId}`;
}

function checksumMismatch(id: FragmentId, actual: Checksum): TesserasError {
  return new TesserasError(
    "CHECKSUM_MISMATCH",
    `${
      describe(id)
    } hashes to ${actual}, not to its declared checksum ${id.checksum}; the data was corrupted in transit or by the sender — fetch it again`,
  );
}

function toStored(r: FragmentRow): StoredFragment {
  return {
    tesseraId: String(r.tessera_id),
    index: Number(r.shard_index),
    shardCount: Number(r.shard_count),
    checksum: String(r.checksum),
    sizeBytes: Number(r.size_bytes),
    storedAt: Number(r.stored_at),
    sender: r.sender_peer_id === null ? null : String(r.sender_peer_id),
  };
}
