/**
 * The reciprocity credit of shards held for others, kept in step with the
 * `fragments` rows: a row's insert, claim or delete and the change of its
 * sender's `reciprocity_balances.bytes_stored_for_them` run in ONE
 * transaction, and the reconciliation of the credits against the rows.
 *
 * Invariant kept by those transactions: for every peer P,
 * `attributed(P) <= bytes_stored_for_them(P) <= attributed(P) + unattributed`,
 * where `attributed(P)` sums the rows whose `sender_peer_id` is P and
 * `unattributed` the rows without a sender (written before migration 004;
 * each was credited to some peer, or lost its credit in a crash). Once no
 * unattributed row is left, the credit is exactly what is held.
 *
 * Every function here is synchronous and runs its own `BEGIN IMMEDIATE`
 * transaction (`withTransaction`): no other code can interleave.
 *
 * @module
 */
import type { FragmentId, PeerId } from "../core/mod.ts";
import { type Database, withTransaction } from "./database.ts";

/** One peer's credit changed by {@linkcode reconcileHeldCredit}. */
export interface LedgerCorrection {
  /** The peer. */
  readonly peerId: PeerId;
  /** `bytes_stored_for_them` before. */
  readonly before: number;
  /** `bytes_stored_for_them` after (or that it should be, without `repair`). */
  readonly after: number;
  /** Bytes of the shards held whose recorded sender is this peer. */
  readonly attributedBytes: number;
}

/** What {@linkcode reconcileHeldCredit} found. */
export interface LedgerReconciliation {
  /** Peers looked at (ledger rows and senders of held shards). */
  readonly peersChecked: number;
  /** Bytes of held shards without a recorded sender (pre-004 rows). */
  readonly unattributedBytes: number;
  /** Peers whose credit was outside the bounds the rows allow. */
  readonly corrections: readonly LedgerCorrection[];
  /** Whether the corrections were written. */
  readonly repaired: boolean;
}

/**
 * Inserts the row of a shard just renamed into place and, when it has a
 * sender, credits its size to the sender, in one transaction. Throws what
 * SQLite throws (nothing is written then).
 *
 * @example
 * ```ts
 * import type { FragmentId } from "../core/mod.ts";
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const id: FragmentId;
 * declare const now: number;
 * insertHeld(db, { id, size: 1024, storedAt: now, sender: "12D3KooW…" });
 * ```
 */
