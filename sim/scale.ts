/**
 * `--scale`: tier thresholds, tessera sizes and byte limits shrink
 * together, so Large-tier tesseras stay cheap to simulate.
 *
 * @module
 */
import {
  type ReplicationConfig,
  replicationConfig,
  type TierThresholds,
} from "../lib/core/mod.ts";

const MIB = 1024 * 1024;

/**
 * Tier thresholds of SPEC §2 multiplied by `scale`.
 *
 * @example
 * ```ts
 * scaledThresholds(1 / 1024); // { mediumFrom: 4096, largeFrom: 262144 }
 * ```
 */
export function scaledThresholds(scale: number): TierThresholds {
  const mediumFrom = Math.max(1, Math.round(4 * MIB * scale));
  const largeFrom = Math.max(mediumFrom + 1, Math.round(256 * MIB * scale));
  return { mediumFrom, largeFrom };
}

/**
 * Replication settings with every byte figure multiplied by `scale`.
 *
 * @example
 * ```ts
 * scaledConfig({}, 1 / 1024).deficitToleranceBytes; // 262144
 * ```
 */
export function scaledConfig(
  overrides: Partial<ReplicationConfig>,
  scale: number,
): ReplicationConfig {
  const c = replicationConfig(overrides);
  const s = (x: number) => Math.max(1, Math.round(x * scale));
  return {
    ...c,
    minFreeSpaceBytes: s(c.minFreeSpaceBytes),
    deficitToleranceBytes: s(c.deficitToleranceBytes),
    perPeerStorageLimitBytes: s(c.perPeerStorageLimitBytes),
  };
}
