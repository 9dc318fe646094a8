/**
 * The owner's catalogue as the daemon uses it: what it put (name, size,
 * time) and, for a private tessera, the content key, sealed in SQLite
 * with the phrase's catalogue key and opened only to decrypt a `get` or
 * print a `share`. Keys never reach a log.
 *
 * @module
 */
import { type TesseraId, TesserasError } from "../core/mod.ts";
import {
  formatCapability,
  openContentKey,
  type PhraseKeys,
  sealContentKey,
} from "../crypto/mod.ts";
import type {
  LocalCatalogueEntry,
  SqliteCatalogueStore,
} from "../storage/mod.ts";

/** What a put adds to the catalogue. */
export interface PutRecord {
  /** Tessera id. */
  readonly id: TesseraId;
  /** Name given with `put --name`. */
  readonly name?: string;
  /** Bytes the owner put (plaintext). */
  readonly size: number;
  /** The content key of a private tessera. */
  readonly contentKey?: Uint8Array;
  /** When it was put (default: now), ms since the epoch. */
  readonly time?: number;
}

/**
 * The catalogue over its store and the node's phrase keys (`null` for a
 * node created before recovery phrases: it keeps public tesseras only).
 *
 * @example
 * ```ts
 * declare const store: import("../storage/mod.ts").SqliteCatalogueStore;
 * const catalogue = new OwnerCatalogue(store, null);
 * await catalogue.record({ id: "ab".repeat(32), name: "letters", size: 5 });
 * ```
 */
export class OwnerCatalogue {
  readonly #store: SqliteCatalogueStore;
  readonly #keys: PhraseKeys | null;

  /**
   * @param store the local catalogue table
   * @param keys the phrase keys, or `null` without a phrase
   */
  constructor(store: SqliteCatalogueStore, keys: PhraseKeys | null) {
    this.#store = store;
    this.#keys = keys;
  }

  /**
   * Refuse (`INVALID_INPUT`) what needs a phrase on a node without one:
   * a private tessera's key must be restorable from the phrase.
   */
  requirePhrase(): PhraseKeys {
    if (this.#keys !== null) return this.#keys;
    throw new TesserasError(
      "INVALID_INPUT",
      "this node was created before recovery phrases, and a private tessera's key is kept under the phrase: stop the node and run `tesseras recovery-phrase --rekey` first",
    );
  }

  /** Add a put, sealing its content key when it has one. */
  async record(put: PutRecord): Promise<void> {
    const sealedKey = put.contentKey === undefined
      ? null
      : await sealContentKey(put.contentKey, {
        catalogueKey: this.requirePhrase().catalogueKey,
        tesseraId: put.id,
      });
    await this.#store.record({
      id: put.id,
      name: put.name ?? null,
      size: put.size,
      time: put.time ?? Date.now(),
      sealedKey,
    });
  }

  /** The phrase keys, or `null` on a node without a phrase. */
  get keys(): PhraseKeys | null {
    return this.#keys;
  }

  /** The node's metadata under `key` (see `SqliteCatalogueStore.getMeta`). */
  meta(key: string): Promise<string | null> {
    return this.#store.getMeta(key);
  }

  /** Keep `value` as the node's metadata under `key`. */
  setMeta(key: string, value: string): Promise<void> {
    return this.#store.setMeta(key, value);
  }

  /** The row of `id`, or `null` when it is not one of ours. */
  entry(id: TesseraId): Promise<LocalCatalogueEntry | null> {
    return this.#store.get(id);
  }

  /** Every row, oldest first. */
  list(): Promise<LocalCatalogueEntry[]> {
    return this.#store.list();
  }

  /** The content key of our private tessera `id`; `null` when public or not ours. */
  async contentKey(id: TesseraId): Promise<Uint8Array | null> {
    const entry = await this.#store.get(id);
    if (entry?.sealedKey == null) return null;
    return await openContentKey(entry.sealedKey, {
      catalogueKey: this.requirePhrase().catalogueKey,
      tesseraId: id,
    });
  }

  /**
   * The read capability of our private tessera `id`: `NOT_FOUND` when it
   * is not ours, `INVALID_INPUT` when it is public.
   */
  async capability(id: TesseraId): Promise<string> {
    const entry = await this.#store.get(id);
    if (entry === null) {
      throw new TesserasError(
        "NOT_FOUND",
        `tessera ${id} is not one of this node's tesseras`,
      );
    }
    const key = await this.contentKey(id);
    if (key === null) {
      throw new TesserasError(
        "INVALID_INPUT",
        `tessera ${id} is public: its id is all anyone needs to get it`,
      );
    }
    return formatCapability({ id, key });
  }
}
