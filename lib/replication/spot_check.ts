/**
 * The spot check after a push: every peer that acknowledged shards is
 * challenged once, right away, for the shards it took. An acknowledgement
 * is a promise, not a proof: a peer that says yes and keeps nothing would
 * otherwise hold our shards (and our credit) until the next sweep. The
 * check is cheap for us (checksums only: no pass over our blob; the keyed
 * proofs are checked by the sweeps) and for the holder (one read of bytes
 * it has just written).
 *
 * Outcomes per holder: every shard listed → its credit is trusted; none
 * listed although it answered → a liar (banned, see standing.ts), and,
 * like a holder that lists only some, it loses the ledger credit and the
 * holder records of the missing shards, which the caller places again;
 * no answer → nothing is concluded (the credit stays pending).
 *
 * @module
 */
import type { Checksum, IoOptions, PeerInfo, TesseraId } from "../core/mod.ts";
import { challengeAll } from "./attest.ts";
import type { ServiceContext } from "./context.ts";

/** Internal: one acknowledged placement. */
export interface Acknowledged {
  readonly index: number;
  readonly peer: PeerInfo;
  readonly checksum: Checksum;
  readonly bytes: number;
}

/** Internal: what the spot check found. */
export interface SpotCheck {
  /** Placements the holder could not show: records dropped, credit taken back. */
  readonly missing: Acknowledged[];
  /** Holders that answered and showed none of what they acknowledged. */
  readonly liars: PeerInfo[];
}

/** Internal: challenge every holder of `acked` once and settle the outcome. */
export async function spotCheck(
  ctx: ServiceContext,
  req: { tesseraId: TesseraId; acked: readonly Acknowledged[] },
  options: IoOptions = {},
): Promise<SpotCheck> {
  const { tesseraId, acked } = req;
  const byPeer = new Map<string, Acknowledged[]>();
  for (const a of acked) {
    const list = byPeer.get(a.peer.id);
    if (list) list.push(a);
    else byPeer.set(a.peer.id, [a]);
  }
  const groups = [...byPeer.values()];
  if (groups.length === 0) return { missing: [], liars: [] };
  const checks = await challengeAll(
    ctx,
    groups.map((g) => {
      const checksums: Checksum[] = [];
      for (const a of g) checksums[a.index] = a.checksum;
      return {
        tesseraId,
        peer: g[0].peer.id,
        indices: g.map((a) => a.index),
        checksums,
        shardSize: g[0].bytes,
      };
    }),
    { signal: options.signal, prover: null },
  );
  const standing = ctx.standing;
  const missing: Acknowledged[] = [];
  const liars: PeerInfo[] = [];
  for (let n = 0; n < groups.length; n++) {
    const group = groups[n];
    const check = checks[n];
    if (!check.answered) continue;
    const shown = new Set(check.authentic ? check.proven : []);
    for (const a of group) {
      standing.settled(a.peer.id, `${tesseraId}/${a.index}`);
      if (shown.has(a.index)) continue;
      missing.push(a);
      await ctx.holders.removeHolder(tesseraId, {
        peerId: a.peer.id,
        index: a.index,
      });
      await ctx.ledger.recordTheyStoreForUs(a.peer.id, -a.bytes);
    }
    if (shown.size === 0) {
      standing.lied(group[0].peer.id, ctx.clock.now());
      liars.push(group[0].peer);
      ctx.log.warn(
        "peer {peer} acknowledged {count} shards of {tessera} and kept none: not used for placement again for a long time",
        { peer: group[0].peer.id, count: group.length, tessera: tesseraId },
      );
    }
  }
  return { missing, liars };
}
