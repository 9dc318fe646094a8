/**
 * An in-memory {@linkcode ReciprocityLedger} with the same arithmetic as
 * the SQLite one (`balance = bytesTheyStoreForUs - bytesStoredForThem`).
 *
 * @module
 */
import type { PeerBalance, PeerId, ReciprocityLedger } from "../core/mod.ts";

interface Row {
  stored: number;
  theyStore: number;
  institutional: boolean;
  updatedAt: number;
}

/** Options of {@linkcode MemoryReciprocityLedger}. */
export interface MemoryLedgerOptions {
  /** Source of `updatedAt` (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Bilateral storage accounting in a map.
 *
 * @example
 * ```ts
 * const ledger = new MemoryReciprocityLedger();
 * await ledger.recordStoredForThem("peerA", 1024);
 * await ledger.balance("peerA"); // -1024
 * ```
 */
export class MemoryReciprocityLedger implements ReciprocityLedger {
  readonly #rows = new Map<PeerId, Row>();
  /** Peer ids in order, until a peer is added (rows are never removed). */
  #sorted: PeerId[] | null = null;
  readonly #now: () => number;

  /**
   * An empty ledger.
   *
   * @param options see {@linkcode MemoryLedgerOptions}
   */
  constructor(options: MemoryLedgerOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  #row(peer: PeerId): Row {
    let row = this.#rows.get(peer);
    if (!row) {
      row = { stored: 0, theyStore: 0, institutional: false, updatedAt: 0 };
      this.#rows.set(peer, row);
      this.#sorted = null;
    }
    row.updatedAt = this.#now();
    return row;
  }

  /** We accepted `bytes` of the peer's data (negative to release). */
  recordStoredForThem(peer: PeerId, bytes: number): Promise<void> {
    this.#row(peer).stored += bytes;
    return Promise.resolve();
  }

  /** The peer accepted `bytes` of our data (negative to release). */
  recordTheyStoreForUs(peer: PeerId, bytes: number): Promise<void> {
    this.#row(peer).theyStore += bytes;
    return Promise.resolve();
  }

  /** `bytesTheyStoreForUs - bytesStoredForThem`; 0 for unknown peers. */
  balance(peer: PeerId): Promise<number> {
    const row = this.#rows.get(peer);
    return Promise.resolve(row ? row.theyStore - row.stored : 0);
  }

  /** The peer's row now, synchronously (for a linked fragment store). */
  peek(peer: PeerId): PeerBalance | null {
    const row = this.#rows.get(peer);
    return row ? toBalance(peer, row) : null;
  }

  /** The peer's row, or `null`. */
  get(peer: PeerId): Promise<PeerBalance | null> {
    const row = this.#rows.get(peer);
    return Promise.resolve(row ? toBalance(peer, row) : null);
  }

  /** Highest balance first; ties by peer id for determinism. */
  bestPeers(n: number): Promise<PeerBalance[]> {
    return this.list().then((rows) =>
      rows.sort((a, b) =>
        b.balance - a.balance || (a.peerId < b.peerId ? -1 : 1)
      ).slice(0, Math.max(0, n))
    );
  }

  /** Mark or unmark a peer as institutional. */
  setInstitutional(peer: PeerId, institutional: boolean): Promise<void> {
    this.#row(peer).institutional = institutional;
    return Promise.resolve();
  }

  /** Every row, ordered by peer id. */
  list(): Promise<PeerBalance[]> {
    // Owners list the ledger at every push: sorted once per new peer.
    const peers = this.#sorted ??= [...this.#rows.keys()].sort();
    return Promise.resolve(peers.map((p) => toBalance(p, this.#rows.get(p)!)));
  }
}

function toBalance(peerId: PeerId, row: Row): PeerBalance {
  return {
    peerId,
    bytesStoredForThem: row.stored,
    bytesTheyStoreForUs: row.theyStore,
    balance: row.theyStore - row.stored,
    institutional: row.institutional,
    updatedAt: row.updatedAt,
  };
}
