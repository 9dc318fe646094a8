/**
 * The DHT peer store of the bootstrap document (seed 004): table
 * `dht_peers(peer_id, multiaddr, first_seen, last_seen)` with unix-second
 * timestamps, an UPSERT on every established connection and identify
 * result, `loadPeers` grouped by peer to fill the routing table at start,
 * `cleanupStale` to forget peers not seen for a week.
 *
 * @module
 */
import {
  type Clock,
  type IoOptions,
  type PeerId,
  TesserasError,
} from "../core/mod.ts";
import { type Database, withTransaction } from "./database.ts";
import { runStorage } from "./io_errors.ts";
import { assertPeerId, hasControlChar } from "./validation.ts";

/** Default age after which a peer address is stale: 7 days, in seconds. */
export const DEFAULT_PEER_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;

/** Longest multiaddr accepted, in characters. */
export const MAX_MULTIADDR_LENGTH = 1024;

/** Options of {@linkcode SqlitePeerStore}. */
export interface SqlitePeerStoreOptions {
  /** Time source, ms since the epoch (default: wall clock). */
  readonly clock?: Pick<Clock, "now">;
}

/** A peer with every address known for it. */
export interface StoredPeer {
  /** The peer's id. */
  readonly peerId: PeerId;
  /** Its multiaddrs, most recently seen first. */
  readonly multiaddrs: string[];
}

/** One row of `dht_peers`. */
export interface PeerAddressRecord {
  /** The peer's id. */
  readonly peerId: PeerId;
  /** One of its multiaddrs. */
  readonly multiaddr: string;
  /** First time seen at this address, unix seconds. */
  readonly firstSeen: number;
  /** Last time seen at this address, unix seconds. */
  readonly lastSeen: number;
}

/** Counts for `/health` (`storage.total_peers` …). */
export interface PeerStoreStats {
  /** Distinct peers. */
  readonly totalPeers: number;
  /** Rows (peer, address pairs). */
  readonly totalAddresses: number;
  /**
   * Peers none of whose addresses was seen within the max age: the peers
   * the next `cleanupStale` would forget entirely.
   */
  readonly stalePeers: number;
  /** Addresses not seen within the max age (what `cleanupStale` removes). */
  readonly staleAddresses: number;
}

/**
 * The SQLite peer store.
 *
 * @example
 * ```ts
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const peerId: string;
 * const peers = new SqlitePeerStore(db);
 * await peers.addPeer(peerId, "/ip4/203.0.113.7/tcp/4001");
 * const known = (await peers.loadPeers()).map((p) => p.peerId);
 * await peers.cleanupStale(); // forget addresses older than 7 days
 * ```
 */
export class SqlitePeerStore {
  readonly #db: Database;
  readonly #clock: Pick<Clock, "now">;

