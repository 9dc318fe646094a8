/**
 * Signed tessera manifests in SQLite (migration 007): one row per tessera
 * this node owns or holds a shard of. The row is one statement, so it is
 * atomic; the first manifest kept for a tessera stays.
 *
 * @module
 */
import {
  assertTesseraId,
  type IoOptions,
  type ManifestStore,
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_SIGNATURE_BYTES,
  type SignedManifest,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import type { Database } from "./database.ts";
import { runStorage } from "./io_errors.ts";

interface Row {
  manifest: Uint8Array;
  signature: Uint8Array;
}

/**
 * The manifest store of a node's database.
 *
 * @example
 * ```ts ignore
 * const manifests = new SqliteManifestStore(db);
 * await manifests.put(id, signed);
 * (await manifests.get(id))?.signature; // the owner's signature
 * ```
 */
export class SqliteManifestStore implements ManifestStore {
  readonly #db: Database;

  /** @param db a database opened by `openDatabase` (migration 007 applied) */
  constructor(db: Database) {
    this.#db = db;
  }

  /** Keep `signed` unless a manifest is kept for the tessera already. */
  put(
    tesseraId: TesseraId,
    signed: SignedManifest,
    options: IoOptions = {},
  ): Promise<void> {
    return runStorage("keeping a manifest", () => {
      assertTesseraId(tesseraId);
      if (
        signed.bytes.length > MAX_MANIFEST_BYTES ||
        signed.signature.length > MAX_MANIFEST_SIGNATURE_BYTES
      ) {
        throw new TesserasError("TOO_LARGE", "manifest or signature too large");
      }
      this.#db.prepare(
        `INSERT INTO manifests (tessera_id, manifest, signature) VALUES (?, ?, ?)
         ON CONFLICT (tessera_id) DO NOTHING`,
      ).run(tesseraId, signed.bytes, signed.signature);
    }, options);
  }

  /** The kept manifest, or `null`. */
  get(
    tesseraId: TesseraId,
    options: IoOptions = {},
  ): Promise<SignedManifest | null> {
    return runStorage("reading a manifest", () => {
      assertTesseraId(tesseraId);
      const row = this.#db.prepare(
        `SELECT manifest, signature FROM manifests WHERE tessera_id = ?`,
      ).get(tesseraId) as unknown as Row | undefined;
      return row === undefined ? null : {
        bytes: new Uint8Array(row.manifest),
        signature: new Uint8Array(row.signature),
      };
    }, options);
  }

  /** Forget the tessera's manifest. */
  delete(tesseraId: TesseraId, options: IoOptions = {}): Promise<void> {
    return runStorage("deleting a manifest", () => {
      assertTesseraId(tesseraId);
      this.#db.prepare(`DELETE FROM manifests WHERE tessera_id = ?`).run(
        tesseraId,
      );
    }, options);
  }

  /** Every kept tessera id, sorted. */
  list(options: IoOptions = {}): Promise<TesseraId[]> {
    return runStorage("listing manifests", () => {
      const rows = this.#db.prepare(
        `SELECT tessera_id FROM manifests ORDER BY tessera_id`,
      ).all() as unknown as { tessera_id: string }[];
      return rows.map((r) => String(r.tessera_id));
    }, options);
  }
}
