/**
 * The reciprocity ledger in SQLite: one row per peer, counters changed
 * only by an UPSERT increment (atomic, whichever connection or process
 * does it), `balance` a GENERATED column computed by SQLite itself.
 *
 * @module
 */
import {
  type Clock,
  type PeerBalance,
  type PeerId,
  type ReciprocityLedger,
  TesserasError,
} from "../core/mod.ts";
import type { Database } from "./database.ts";
import { runStorage } from "./io_errors.ts";
import { assertPeerId } from "./validation.ts";

/** Options of {@linkcode SqliteReciprocityLedger}. */
export interface SqliteLedgerOptions {
  /** Time source for `updated_at` (default: wall clock). */
  readonly clock?: Pick<Clock, "now">;
}

interface BalanceRow {
  peer_id: string;
  bytes_stored_for_them: number;
  bytes_they_store_for_us: number;
  balance: number;
  institutional: number;
  updated_at: number;
}

const COLUMNS =
  "peer_id, bytes_stored_for_them, bytes_they_store_for_us, balance, institutional, updated_at";

/**
 * The SQLite implementation of the `ReciprocityLedger` port.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * const ledger = new SqliteReciprocityLedger(db);
 * await ledger.recordStoredForThem("12D3KooW…", 1024);
 * await ledger.balance("12D3KooW…"); // -1024
 * ```
 */
export class SqliteReciprocityLedger implements ReciprocityLedger {
  readonly #db: Database;
  readonly #clock: Pick<Clock, "now">;

  /**
   * @param db a database opened by `openDatabase`
   * @param options time source
   */
  constructor(db: Database, options: SqliteLedgerOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** We accepted `bytes` of the peer's data (negative to release). */
  recordStoredForThem(peer: PeerId, bytes: number): Promise<void> {
    return this.#increment(peer, bytes, "bytes_stored_for_them");
  }

  /** The peer accepted `bytes` of our data (negative to release). */
  recordTheyStoreForUs(peer: PeerId, bytes: number): Promise<void> {
    return this.#increment(peer, bytes, "bytes_they_store_for_us");
  }

  /** `bytesTheyStoreForUs - bytesStoredForThem`; 0 for unknown peers. */
  balance(peer: PeerId): Promise<number> {
    return this.#run(() => {
      assertPeerId(peer);
      const row = this.#db.prepare(
        "SELECT balance FROM reciprocity_balances WHERE peer_id = ?",
      ).get(peer);
      return Number(row?.balance ?? 0);
    });
  }

  /** The peer's row, or `null` when never seen. */
  get(peer: PeerId): Promise<PeerBalance | null> {
    return this.#run(() => {
      assertPeerId(peer);
      const row = this.#db.prepare(
        `SELECT ${COLUMNS} FROM reciprocity_balances WHERE peer_id = ?`,
      ).get(peer) as BalanceRow | undefined;
      return row ? toBalance(row) : null;
    });
  }

  /** Peers with the highest balance first; ties by peer id. */
  bestPeers(n: number): Promise<PeerBalance[]> {
    return this.#run(() => {
      if (!Number.isInteger(n)) {
        throw new TesserasError("INVALID_INPUT", `bestPeers(n): n=${n}`);
      }
      const rows = this.#db.prepare(
        `SELECT ${COLUMNS} FROM reciprocity_balances
         ORDER BY balance DESC, peer_id ASC LIMIT ?`,
      ).all(Math.max(0, n)) as unknown as BalanceRow[];
      return rows.map(toBalance);
    });
  }

  /** Mark or unmark a peer as institutional (creates its row if needed). */
  setInstitutional(peer: PeerId, institutional: boolean): Promise<void> {
    return this.#run(() => {
      assertPeerId(peer);
      this.#db.prepare(
        `INSERT INTO reciprocity_balances (peer_id, institutional, updated_at)
         VALUES (?, ?, ?)
         ON CONFLICT (peer_id) DO UPDATE SET
           institutional = excluded.institutional,
           updated_at = excluded.updated_at`,
      ).run(peer, institutional ? 1 : 0, this.#clock.now());
    });
  }

  /** Every row, ordered by peer id. */
  list(): Promise<PeerBalance[]> {
    return this.#run(() => {
      const rows = this.#db.prepare(
        `SELECT ${COLUMNS} FROM reciprocity_balances ORDER BY peer_id`,
      ).all() as unknown as BalanceRow[];
      return rows.map(toBalance);
    });
  }

  #increment(
    peer: PeerId,
    bytes: number,
    column: "bytes_stored_for_them" | "bytes_they_store_for_us",
  ): Promise<void> {
    return this.#run(() => {
      assertPeerId(peer);
      if (!Number.isSafeInteger(bytes)) {
        throw new TesserasError(
          "INVALID_INPUT",
          `ledger increment must be a whole number of bytes, got ${bytes}`,
        );
      }
      // One statement: the read-modify-write happens inside SQLite under
      // its write lock, so concurrent increments never lose an update.
      this.#db.prepare(
        `INSERT INTO reciprocity_balances (peer_id, ${column}, updated_at)
         VALUES (?, ?, ?)
         ON CONFLICT (peer_id) DO UPDATE SET
           ${column} = ${column} + excluded.${column},
           updated_at = excluded.updated_at`,
      ).run(peer, bytes, this.#clock.now());
    });
  }

  #run<T>(fn: () => T): Promise<T> {
    return runStorage("reciprocity ledger", fn);
  }
}

function toBalance(r: BalanceRow): PeerBalance {
  return {
    peerId: String(r.peer_id),
    bytesStoredForThem: Number(r.bytes_stored_for_them),
    bytesTheyStoreForUs: Number(r.bytes_they_store_for_us),
    balance: Number(r.balance),
    institutional: Number(r.institutional) === 1,
    updatedAt: Number(r.updated_at),
  };
}
