/**
 * The owner's memory of its peers' conduct in SQLite (migration 005):
 * refusal back-offs, liar bans, proven holders and acknowledged shards not
 * yet proven, one table each. The replication service loads it at start
 * and writes every change through, so a ban outlives a restart.
 *
 * @module
 */
import {
  type IoOptions,
  type PeerStandingChange,
  type PeerStandingSnapshot,
  type PeerStandingStore,
  type StandingLiar,
  type StandingPending,
  type StandingRefusal,
  TesserasError,
} from "../core/mod.ts";
import { type Database, withTransaction } from "./database.ts";
import { runStorage } from "./io_errors.ts";
import { assertPeerId, hasControlChar } from "./validation.ts";

/** Longest refusal code or shard key accepted, in characters. */
const MAX_TEXT_LENGTH = 256;

interface RefusalRow {
  peer_id: string;
  code: string;
  strikes: number;
  until_ms: number;
  size_bytes: number;
  credit_bytes: number;
}

interface LiarRow {
  peer_id: string;
  lies: number;
  until_ms: number;
}

interface PendingRow {
  peer_id: string;
  shard_key: string;
  size_bytes: number;
}

/**
 * The SQLite implementation of the `PeerStandingStore` port.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * const standing = new SqlitePeerStandingStore(db);
 * await standing.save({
 *   kind: "lied",
 *   liar: { peerId: "12D3KooW…", lies: 1, until: Date.now() + 90 * 86_400_000 },
 * });
 * (await standing.load()).liars; // [{ peerId: "12D3KooW…", lies: 1, until: … }]
 * ```
 */
export class SqlitePeerStandingStore implements PeerStandingStore {
  readonly #db: Database;

