/**
 * Announced holders, proven before they are trusted (docs/stewards.md): a
 * holder record in the DHT says only that its peer claims shards of a
 * tessera. Whoever wants to count on it (a steward taking an orphan on,
 * the owner taking its tessera back) challenges the peer for every index
 * with chunk proofs against the manifest's checksums, and records in its
 * holder registry exactly the shards proven. A peer that answers and
 * proves nothing backed a record it could not: the caller refutes it.
 *
 * @module
 */
import type {
  Checksum,
  IoOptions,
  PeerId,
  PeerInfo,
  TesseraId,
} from "../core/mod.ts";
import { challengeAll } from "./attest.ts";
import type { ServiceContext } from "./context.ts";
import type { HolderAssignment } from "./types.ts";

/** Internal: at most this many new peers are challenged per call. */
export function announcedLimit(shardCount: number): number {
  // A flood of records costs at most a few challenges per sweep.
  return 2 * shardCount + 8;
}

/** Internal: what proving announced holders found. */
export interface AnnouncedProof {
  /** Every shard proven, recorded in `ctx.holders`. */
  readonly proven: readonly HolderAssignment[];
  /** Peers that answered and proved nothing, or not authentically. */
  readonly refuted: readonly PeerId[];
}

/**
 * Internal: challenge `peers` (at most {@linkcode announcedLimit} of
 * them) for every shard of tessera `id` with chunk proofs against
 * `checksums`, and record each proven shard in `ctx.holders` (the
 * tessera must be tracked there), attested now.
 */
export async function proveAnnounced(
  ctx: ServiceContext,
  job: {
    readonly id: TesseraId;
    readonly checksums: readonly Checksum[];
    readonly shardSize: number;
    /** The announced peers (an IP known is recorded for the subnet cap). */
    readonly peers: readonly Pick<PeerInfo, "id" | "ip">[];
  },
  options: IoOptions = {},
): Promise<AnnouncedProof> {
  const { id, checksums } = job;
  const all = checksums.map((_, i) => i);
  const peers = job.peers.slice(0, announcedLimit(checksums.length));
  const ipOf = new Map(peers.map((p) => [p.id, p.ip]));
  const checks = await challengeAll(
    ctx,
    peers.map((peer) => ({
      tesseraId: id,
      peer: peer.id,
      indices: all,
      checksums,
      shardSize: job.shardSize,
    })),
    { signal: options.signal, prover: null },
  );
  const proven: HolderAssignment[] = [];
  const refuted: PeerId[] = [];
  for (const check of checks) {
    for (const index of check.authentic ? check.proven : []) {
      const ip = ipOf.get(check.peerId);
      await ctx.holders.addHolder(id, {
        index,
        peerId: check.peerId,
        ...(ip !== undefined ? { ip } : {}),
      });
      await ctx.holders.markAttested(id, {
        peerId: check.peerId,
        at: ctx.clock.now(),
      });
      proven.push({ index, peerId: check.peerId });
    }
    if (check.answered && (!check.authentic || check.proven.length === 0)) {
      refuted.push(check.peerId);
    }
  }
  return { proven, refuted };
}