  /**
   * @param db a database opened by `openDatabase` (the `dht_peers` table)
   * @param options time source
   */
  constructor(db: Database, options: SqlitePeerStoreOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /**
   * Records that `peerId` was seen at `multiaddr` now: a new row gets
   * `first_seen = last_seen = now`; an existing one keeps `first_seen`
   * and moves `last_seen` forward (never back).
   */
  addPeer(
    peerId: PeerId,
    multiaddr: string,
    options: IoOptions = {},
  ): Promise<void> {
    return this.#run("recording a peer", options, () => {
      assertPeerId(peerId);
      checkMultiaddr(multiaddr);
      this.#db.prepare(
        `INSERT INTO dht_peers (peer_id, multiaddr, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (peer_id, multiaddr) DO UPDATE SET
           last_seen = MAX(last_seen, excluded.last_seen)`,
      ).run(peerId, multiaddr, this.#nowSeconds());
    });
  }

  /**
   * Records several addresses of one peer in one transaction (an identify
   * result).
   */
  addPeerAddresses(
    peerId: PeerId,
    multiaddrs: readonly string[],
    options: IoOptions = {},
  ): Promise<void> {
    return this.#run("recording peer addresses", options, () => {
      assertPeerId(peerId);
      multiaddrs.forEach(checkMultiaddr);
      const now = this.#nowSeconds();
      withTransaction(this.#db, () => {
        const upsert = this.#db.prepare(
          `INSERT INTO dht_peers (peer_id, multiaddr, first_seen, last_seen)
           VALUES (?1, ?2, ?3, ?3)
           ON CONFLICT (peer_id, multiaddr) DO UPDATE SET
             last_seen = MAX(last_seen, excluded.last_seen)`,
        );
        for (const a of multiaddrs) upsert.run(peerId, a, now);
      });
    });
  }

  /**
   * Forgets one address of a peer, or all of them when `multiaddr` is
   * omitted; returns the number of rows removed.
   */
  removePeer(
    peerId: PeerId,
    multiaddr?: string,
    options: IoOptions = {},
  ): Promise<number> {
    return this.#run("removing a peer", options, () => {
      assertPeerId(peerId);
      if (multiaddr === undefined) {
        return Number(
          this.#db.prepare("DELETE FROM dht_peers WHERE peer_id = ?")
            .run(peerId).changes,
        );
      }
      checkMultiaddr(multiaddr);
      return Number(
        this.#db.prepare(
          "DELETE FROM dht_peers WHERE peer_id = ? AND multiaddr = ?",
        ).run(peerId, multiaddr).changes,
      );
    });
  }

  /**
   * Every known peer with its addresses, for filling the routing table at
   * start. Peers are ordered by most recent sighting first, addresses
   * within a peer likewise.
   */
  loadPeers(options: IoOptions = {}): Promise<StoredPeer[]> {
    return this.#run("loading peers", options, () => {
      const rows = this.#db.prepare(
        `SELECT d.peer_id AS peer_id, d.multiaddr AS multiaddr
         FROM dht_peers d
         JOIN (SELECT peer_id, MAX(last_seen) AS seen FROM dht_peers
               GROUP BY peer_id) p ON p.peer_id = d.peer_id
         ORDER BY p.seen DESC, d.peer_id, d.last_seen DESC, d.multiaddr`,
      ).all() as unknown as { peer_id: string; multiaddr: string }[];
      const out: StoredPeer[] = [];
      for (const r of rows) {
        const last = out.at(-1);
        if (last && last.peerId === r.peer_id) {
          last.multiaddrs.push(String(r.multiaddr));
        } else {
          out.push({
            peerId: String(r.peer_id),
            multiaddrs: [String(r.multiaddr)],
          });
        }
      }
      return out;
    });
  }

  /** Every row, most recently seen first (for `tesseras peers`). */
  listAddresses(options: IoOptions = {}): Promise<PeerAddressRecord[]> {
    return this.#run("listing peers", options, () => {
      const rows = this.#db.prepare(
        `SELECT peer_id, multiaddr, first_seen, last_seen FROM dht_peers
         ORDER BY last_seen DESC, peer_id, multiaddr`,
      ).all();
      return rows.map((r) => ({
        peerId: String(r.peer_id),
        multiaddr: String(r.multiaddr),
        firstSeen: Number(r.first_seen),
        lastSeen: Number(r.last_seen),
      }));
    });
  }

  /**
   * Removes every address not seen for more than `maxAgeSeconds` (default
   * 7 days; an address exactly that old stays) and returns how many rows
   * were removed.
   */
  cleanupStale(
    maxAgeSeconds: number = DEFAULT_PEER_MAX_AGE_SECONDS,
    options: IoOptions = {},
  ): Promise<number> {
    return this.#run("removing stale peers", options, () => {
      const cutoff = this.#cutoff(maxAgeSeconds);
      return Number(
        this.#db.prepare("DELETE FROM dht_peers WHERE last_seen < ?")
          .run(cutoff).changes,
      );
    });
  }

  /** Totals for `/health`; "stale" uses `maxAgeSeconds` (default 7 days). */
  stats(
    maxAgeSeconds: number = DEFAULT_PEER_MAX_AGE_SECONDS,
    options: IoOptions = {},
  ): Promise<PeerStoreStats> {
    return this.#run("counting peers", options, () => {
      const cutoff = this.#cutoff(maxAgeSeconds);
      const row = this.#db.prepare(
        `SELECT
           (SELECT COUNT(DISTINCT peer_id) FROM dht_peers) AS total_peers,
           (SELECT COUNT(*) FROM dht_peers) AS total_addresses,
           (SELECT COUNT(*) FROM (SELECT peer_id FROM dht_peers
              GROUP BY peer_id HAVING MAX(last_seen) < ?1)) AS stale_peers,
           (SELECT COUNT(*) FROM dht_peers WHERE last_seen < ?1)
             AS stale_addresses`,
      ).get(cutoff);
      return {
        totalPeers: Number(row?.total_peers ?? 0),
        totalAddresses: Number(row?.total_addresses ?? 0),
        stalePeers: Number(row?.stale_peers ?? 0),
        staleAddresses: Number(row?.stale_addresses ?? 0),
      };
    });
  }

  #nowSeconds(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  #cutoff(maxAgeSeconds: number): number {
    if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
      throw new TesserasError(
        "INVALID_INPUT",
        `max age must be a whole non-negative number of seconds, got ${maxAgeSeconds}`,
      );
    }
    return this.#nowSeconds() - maxAgeSeconds;
  }

  #run<T>(what: string, options: IoOptions, fn: () => T): Promise<T> {
    return runStorage(what, fn, options);
  }
}

function checkMultiaddr(multiaddr: unknown): asserts multiaddr is string {
  if (
    typeof multiaddr !== "string" || !multiaddr.startsWith("/") ||
    multiaddr.length > MAX_MULTIADDR_LENGTH || hasControlChar(multiaddr)
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid multiaddr ${
        JSON.stringify(String(multiaddr).slice(0, 80))
      }: expected a string starting with "/" of at most ${MAX_MULTIADDR_LENGTH} printable characters`,
    );
  }
}