  /** @param db a database opened by `openDatabase` (migration 005 applied) */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Everything remembered, each list ordered by peer (and shard key).
   * With `forgetBefore`, refusal and liar records whose `until` is
   * earlier are deleted first, in the same transaction.
   */
  load(
    options: IoOptions & { readonly forgetBefore?: number } = {},
  ): Promise<PeerStandingSnapshot> {
    return this.#run("loading peer standing", options, () => {
      const { forgetBefore } = options;
      if (forgetBefore !== undefined) {
        checkInteger(forgetBefore, "forgetBefore");
      }
      return withTransaction(this.#db, () => {
        if (forgetBefore !== undefined) {
          this.#db.prepare("DELETE FROM standing_refusals WHERE until_ms < ?")
            .run(forgetBefore);
          this.#db.prepare("DELETE FROM standing_liars WHERE until_ms < ?")
            .run(forgetBefore);
        }
        const refusals = this.#db.prepare(
          `SELECT peer_id, code, strikes, until_ms, size_bytes, credit_bytes
           FROM standing_refusals ORDER BY peer_id`,
        ).all() as unknown as RefusalRow[];
        const liars = this.#db.prepare(
          "SELECT peer_id, lies, until_ms FROM standing_liars ORDER BY peer_id",
        ).all() as unknown as LiarRow[];
        const proven = this.#db.prepare(
          "SELECT peer_id FROM standing_proven ORDER BY peer_id",
        ).all() as unknown as { peer_id: string }[];
        const pending = this.#db.prepare(
          `SELECT peer_id, shard_key, size_bytes FROM standing_pending
           ORDER BY peer_id, shard_key`,
        ).all() as unknown as PendingRow[];
        return {
          refusals: refusals.map((r): StandingRefusal => ({
            peerId: String(r.peer_id),
            code: String(r.code),
            strikes: Number(r.strikes),
            until: Number(r.until_ms),
            size: Number(r.size_bytes),
            credit: Number(r.credit_bytes),
          })),
          liars: liars.map((r): StandingLiar => ({
            peerId: String(r.peer_id),
            lies: Number(r.lies),
            until: Number(r.until_ms),
          })),
          proven: proven.map((r) => String(r.peer_id)),
          pending: pending.map((r): StandingPending => ({
            peerId: String(r.peer_id),
            key: String(r.shard_key),
            size: Number(r.size_bytes),
          })),
        };
      });
    });
  }

  /** Record one change, in one statement or one transaction. */
  save(change: PeerStandingChange, options: IoOptions = {}): Promise<void> {
    return this.#run(
      `recording peer standing (${change?.kind})`,
      options,
      () => {
        if (typeof change !== "object" || change === null) {
          throw new TesserasError(
            "INVALID_INPUT",
            "a peer standing change must be an object with a kind",
          );
        }
        switch (change.kind) {
          case "refused":
            return this.#refused(change.refusal);
          case "accepted":
            assertPeerId(change.peerId);
            this.#db.prepare("DELETE FROM standing_refusals WHERE peer_id = ?")
              .run(change.peerId);
            return;
          case "lied":
            return this.#lied(change.liar);
          case "proven":
            assertPeerId(change.peerId);
            this.#db.prepare(
              "INSERT OR IGNORE INTO standing_proven (peer_id) VALUES (?)",
            ).run(change.peerId);
            return;
          case "placed":
            return this.#placed(change.pending);
          case "settled":
            assertPeerId(change.peerId);
            checkText(change.key, "shard key");
            this.#db.prepare(
              "DELETE FROM standing_pending WHERE peer_id = ? AND shard_key = ?",
            ).run(change.peerId, change.key);
            return;
          default:
            throw new TesserasError(
              "INVALID_INPUT",
              `unknown peer standing change ${
                JSON.stringify(String((change as { kind?: unknown }).kind))
              }`,
            );
        }
      },
    );
  }

  #refused(r: StandingRefusal): void {
    assertPeerId(r.peerId);
    checkText(r.code, "refusal code");
    checkInteger(r.strikes, "strikes", 1);
    checkInteger(r.until, "until");
    checkInteger(r.size, "size", 0);
    checkInteger(r.credit, "credit");
    this.#db.prepare(
      `INSERT INTO standing_refusals
         (peer_id, code, strikes, until_ms, size_bytes, credit_bytes)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET
         code = excluded.code, strikes = excluded.strikes,
         until_ms = excluded.until_ms, size_bytes = excluded.size_bytes,
         credit_bytes = excluded.credit_bytes`,
    ).run(r.peerId, r.code, r.strikes, r.until, r.size, r.credit);
  }

  #lied(l: StandingLiar): void {
    assertPeerId(l.peerId);
    checkInteger(l.lies, "lies", 1);
    checkInteger(l.until, "until");
    // A lie ends the peer's back-off and its proof: all or nothing.
    withTransaction(this.#db, () => {
      this.#db.prepare(
        `INSERT INTO standing_liars (peer_id, lies, until_ms) VALUES (?, ?, ?)
         ON CONFLICT (peer_id) DO UPDATE SET
           lies = excluded.lies, until_ms = excluded.until_ms`,
      ).run(l.peerId, l.lies, l.until);
      this.#db.prepare("DELETE FROM standing_refusals WHERE peer_id = ?")
        .run(l.peerId);
      this.#db.prepare("DELETE FROM standing_proven WHERE peer_id = ?")
        .run(l.peerId);
    });
  }

  #placed(p: StandingPending): void {
    assertPeerId(p.peerId);
    checkText(p.key, "shard key");
    checkInteger(p.size, "size", 0);
    this.#db.prepare(
      `INSERT INTO standing_pending (peer_id, shard_key, size_bytes)
       VALUES (?, ?, ?)
       ON CONFLICT (peer_id, shard_key) DO UPDATE SET
         size_bytes = excluded.size_bytes`,
    ).run(p.peerId, p.key, p.size);
  }

  #run<T>(what: string, options: IoOptions, fn: () => T): Promise<T> {
    return runStorage(what, fn, options);
  }
}

function checkInteger(value: unknown, name: string, min?: number): void {
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) ||
    (min !== undefined && value < min)
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid peer standing ${name} ${
        String(value).slice(0, 40)
      }: expected a whole number${
        min !== undefined ? ` of at least ${min}` : ""
      }`,
    );
  }
}

function checkText(value: unknown, name: string): void {
  if (
    typeof value !== "string" || value.length === 0 ||
    value.length > MAX_TEXT_LENGTH || hasControlChar(value)
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid ${name} ${
        JSON.stringify(String(value).slice(0, 80))
      }: expected 1 to ${MAX_TEXT_LENGTH} printable characters`,
    );
  }
}
