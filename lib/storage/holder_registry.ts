/**
 * What the owner remembers about placement, in SQLite: fragment plans
 * (`fragment_plans`), shard checksums (`plan_shards`), holders (`holders`)
 * and which holder has which shard (`holder_fragments`).
 *
 * @module
 */
import {
  assertTesseraId,
  type Checksum,
  type Clock,
  type FragmentPlan,
  type HolderRecord,
  type HolderRegistry,
  isTesseraId,
  type PeerId,
  type TesseraId,
  TesserasError,
  type TrackedTessera,
} from "../core/mod.ts";
import { type Database, withTransaction } from "./database.ts";
import { runStorage } from "./io_errors.ts";
import {
  assertPeerId,
  assertShardIndex,
  MAX_SHARD_COUNT,
} from "./validation.ts";

/** Options of {@linkcode SqliteHolderRegistry}. */
export interface SqliteHolderRegistryOptions {
  /** Time source for `created_at` and `stored_at` (default: wall clock). */
  readonly clock?: Pick<Clock, "now">;
}

interface PlanRow {
  tessera_id: string;
  size_bytes: number;
  tier: string;
  data_shards: number;
  parity_shards: number;
  shard_size: number;
  created_at: number;
  last_checked_at: number | null;
  last_health: string | null;
}

interface HolderRow {
  shard_index: number;
  peer_id: string;
  stored_at: number;
  last_attested_at: number | null;
  ip: string | null;
}

const TIERS = new Set(["small", "medium", "large"]);

/**
 * The SQLite implementation of the `HolderRegistry` port. Re-tracking a
 * tessera keeps its creation time, last check and the holders of every
 * index that still exists.
 *
 * @example
 * ```ts
 * import type { Checksum, FragmentPlan } from "../core/mod.ts";
 * import type { Database } from "./database.ts";
 * declare const db: Database;
 * declare const id: string;
 * declare const plan: FragmentPlan;
 * declare const checksums: Checksum[];
 * const registry = new SqliteHolderRegistry(db);
 * await registry.track(id, { plan, checksums });
 * await registry.addHolder(id, { index: 0, peerId: "12D3KooW…" });
 * ```
 */
export class SqliteHolderRegistry implements HolderRegistry {
  readonly #db: Database;
  readonly #clock: Pick<Clock, "now">;

