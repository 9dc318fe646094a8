/**
 * The audit schedule of repair sweeps (docs/proofs.md, "The audit
 * schedule"): which holders a sweep challenges with chunk proofs. Liveness
 * and honesty are checked apart. Every holder not challenged is pinged at
 * every sweep (health.ts, liveness.ts), so a holder that left is found at
 * the first sweep after it left, whatever its schedule. Proofs catch what
 * a ping cannot, a holder that is up but lost or deleted the bytes, and
 * as Storj tunes its audit rates, a holder earns fewer of them with a
 * long proven record, while a new or suspect one is challenged at every
 * sweep:
 *
 * - never proven, or not proven to us as a peer (`standing.isProven`):
 *   due at every sweep;
 * - otherwise its *proven record* is how long it has held the shards and
 *   kept proving them: `lastAttestedAt − storedAt` (a failed check drops
 *   the record, so the record starts over with a new placement). The
 *   mean gap between its audits is its record, at least one repair
 *   interval, at most `auditMaxGapIntervals` of them (14 by default: two
 *   weeks of daily sweeps). So a new holder reaches the cap with two
 *   weeks of record, not four as with half its record, which had made
 *   nearly every proof of a month-long run one of a holder on its ramp
 *   (docs/proofs.md);
 * - between audits the holder cannot tell when the next comes: each sweep
 *   challenges it with probability `interval / gap` (memoryless, from the
 *   service's randomness), and always once `2 × gap` has passed since its
 *   last proof. So a holder that deleted its shards is found after `gap`
 *   on average, `2 × gap` at worst;
 * - a tessera not healthy at its last check is suspect: every holder is
 *   challenged (not one a steward chose not to rebuild yet, recorded as
 *   `deferred`: its shortfall is holders already judged gone); and when a
 *   due holder answers but fails its proof, the rest are challenged in
 *   the same sweep, so such losses are found together.
 *
 * A holder the owner leaves unchallenged past `stewardAfterMs` does not
 * take the tessera for orphaned: it pings the owner first, and a live
 * owner counts as seen (docs/stewards.md). Stewards follow the same
 * schedule; a backup steward defers to a closer one that is up for
 * {@linkcode auditForcedWithinMs} more, the longest it can go unaudited.
 *
 * A holder not challenged that answers the ping is `trusted` in the
 * report: its shards count as live on its record. Checks of one tessera
 * (`status`, `repair ID`, `drop-local`'s fresh audit, `attestHolder`)
 * challenge every holder; only the sweeps follow the schedule.
 *
 * @module
 */
import {
  DEFAULT_REPLICATION_CONFIG,
  type HolderRecord,
  type PeerId,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Internal: the longest a proven holder goes without a proof from one
 * requester that sweeps daily: twice the longest mean gap.
 */
export function auditForcedWithinMs(
  ctx: Pick<ServiceContext, "config">,
): number {
  const { repairIntervalMs, auditMaxGapIntervals } = ctx.config;
  return 2 * repairIntervalMs * Math.max(1, auditMaxGapIntervals);
}

/**
 * The default longest mean gap between a holder's audits, in repair
 * intervals (the setting is `auditMaxGapIntervals`).
 */
export const AUDIT_MAX_GAP_INTERVALS: number =
  DEFAULT_REPLICATION_CONFIG.auditMaxGapIntervals;

/**
 * Internal: whether a sweep challenges the holder `peer` of `records`
 * (its records of one tessera) now.
 */
export function auditDue(
  ctx: ServiceContext,
  holder: { readonly peer: PeerId; readonly records: readonly HolderRecord[] },
  now: number,
): boolean {
  const interval = ctx.config.repairIntervalMs;
  const maxGap = interval * ctx.config.auditMaxGapIntervals;
  if (!(maxGap > interval) || !ctx.standing.isProven(holder.peer)) return true;
  // The weakest record decides: any shard not yet proven makes it due.
  let record = Infinity, last = Infinity;
  for (const r of holder.records) {
    if (r.lastAttestedAt === null) return true;
    record = Math.min(record, r.lastAttestedAt - r.storedAt);
    last = Math.min(last, r.lastAttestedAt);
  }
  const gap = Math.min(maxGap, Math.max(interval, record));
  if (now - last >= 2 * gap) return true;
  return ctx.rng.next() < interval / gap;
}
