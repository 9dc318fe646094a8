/**
 * Replication settings with the defaults of SPEC §6.
 *
 * @module
 */

const MIB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;

/** Settings of the replication layer. */
export interface ReplicationConfig {
  /** Time between repair sweeps, ms (24 h). */
  readonly repairIntervalMs: number;
  /**
   * Random extra delay added to each sweep, up to this many ms (2 h; when
   * only the interval is set, 1/12 of it, as 2 h is of 24 h).
   */
  readonly repairJitterMs: number;
  /** Fragment transfers in flight at once (4). */
  readonly concurrentTransfers: number;
  /**
   * When above 0, a push keeps up to this many shards in flight to each
   * holder it places on (a holder stores several of one sender's shards
   * at once), in place of the `concurrentTransfers` cap; the transfer
   * budget still bounds the bytes in flight. 0 (the default): SPEC's
   * `concurrentTransfers` alone.
   */
  readonly transfersPerHolder: number;
  /** Refuse fragments when free disk would fall below this, bytes (1 GB). */
  readonly minFreeSpaceBytes: number;
  /** Refuse a sender whose deficit exceeds this, bytes (256 MB). */
  readonly deficitToleranceBytes: number;
  /** Most bytes stored for any one peer (1 GB). */
  readonly perPeerStorageLimitBytes: number;
  /** Whole-file copies of a Small tessera (r = 7). */
  readonly smallReplicas: number;
  /** Most placements per IPv4 /24 or IPv6 /48 (2). */
  readonly maxPerSubnet: number;
  /** Per-message network timeout, ms. */
  readonly requestTimeoutMs: number;
  /**
   * Owner silence after which a tessera's holders take over as its
   * stewards (docs/stewards.md), ms (3 days).
   */
  readonly stewardAfterMs: number;
  /**
   * How long a steward keeps counting a silent holder's shards before it
   * counts them as gone and rebuilds them, ms (2 days).
   */
  readonly stewardGraceMs: number;
  /**
   * A steward with no copy of an orphan (its rebuild would fetch
   * `dataShards` shards) rebuilds once this percentage of the orphan's
   * parity shards is lost, not at the first loss: a steward that leaves
   * before then never fetches (docs/stewards.md, 50; 0: at the first
   * loss). A steward with a copy, and an owner, repair at the first loss.
   */
  readonly stewardRebuildAtPercent: number;
  /**
   * Time between the holder's scrubs of every shard it holds (full BLAKE3
   * against the checksum, docs/proofs.md), ms (7 days; 0: never).
   */
  readonly scrubIntervalMs: number;
  /**
   * The longest mean gap between a sweep's audits of a holder with a long
   * proven record, in repair intervals (3; 1: every holder at every sweep,
   * the schedule before issue 13). See lib/replication/audit_schedule.ts.
   */
  readonly auditMaxGapIntervals: number;
}

/** The defaults of SPEC §6. */
export const DEFAULT_REPLICATION_CONFIG: ReplicationConfig = {
  repairIntervalMs: 24 * HOUR,
  repairJitterMs: 2 * HOUR,
  concurrentTransfers: 4,
  transfersPerHolder: 0,
  minFreeSpaceBytes: 1_000_000_000,
  deficitToleranceBytes: 256 * MIB,
  perPeerStorageLimitBytes: 1_000_000_000,
  smallReplicas: 7,
  maxPerSubnet: 2,
  requestTimeoutMs: 30_000,
  stewardAfterMs: 72 * HOUR,
  stewardGraceMs: 48 * HOUR,
  stewardRebuildAtPercent: 50,
  scrubIntervalMs: 7 * 24 * HOUR,
  auditMaxGapIntervals: 14,
};

/** The default jitter is this fraction of the interval (2 h of 24 h). */
const JITTER_PER_INTERVAL = 1 / 12;

/**
 * The defaults overridden by `overrides`. An interval given without a
 * jitter brings its own default jitter, 1/12 of it: a 4 s interval must
 * not wait up to 2 h for its first sweep.
 *
 * @example
 * ```ts
 * const cfg = replicationConfig({ maxPerSubnet: 3 });
 * replicationConfig({ repairIntervalMs: 4000 }).repairJitterMs; // 333
 * ```
 */
export function replicationConfig(
  overrides: Partial<ReplicationConfig> = {},
): ReplicationConfig {
  const interval = overrides.repairIntervalMs;
  const jitter = overrides.repairJitterMs ??
    (interval === undefined
      ? DEFAULT_REPLICATION_CONFIG.repairJitterMs
      : Math.round(interval * JITTER_PER_INTERVAL));
  return {
    ...DEFAULT_REPLICATION_CONFIG,
    ...overrides,
    repairJitterMs: jitter,
  };
}