export function insertHeld(
  db: Database,
  row: {
    id: FragmentId;
    size: number;
    storedAt: number;
    sender: PeerId | undefined;
  },
): void {
  const { id, size, storedAt, sender } = row;
  withTransaction(db, () => {
    db.prepare(
      `INSERT INTO fragments (tessera_id, shard_index, shard_count, checksum,
         size_bytes, stored_at, sender_peer_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id.tesseraId,
      id.index,
      id.shardCount,
      id.checksum,
      size,
      storedAt,
      sender ?? null,
    );
    if (sender !== undefined) creditHeld(db, sender, size, storedAt);
  });
}

/**
 * Deletes a shard's row and releases its sender's credit (if it has a
 * sender), in one transaction. Returns whether a row was deleted.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const tesseraId: string;
 * deleteHeld(db, { tesseraId, index: 3, now: Date.now() });
 * ```
 */
export function deleteHeld(
  db: Database,
  shard: { tesseraId: string; index: number; now: number },
): boolean {
  const { tesseraId, index, now } = shard;
  return withTransaction(db, () => {
    const row = db.prepare(
      `SELECT size_bytes, sender_peer_id FROM fragments
       WHERE tessera_id = ? AND shard_index = ?`,
    ).get(tesseraId, index);
    if (!row) return false;
    db.prepare(
      "DELETE FROM fragments WHERE tessera_id = ? AND shard_index = ?",
    ).run(tesseraId, index);
    if (row.sender_peer_id !== null) {
      releaseHeld(db, String(row.sender_peer_id), Number(row.size_bytes), now);
    }
    return true;
  });
}

/** Adds `bytes` to the peer's `bytes_stored_for_them` (one UPSERT). */
function creditHeld(
  db: Database,
  peer: PeerId,
  bytes: number,
  now: number,
): void {
  db.prepare(
    `INSERT INTO reciprocity_balances (peer_id, bytes_stored_for_them, updated_at)
     VALUES (?, ?, ?)
     ON CONFLICT (peer_id) DO UPDATE SET
       bytes_stored_for_them = bytes_stored_for_them + excluded.bytes_stored_for_them,
       updated_at = excluded.updated_at`,
  ).run(peer, bytes, now);
}

/**
 * Takes `bytes` off the peer's `bytes_stored_for_them`, never below 0
 * (a credit that was never given is not taken twice).
 */
function releaseHeld(
  db: Database,
  peer: PeerId,
  bytes: number,
  now: number,
): void {
  db.prepare(
    `UPDATE reciprocity_balances
     SET bytes_stored_for_them = MAX(0, bytes_stored_for_them - ?),
         updated_at = ?
     WHERE peer_id = ?`,
  ).run(bytes, now, peer);
}

/**
 * Records `peer` as the sender of a held shard that had none (a pre-004
 * row re-pushed by its owner) and credits what the peer's credit lacks to
 * cover its attributed shards, this one included: at most `size`, and 0
 * when its credit already covers them (the row was credited before, or we
 * cannot tell — never credit twice). Returns the bytes credited; 0 when
 * the row is absent or already has a sender.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const tesseraId: string;
 * declare const peer: string;
 * declare const now: number;
 * const credited = claimHeld(db, { tesseraId, index: 0, peer, now });
 * ```
 */
export function claimHeld(
  db: Database,
  claim: {
    tesseraId: string;
    index: number;
    peer: PeerId;
    now: number;
  },
): number {
  const { tesseraId, index, peer, now } = claim;
  return withTransaction(
    db,
    () => claimRow(db, { tesseraId, index, peer, now }),
  );
}

function claimRow(
  db: Database,
  claim: { tesseraId: string; index: number; peer: PeerId; now: number },
): number {
  const { tesseraId, index, peer, now } = claim;
  const row = db.prepare(
    `SELECT size_bytes, sender_peer_id FROM fragments
     WHERE tessera_id = ? AND shard_index = ?`,
  ).get(tesseraId, index);
  if (!row || row.sender_peer_id !== null) return 0;
  const size = Number(row.size_bytes);
  db.prepare(
    `UPDATE fragments SET sender_peer_id = ?
     WHERE tessera_id = ? AND shard_index = ?`,
  ).run(peer, tesseraId, index);
  const shortfall = attributedBytes(db, peer) - storedForThem(db, peer);
  const credit = Math.min(size, Math.max(0, shortfall));
  if (credit > 0) creditHeld(db, peer, credit, now);
  return credit;
}

/**
 * Brings every peer's `bytes_stored_for_them` within the bounds the rows
 * allow (see the module doc): exact when every held shard has a sender,
 * only clamped while pre-004 rows remain. With `repair: false` it only
 * reports. Safe while the node runs: rows and credits change together,
 * so any consistent snapshot satisfies the bounds unless something else
 * drifted. One transaction (a read transaction without `repair`).
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * const r = reconcileHeldCredit(db, { repair: true, now: Date.now() });
 * ```
 */
export function reconcileHeldCredit(
  db: Database,
  options: { repair: boolean; now: number },
): LedgerReconciliation {
  if (options.repair) return withTransaction(db, () => reconcile(db, options));
  // A report only: a read transaction for one snapshot, which also works
  // on a read-only connection.
  db.exec("BEGIN");
  try {
    return reconcile(db, options);
  } finally {
    if (db.isTransaction) db.exec("ROLLBACK");
  }
}

function reconcile(
  db: Database,
  options: { repair: boolean; now: number },
): LedgerReconciliation {
  const unattributed = Number(
    db.prepare(
      `SELECT COALESCE(SUM(size_bytes), 0) AS n FROM fragments
       WHERE sender_peer_id IS NULL`,
    ).get()?.n ?? 0,
  );
  const held = new Map<PeerId, number>();
  for (
    const r of db.prepare(
      `SELECT sender_peer_id AS peer, SUM(size_bytes) AS n FROM fragments
       WHERE sender_peer_id IS NOT NULL GROUP BY sender_peer_id`,
    ).all()
  ) {
    held.set(String(r.peer), Number(r.n));
  }
  const credit = new Map<PeerId, number>();
  for (
    const r of db.prepare(
      "SELECT peer_id, bytes_stored_for_them AS n FROM reciprocity_balances",
    ).all()
  ) {
    credit.set(String(r.peer_id), Number(r.n));
  }
  const peers = [...new Set([...held.keys(), ...credit.keys()])].sort();
  const corrections: LedgerCorrection[] = [];
  for (const peerId of peers) {
    const attributed = held.get(peerId) ?? 0;
    const before = credit.get(peerId) ?? 0;
    const after = Math.min(
      attributed + unattributed,
      Math.max(attributed, before),
    );
    if (after === before) continue;
    corrections.push({ peerId, before, after, attributedBytes: attributed });
    if (options.repair) creditHeld(db, peerId, after - before, options.now);
  }
  return {
    peersChecked: peers.length,
    unattributedBytes: unattributed,
    corrections,
    repaired: options.repair && corrections.length > 0,
  };
}

function attributedBytes(db: Database, peer: PeerId): number {
  return Number(
    db.prepare(
      `SELECT COALESCE(SUM(size_bytes), 0) AS n FROM fragments
       WHERE sender_peer_id = ?`,
    ).get(peer)?.n ?? 0,
  );
}

function storedForThem(db: Database, peer: PeerId): number {
  return Number(
    db.prepare(
      "SELECT bytes_stored_for_them AS n FROM reciprocity_balances WHERE peer_id = ?",
    ).get(peer)?.n ?? 0,
  );
}