  /**
   * @param db a database opened by `openDatabase`
   * @param options time source
   */
  constructor(db: Database, options: SqliteHolderRegistryOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** Record (or replace) a tessera's plan and shard checksums. */
  track(
    tesseraId: TesseraId,
    placement: { plan: FragmentPlan; checksums: readonly Checksum[] },
  ): Promise<void> {
    return runStorage(`tracking ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      const { plan, checksums } = placement;
      checkPlan(plan, checksums);
      const db = this.#db;
      withTransaction(db, () => {
        db.prepare(
          `INSERT INTO fragment_plans (tessera_id, size_bytes, tier,
             data_shards, parity_shards, shard_size, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tessera_id) DO UPDATE SET
             size_bytes = excluded.size_bytes, tier = excluded.tier,
             data_shards = excluded.data_shards,
             parity_shards = excluded.parity_shards,
             shard_size = excluded.shard_size`,
        ).run(
          tesseraId,
          plan.size,
          plan.tier,
          plan.dataShards,
          plan.parityShards,
          plan.shardSize,
          this.#clock.now(),
        );
        // Indices past the new count go, and their holders with them
        // (ON DELETE CASCADE); the others are updated in place.
        db.prepare(
          "DELETE FROM plan_shards WHERE tessera_id = ? AND shard_index >= ?",
        ).run(tesseraId, checksums.length);
        const upsert = db.prepare(
          `INSERT INTO plan_shards (tessera_id, shard_index, checksum)
           VALUES (?, ?, ?)
           ON CONFLICT (tessera_id, shard_index) DO UPDATE SET
             checksum = excluded.checksum`,
        );
        checksums.forEach((c, i) => upsert.run(tesseraId, i, c));
      });
    });
  }

  /** The tracked tessera, or `null`. */
  get(tesseraId: TesseraId): Promise<TrackedTessera | null> {
    return runStorage(`reading ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      const row = this.#db.prepare(
        "SELECT * FROM fragment_plans WHERE tessera_id = ?",
      ).get(tesseraId) as PlanRow | undefined;
      return row ? this.#toTracked(row) : null;
    });
  }

  /** All tracked tesseras, ordered by id. */
  list(): Promise<TrackedTessera[]> {
    return runStorage("listing tracked tesseras", () => {
      const rows = this.#db.prepare(
        "SELECT * FROM fragment_plans ORDER BY tessera_id",
      ).all() as unknown as PlanRow[];
      return rows.map((r) => this.#toTracked(r));
    });
  }

  /** Stop tracking a tessera and forget its holders (no error if unknown). */
  untrack(tesseraId: TesseraId): Promise<void> {
    return runStorage(`untracking ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      // Cascades to plan_shards and holder_fragments.
      this.#db.prepare("DELETE FROM fragment_plans WHERE tessera_id = ?")
        .run(tesseraId);
    });
  }

  /**
   * `peer` now holds shard `index`; re-adding refreshes `storedAt` and
   * keeps `lastAttestedAt` (and `ip` when none is given). Rejects
   * `NOT_FOUND` for an untracked tessera and `INVALID_INPUT` for an index
   * outside its plan.
   */
  addHolder(
    tesseraId: TesseraId,
    holder: { index: number; peerId: PeerId; ip?: string },
  ): Promise<void> {
    return runStorage(`adding a holder of ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      assertShardIndex(holder.index);
      assertPeerId(holder.peerId);
      if (
        holder.ip !== undefined &&
        (typeof holder.ip !== "string" ||
          !/^[0-9a-fA-F.:]{2,45}$/.test(holder.ip))
      ) {
        throw new TesserasError(
          "INVALID_INPUT",
          `invalid holder ip ${JSON.stringify(String(holder.ip).slice(0, 60))}`,
        );
      }
      const db = this.#db;
      const now = this.#clock.now();
      withTransaction(db, () => {
        const known = db.prepare(
          `SELECT (SELECT 1 FROM fragment_plans WHERE tessera_id = ?1) AS t,
                  (SELECT 1 FROM plan_shards
                    WHERE tessera_id = ?1 AND shard_index = ?2) AS s`,
        ).get(tesseraId, holder.index);
        if (!known?.t) {
          throw new TesserasError(
            "NOT_FOUND",
            `tessera ${tesseraId} is not tracked: track it before adding holders`,
          );
        }
        if (!known.s) {
          throw new TesserasError(
            "INVALID_INPUT",
            `shard index ${holder.index} is outside the plan of ${tesseraId}`,
          );
        }
        db.prepare(
          `INSERT INTO holders (peer_id, first_stored_at) VALUES (?, ?)
           ON CONFLICT (peer_id) DO NOTHING`,
        ).run(holder.peerId, now);
        db.prepare(
          `INSERT INTO holder_fragments
             (tessera_id, shard_index, peer_id, stored_at, ip)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (tessera_id, shard_index, peer_id) DO UPDATE SET
             stored_at = excluded.stored_at,
             ip = COALESCE(excluded.ip, ip)`,
        ).run(tesseraId, holder.index, holder.peerId, now, holder.ip ?? null);
      });
    });
  }

  /**
   * `holder.peerId` no longer holds shard `holder.index` (or any shard of
   * the tessera when `index` is omitted).
   */
  removeHolder(
    tesseraId: TesseraId,
    holder: { peerId: PeerId; index?: number },
  ): Promise<void> {
    return runStorage(`removing a holder of ${tesseraId}`, () => {
      const { peerId: peer, index } = holder;
      assertTesseraId(tesseraId);
      assertPeerId(peer);
      if (index === undefined) {
        this.#db.prepare(
          "DELETE FROM holder_fragments WHERE tessera_id = ? AND peer_id = ?",
        ).run(tesseraId, peer);
      } else {
        assertShardIndex(index);
        this.#db.prepare(
          `DELETE FROM holder_fragments
           WHERE tessera_id = ? AND peer_id = ? AND shard_index = ?`,
        ).run(tesseraId, peer, index);
      }
    });
  }

  /** Every holder record of the tessera, by index then peer id. */
  holders(tesseraId: TesseraId): Promise<HolderRecord[]> {
    return runStorage(`listing holders of ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      const rows = this.#db.prepare(
        `SELECT shard_index, peer_id, stored_at, last_attested_at, ip
         FROM holder_fragments WHERE tessera_id = ?
         ORDER BY shard_index, peer_id`,
      ).all(tesseraId) as unknown as HolderRow[];
      return rows.map(toHolder);
    });
  }

  /** Mark a successful attestation of `peer` for every shard it holds. */
  markAttested(
    tesseraId: TesseraId,
    attested: { peerId: PeerId; at: number },
  ): Promise<void> {
    return runStorage(`marking an attestation for ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      assertPeerId(attested.peerId);
      checkTime(attested.at);
      withTransaction(this.#db, () => {
        this.#db.prepare(
          `UPDATE holder_fragments SET last_attested_at = ?
           WHERE tessera_id = ? AND peer_id = ?`,
        ).run(attested.at, tesseraId, attested.peerId);
        this.#db.prepare(
          `UPDATE holders SET last_attested_at = MAX(COALESCE(last_attested_at, 0), ?)
           WHERE peer_id = ?`,
        ).run(attested.at, attested.peerId);
      });
    });
  }

  /** Record the result of a health check (no error if untracked). */
  markChecked(
    tesseraId: TesseraId,
    check: { health: string; at: number },
  ): Promise<void> {
    return runStorage(`marking a check of ${tesseraId}`, () => {
      assertTesseraId(tesseraId);
      checkTime(check.at);
      this.#db.prepare(
        `UPDATE fragment_plans SET last_checked_at = ?, last_health = ?
         WHERE tessera_id = ?`,
      ).run(check.at, String(check.health), tesseraId);
    });
  }

  #toTracked(r: PlanRow): TrackedTessera {
    const checksums = (this.#db.prepare(
      "SELECT checksum FROM plan_shards WHERE tessera_id = ? ORDER BY shard_index",
    ).all(r.tessera_id) as unknown as { checksum: string }[]).map((c) =>
      String(c.checksum)
    );
    const dataShards = Number(r.data_shards);
    const parityShards = Number(r.parity_shards);
    return {
      tesseraId: String(r.tessera_id),
      plan: {
        size: Number(r.size_bytes),
        tier: r.tier as FragmentPlan["tier"],
        dataShards,
        parityShards,
        shardCount: dataShards + parityShards,
        shardSize: Number(r.shard_size),
      },
      checksums,
      createdAt: Number(r.created_at),
      lastCheckedAt: r.last_checked_at === null
        ? null
        : Number(r.last_checked_at),
      lastHealth: r.last_health === null ? null : String(r.last_health),
    };
  }
}

