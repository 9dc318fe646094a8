/**
 * Health checks of our tesseras: challenge every known holder, fall back
 * to ping for the silent ones, verify local shards, and judge.
 *
 * A holder that answers ping but fails its attestation is lost, not
 * alive: it is up but cannot prove it holds the bytes.
 *
 * @module
 */
import {
  assertTesseraId,
  type HolderRecord,
  type IoOptions,
  type PeerId,
  type TesseraHealth,
  type TesseraId,
  TesserasError,
  type TrackedTessera,
} from "../core/mod.ts";
import { challengeAll, type Expectation } from "./attest.ts";
import type { ServiceContext } from "./context.ts";
import { placementTolerance } from "./distributor.ts";
import { OwnShards } from "./own_shards.ts";
import { mapPool } from "../core/mod.ts";
import type { CheckOptions, HealthReport, HolderCheck } from "./types.ts";

/** Internal: a health check with what repair needs besides the report. */
export interface Inspection {
  readonly report: HealthReport;
  readonly tracked: TrackedTessera;
  readonly records: readonly HolderRecord[];
  /** Our shards, recomputed from the blob, or `null` without a blob. */
  readonly own: OwnShards | null;
}

/** Internal: `inspectTessera`. */
export async function inspectTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: CheckOptions,
): Promise<HealthReport> {
  return (await inspect(ctx, id, options)).report;
}

/** Internal: check one tracked tessera. */
export async function inspect(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions = {},
): Promise<Inspection> {
  assertTesseraId(id);
  const { signal } = options;
  const tracked = await ctx.holders.get(id);
  if (!tracked) {
    throw new TesserasError(
      "NOT_FOUND",
      `tessera ${id} is not tracked by this node: only its owner checks and repairs it`,
    );
  }
  const { plan } = tracked;
  const records = await ctx.holders.holders(id);
  const own = await OwnShards.open(ctx, id, { signal });
  // Records come by index, then peer: each peer's indices come out
  // ascending, and a repeat is next to its twin. Peers in order of first
  // record, as parallel arrays.
  const slotOf = new Map<PeerId, number>();
  const peers: PeerId[] = [];
  const recsOf: HolderRecord[][] = [];
  const indicesOf: number[][] = [];
  for (const r of records) {
    const at = slotOf.get(r.peerId);
    if (at === undefined) {
      slotOf.set(r.peerId, peers.length);
      peers.push(r.peerId);
      recsOf.push([r]);
      indicesOf.push([r.index]);
      continue;
    }
    recsOf[at].push(r);
    const indices = indicesOf[at];
    if (indices[indices.length - 1] !== r.index) indices.push(r.index);
  }
  const now = ctx.clock.now();
  const expects: Expectation[] = new Array(peers.length);
  for (let n = 0; n < peers.length; n++) {
    expects[n] = {
      tesseraId: id,
      peer: peers[n],
      indices: indicesOf[n],
      checksums: tracked.checksums,
    };
  }
  // Every holder is challenged first; the proofs of all their answers are
  // then computed in one pass over our blob.
  const checks = await challengeAll(ctx, expects, {
    signal,
    prover: own ? (requests, o) => own.prove(requests, o) : null,
  });
  // Holders that answered are judged in order; only the silent ones need
  // the network again (a ping), at most `concurrentTransfers` at once.
  const holders = new Array<HolderCheck>(peers.length);
  const silent: number[] = [];
  for (let n = 0; n < peers.length; n++) {
    const peerId = peers[n], indices = indicesOf[n], check = checks[n];
    if (check.authentic) {
      if (check.proven.length > 0) {
        await ctx.holders.markAttested(id, { peerId, at: now });
      }
      const status = check.failed.length === 0
        ? "attested"
        : check.proven.length > 0
        ? "partial"
        : "failed";
      holders[n] = check.reason
        ? {
          peerId,
          indices,
          status,
          answered: true,
          liveIndices: check.proven,
          reason: check.reason,
        }
        : {
          peerId,
          indices,
          status,
          answered: true,
          liveIndices: check.proven,
        };
    } else if (check.answered) {
      // It answered, but not authentically: alive and lying or broken.
      holders[n] = {
        peerId,
        indices,
        status: "failed",
        answered: true,
        liveIndices: [],
        reason: check.reason ?? "invalid attestation",
      };
    } else silent.push(n);
  }
  await mapPool(silent, async (n) => {
    const peerId = peers[n], indices = indicesOf[n], check = checks[n];
    let pingable = false;
    try {
      await ctx.dht.ping(peerId, { signal });
      pingable = true;
    } catch {
      signal?.throwIfAborted();
    }
    if (pingable) {
      holders[n] = {
        peerId,
        indices,
        status: "failed",
        answered: false,
        liveIndices: [],
        pingable,
        reason: `answers ping but not the attestation (${check.reason})`,
      };
      return;
    }
    let lastSeen = -Infinity;
    for (const r of recsOf[n]) {
      lastSeen = Math.max(lastSeen, r.lastAttestedAt ?? r.storedAt);
    }
    if (ctx.graceMs > 0 && now - lastSeen <= ctx.graceMs) {
      holders[n] = {
        peerId,
        indices,
        status: "grace",
        answered: false,
        liveIndices: indices,
        pingable,
        reason: `unreachable; last seen ${now - lastSeen} ms ago`,
      };
      return;
    }
    holders[n] = {
      peerId,
      indices,
      status: "unreachable",
      answered: false,
      liveIndices: [],
      pingable,
      reason: check.reason,
    };
  }, { limit: ctx.config.concurrentTransfers });

  const corruptLocal: number[] = [];
  for (const f of await ctx.fragments.list(id, { signal })) {
    if (!(await ctx.fragments.verify(id, f.index, { signal }))) {
      corruptLocal.push(f.index);
    }
  }

  const live: { index: number; peerId: PeerId }[] = [];
  const liveSet = new Set<number>();
  for (const h of holders) {
    for (const index of h.liveIndices) {
      live.push({ index, peerId: h.peerId });
      liveSet.add(index);
    }
  }
  const liveIndices = Array.from(liveSet).sort((a, b) => a - b);
  const lostIndices: number[] = [];
  for (let i = 0; i < plan.shardCount; i++) {
    if (!liveSet.has(i)) lostIndices.push(i);
  }
  const small = plan.tier === "small" || plan.shardCount === 1;
  const deficit = small
    ? Math.max(0, ctx.config.smallReplicas - live.length)
    : lostIndices.length;
  const health: TesseraHealth = corruptLocal.length > 0
    ? { kind: "corrupt_local", fragmentIndex: corruptLocal[0] }
    : deficit > 0
    ? { kind: "needs_replication", deficit }
    : { kind: "healthy" };
  await ctx.holders.markChecked(id, { health: health.kind, at: now });
  const report: HealthReport = {
    tesseraId: id,
    plan,
    health,
    verification: own ? "proof" : "checksum",
    holders,
    liveIndices,
    lostIndices,
    livePlacements: live.length,
    corruptLocal,
    tolerance: placementTolerance(plan, live),
    checkedAt: now,
  };
  ctx.log.debug("health of {tessera}: {health}", {
    tessera: id,
    health: health.kind,
    lost: lostIndices.length,
    tolerance: report.tolerance,
  });
  return { report, tracked, records, own };
}
