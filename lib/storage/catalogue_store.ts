/**
 * The owner's local catalogue in SQLite (migration 006): one row per
 * tessera it put, with its name, size, time and, for a private tessera,
 * its content key as sealed bytes (sealing is `lib/crypto`'s business;
 * this store keeps the bytes it is given and never sees a bare key).
 *
 * @module
 */
import {
  assertTesseraId,
  type IoOptions,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import type { Database } from "./database.ts";
import { runStorage } from "./io_errors.ts";
import { hasControlChar } from "./validation.ts";

/** Longest name kept, in characters. */
export const MAX_CATALOGUE_NAME = 1024;
/** Largest sealed key kept, in bytes. */
const MAX_SEALED_KEY = 256;

/** One row of the local catalogue. */
export interface LocalCatalogueEntry {
  /** Tessera id (for a private tessera: of its ciphertext). */
  readonly id: TesseraId;
  /** The name given with `put --name`, or `null`. */
  readonly name: string | null;
  /** Bytes the owner put (plaintext). */
  readonly size: number;
  /** When it was put, ms since the epoch. */
  readonly time: number;
  /** The sealed content key of a private tessera; `null` when public. */
  readonly sealedKey: Uint8Array | null;
}

interface Row {
  tessera_id: string;
  name: string | null;
  size_bytes: number;
  put_at_ms: number;
  sealed_key: Uint8Array | null;
}

/**
 * The local catalogue.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * const catalogue = new SqliteCatalogueStore(db);
 * await catalogue.record({
 *   id: "ab".repeat(32), name: "letters", size: 5, time: Date.now(), sealedKey: null,
 * });
 * (await catalogue.get("ab".repeat(32)))?.name; // "letters"
 * ```
 */
export class SqliteCatalogueStore {
  readonly #db: Database;

  /** @param db a database opened by `openDatabase` (migration 006 applied) */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Add `entry`, or update the row of its id: a later put of the same
   * public file keeps the first time, takes a new name when one is given,
   * and never drops a sealed key.
   */
  record(entry: LocalCatalogueEntry, options: IoOptions = {}): Promise<void> {
    return runStorage("recording a catalogue entry", () => {
      checkEntry(entry);
      this.#db.prepare(
        `INSERT INTO catalogue (tessera_id, name, size_bytes, put_at_ms, sealed_key)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tessera_id) DO UPDATE SET
           name = coalesce(excluded.name, name),
           sealed_key = coalesce(sealed_key, excluded.sealed_key)`,
      ).run(entry.id, entry.name, entry.size, entry.time, entry.sealedKey);
    }, options);
  }

  /** The row of `id`, or `null`. */
  get(
    id: TesseraId,
    options: IoOptions = {},
  ): Promise<LocalCatalogueEntry | null> {
    return runStorage("reading a catalogue entry", () => {
      assertTesseraId(id);
      const row = this.#db.prepare(
        `SELECT tessera_id, name, size_bytes, put_at_ms, sealed_key
         FROM catalogue WHERE tessera_id = ?`,
      ).get(id) as unknown as Row | undefined;
      return row === undefined ? null : fromRow(row);
    }, options);
  }

  /**
   * The value kept under `key` in `node_meta` (the node's own small
   * settings, e.g. which tessera holds the current sealed catalogue).
   */
  getMeta(key: string, options: IoOptions = {}): Promise<string | null> {
    return runStorage("reading node metadata", () => {
      const row = this.#db.prepare(
        "SELECT value FROM node_meta WHERE key = ?",
      ).get(key) as { value: string } | undefined;
      return row === undefined ? null : String(row.value);
    }, options);
  }

  /** Keep `value` under `key` in `node_meta`. */
  setMeta(key: string, value: string, options: IoOptions = {}): Promise<void> {
    return runStorage("writing node metadata", () => {
      this.#db.prepare(
        `INSERT INTO node_meta (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET
           value = excluded.value, updated_at = excluded.updated_at`,
      ).run(key, value, Math.floor(Date.now() / 1000));
    }, options);
  }

  /** Every row, oldest put first. */
  list(options: IoOptions = {}): Promise<LocalCatalogueEntry[]> {
    return runStorage("listing the catalogue", () => {
      const rows = this.#db.prepare(
        `SELECT tessera_id, name, size_bytes, put_at_ms, sealed_key
         FROM catalogue ORDER BY put_at_ms, tessera_id`,
      ).all() as unknown as Row[];
      return rows.map(fromRow);
    }, options);
  }
}

function fromRow(row: Row): LocalCatalogueEntry {
  return {
    id: String(row.tessera_id),
    name: row.name === null ? null : String(row.name),
    size: Number(row.size_bytes),
    time: Number(row.put_at_ms),
    sealedKey: row.sealed_key === null ? null : new Uint8Array(row.sealed_key),
  };
}

function checkEntry(entry: LocalCatalogueEntry): void {
  const bad = (why: string) =>
    new TesserasError("INVALID_INPUT", `catalogue entry: ${why}`);
  assertTesseraId(entry.id);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
    throw bad("size is not a byte count");
  }
  if (!Number.isSafeInteger(entry.time) || entry.time < 0) {
    throw bad("time is not ms since the epoch");
  }
  const { name, sealedKey } = entry;
  if (
    name !== null &&
    (typeof name !== "string" || name === "" ||
      name.length > MAX_CATALOGUE_NAME || hasControlChar(name))
  ) {
    throw bad(
      `a name has 1 to ${MAX_CATALOGUE_NAME} printable characters`,
    );
  }
  if (
    sealedKey !== null &&
    (!(sealedKey instanceof Uint8Array) || sealedKey.length === 0 ||
      sealedKey.length > MAX_SEALED_KEY)
  ) throw bad("a sealed key is 1 to 256 bytes");
}