function checkPlan(plan: FragmentPlan, checksums: readonly Checksum[]): void {
  const whole = (n: unknown) =>
    typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const ok = typeof plan === "object" && plan !== null &&
    TIERS.has(plan.tier) && whole(plan.size) && whole(plan.shardSize) &&
    whole(plan.dataShards) && plan.dataShards >= 1 &&
    whole(plan.parityShards) &&
    plan.shardCount === plan.dataShards + plan.parityShards &&
    plan.shardCount <= MAX_SHARD_COUNT;
  if (!ok) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid fragment plan ${JSON.stringify(plan)}`,
    );
  }
  if (!Array.isArray(checksums) || checksums.length !== plan.shardCount) {
    throw new TesserasError(
      "INVALID_INPUT",
      `the plan has ${plan.shardCount} shards but ${
        Array.isArray(checksums) ? checksums.length : "no"
      } checksums were given`,
    );
  }
  checksums.forEach((c, i) => {
    if (!isTesseraId(c)) {
      throw new TesserasError(
        "INVALID_INPUT",
        `checksum of shard ${i} is not 64 lowercase hex characters`,
      );
    }
  });
}

function checkTime(at: number): void {
  if (!Number.isSafeInteger(at) || at < 0) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid time ${at}: expected ms since the epoch`,
    );
  }
}

function toHolder(r: HolderRow): HolderRecord {
  return {
    index: Number(r.shard_index),
    peerId: String(r.peer_id),
    storedAt: Number(r.stored_at),
    lastAttestedAt: r.last_attested_at === null
      ? null
      : Number(r.last_attested_at),
    ...(r.ip === null ? {} : { ip: String(r.ip) }),
  };
}
