/**
 * The reciprocity probe (standing.ts, "untested taker"): a peer that
 * pushes us shards on our free credit, and never showed us that it
 * stores anything for us, is first sent one tiny shard of our own and
 * challenged for it at once, as the spot check after a push challenges a
 * holder (a peer that does not answer is probed again at our sweeps).
 *
 * Why: free credit is for peers that take our data in turn, but only a
 * node that places data ever finds out which peers keep it. A node that
 * owns nothing extended its tolerance to a peer that accepts every shard
 * and drops it exactly as to a fair one, so a dropping free rider lived
 * on the credit of every such node (docs/simulation.md, the free-riders
 * rows). With the probe, each node it pushes to catches it after one
 * sweep (a liar: no credit, 90 intervals), a peer that refuses for want
 * of room is backed off (no free credit while that stands), and a fair
 * peer is proven (and preferred for our own placements).
 *
 * The probe is random bytes, a Small tessera nobody tracks: no manifest
 * (so no steward looks after it), no holder record (so no sweep repairs
 * it); the holder keeps it like any shard, and our ledger counts it once
 * it is proven. A free rider that learned to keep probes and drop the
 * rest is still caught by the owners it cheats, as before.
 *
 * @module
 */
import {
  type FragmentEnvelope,
  type IoOptions,
  mapPool,
  type PeerId,
} from "../core/mod.ts";
import { encodeTessera } from "../codec/mod.ts";
import { challengeAll } from "./attest.ts";
import type { ServiceContext } from "./context.ts";

/** Bytes of one probe: a Small tessera, about nothing to keep. */
export const PROBE_BYTES = 64;

/**
 * Whether a sender's deficit with us after a push (`creditAfter`, bytes)
 * is worth a probe: more than a probe's own bytes. A probe takes its
 * holder's free credit too; without this each probe was answered by a
 * probe back at the holder's next sweep (28 % of all probes in 30 days
 * of `bench:sim`), each testing a peer for no more credit than the test
 * itself costs.
 *
 * @example
 * ```ts
 * worthProbing(PROBE_BYTES); // false
 * worthProbing(PROBE_BYTES + 1); // true
 * ```
 */
export function worthProbing(creditAfter: number): boolean {
  return creditAfter > PROBE_BYTES;
}

/** Most peers probed in one sweep (the rest wait for the next). */
export const PROBES_PER_SWEEP = 32;

/** What one sweep's probes found. */
export interface ProbeReport {
  /** Peers probed. */
  readonly probed: number;
  /** Peers that kept and proved the probe. */
  readonly proven: number;
  /** Peers that acknowledged it and could not show it: banned. */
  readonly liars: number;
  /** Peers that refused it (a back-off, see standing.ts). */
  readonly refused: number;
}

/**
 * Internal: before we take a push of the sender's own (not a steward's on
 * an owner's behalf, who may be long gone) on more of our free credit
 * than a probe's worth (`usesCredit`, see {@linkcode worthProbing}),
 * probe the sender unless we know it already: proven,
 * banned, backed off, or probed in the last interval. One probe at a
 * time per peer: its concurrent pushes wait for the outcome. The caller
 * then checks the room as usual, with the standing the probe left.
 */
export async function probeBeforeCredit(
  ctx: ServiceContext,
  push: {
    readonly sender: PeerId;
    readonly size: number;
    readonly own: boolean;
  },
  usesCredit: () => Promise<boolean>,
  options: IoOptions = {},
): Promise<void> {
  const { sender } = push;
  // A push no larger than a probe is not probed: probes never nest.
  if (!push.own || push.size <= PROBE_BYTES || !untested(ctx, sender)) return;
  if (!(await usesCredit())) return;
  await ctx.locks.run(`probe:${sender}`, async () => {
    if (!untested(ctx, sender)) return;
    await probeOne(ctx, sender, options);
  });
}

/** Whether we may probe `peer` now (nothing settles its credit yet). */
function untested(ctx: ServiceContext, peer: PeerId): boolean {
  return ctx.standing.untested(peer, ctx.clock.now());
}

/**
 * Internal: probe again the takers of our credit whose probe went
 * unanswered (a sweep's last step).
 */
export async function probeTakers(
  ctx: ServiceContext,
  options: IoOptions = {},
): Promise<ProbeReport> {
  const peers = ctx.standing.toProbe(PROBES_PER_SWEEP);
  const outcomes = await mapPool(
    peers,
    (peer) =>
      ctx.locks.run(`probe:${peer}`, () => probeOne(ctx, peer, options)),
    { limit: ctx.config.concurrentTransfers },
  );
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
  return {
    probed: peers.length,
    proven: count("proven"),
    liars: count("lied"),
    refused: count("refused"),
  };
}

type Outcome = "proven" | "lied" | "refused" | "unanswered";

/** Push one probe to `peer`, challenge it, and record what it showed. */
async function probeOne(
  ctx: ServiceContext,
  peer: PeerId,
  options: IoOptions,
): Promise<Outcome> {
  const outcome = await pushAndChallenge(ctx, peer, options);
  const at = ctx.clock.now();
  ctx.standing.probed(
    peer,
    outcome === "unanswered" ? "unanswered" : "answered",
    at,
  );
  return outcome;
}

/** The probe itself: push, then challenge; standing and ledger updated. */
async function pushAndChallenge(
  ctx: ServiceContext,
  peer: PeerId,
  options: IoOptions,
): Promise<Outcome> {
  const { signal } = options;
  // A buffer of its own: the holder keeps the probe for good, and a view
  // into an RNG's shared slab (sim/rng.ts) would keep the whole slab.
  const enc = encodeTessera(ctx.rng.bytes(PROBE_BYTES).slice(), {
    thresholds: ctx.thresholds,
  });
  const shard = enc.fragments[0];
  const envelope: FragmentEnvelope = {
    fragment: shard.id,
    plan: enc.plan,
    originalSize: enc.plan.size,
    fragmentSize: shard.data.length,
    data: shard.data,
  };
  let ack;
  try {
    ack = await ctx.dht.replicate(peer, envelope, { signal });
  } catch {
    signal?.throwIfAborted();
    return "unanswered";
  }
  if (!ack.accepted) {
    // For want of room: no free credit while the back-off stands
    // (standing.ts). For our deficit or a bad request: nothing is
    // learnt of the peer.
    ctx.standing.refused(peer, {
      code: ack.errorCode ?? "REFUSED",
      size: shard.data.length,
      at: ctx.clock.now(),
      credit: -(await ctx.ledger.balance(peer)),
    });
    return "refused";
  }
  ctx.standing.accepted(peer);
  const [check] = await challengeAll(ctx, [{
    tesseraId: enc.id,
    peer,
    indices: [0],
    checksums: [shard.id.checksum],
    shardSize: shard.data.length,
    shards: [shard.data],
  }], { signal, prover: null });
  if (!check.answered) return "unanswered";
  if (check.authentic && check.proven.includes(0)) {
    // It counts the probe as stored for us: so do we, now it is shown.
    await ctx.ledger.recordTheyStoreForUs(peer, shard.data.length);
    ctx.standing.proven(peer);
    return "proven";
  }
  ctx.standing.lied(peer, ctx.clock.now());
  ctx.log.warn(
    "peer {peer} asked for our credit and acknowledged our probe but kept nothing: no credit, not used for placement, for a long time",
    { peer },
  );
  return "lied";
}
