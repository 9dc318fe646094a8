/**
 * The holder's side: accept or refuse pushed fragments, answer fetches
 * (attestation challenges are answered in `answer_attest.ts`).
 *
 * @module
 */
import {
  type ErrorCode,
  type FragmentEnvelope,
  type FragmentId,
  type FragmentPlan,
  type IoOptions,
  isTesseraId,
  isTesserasError,
  type PeerBalance,
  type PeerInfo,
  type ReplicateAck,
  type ServedShard,
  type ShardRef,
  type SpooledShard,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex, outboardOf, planTessera } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";
import { checkPushedManifest } from "./manifest_check.ts";
import { probeBeforeCredit, worthProbing } from "./probe.ts";

/** Internal: a refusal, as an ack. */
class Refusal {
  constructor(readonly code: ErrorCode, readonly reason: string) {}
}

/** Internal: `receiveFragment`. */
export async function receiveFragment(
  ctx: ServiceContext,
  push: { envelope: FragmentEnvelope; sender: PeerInfo },
  options: IoOptions = {},
): Promise<ReplicateAck> {
  const { envelope } = push;
  try {
    return await receiveChecked(ctx, push, options);
  } finally {
    // A spooled shard not stored (refused, held already, failed) is ours
    // to remove; a stored one was renamed away and this is a no-op.
    if (envelope?.spooled) {
      await ctx.fragments.discardTemp?.(envelope.spooled.path);
    }
  }
}

/** `receiveFragment` once the envelope's file, if any, is looked after. */
async function receiveChecked(
  ctx: ServiceContext,
  push: { envelope: FragmentEnvelope; sender: PeerInfo },
  options: IoOptions,
): Promise<ReplicateAck> {
  const { envelope } = push;
  try {
    const plan = checkEnvelope(ctx, envelope);
    const manifest = await checkedManifest(ctx, push, options);
    const toKeep = manifest.keep;
    const sender = accountOf(push.sender, manifest.owner);
    const { fragment, spooled } = envelope;
    const size = spooled?.size ?? envelope.data.length;
    const shard = { fragment, data: envelope.data, spooled, size, sender };
    // Before the locks: the probe waits on the sender's answers.
    await probeBeforeCredit(
      ctx,
      { sender: sender.id, size, own: sender.id === push.sender.id },
      async () => worthProbing(await creditNeeded(ctx, sender, size)),
      options,
    );
    // Lock order: the shard, then the sender. The shard lock makes a
    // duplicate push (even a concurrent one) a no-op that is credited once.
    // The sender lock covers only the room check and its reservation: the
    // store (write, fsync, commit) of one sender's shards runs several at
    // once, each reserved until the ledger carries its credit.
    const shardKey = `shard:${fragment.tesseraId}:${fragment.index}`;
    const senderKey = `recv:${sender.id}`;
    return await ctx.locks.run(shardKey, async () => {
      const held = await ctx.fragments.list(fragment.tesseraId, options);
      const same = held.find((f) => f.index === fragment.index);
      if (same) {
        return await heldAlready(ctx, { ...shard, same, held }, options);
      }
      const release = await ctx.locks.run(senderKey, async () => {
        await checkRoom(ctx, shard, options);
        return ctx.reservations.reserve(sender.id, size);
      });
      // Watched from before the store (a sweep during it sees the shard)
      // and again after the manifest (a sweep between the two found none).
      ctx.stewards.holding(fragment.tesseraId);
      try {
        await storeAndCredit(ctx, shard, options);
      } finally {
        release();
      }
      // After the shard: a manifest without its shard would claim a
      // holding we do not have; a shard without it is checked again.
      if (toKeep) await ctx.manifests?.put(fragment.tesseraId, toKeep);
      ctx.stewards.holding(fragment.tesseraId);
      const now = await ctx.fragments.list(fragment.tesseraId, options);
      ctx.log.debug("stored shard {index} of {tessera} for {peer}", {
        index: fragment.index,
        tessera: fragment.tesseraId,
        peer: sender.id,
        bytes: size,
        plan: plan.tier,
      });
      return { accepted: true, heldIndices: now.map((f) => f.index) };
    });
  } catch (e) {
    return await refusalAck(ctx, { ...push, error: e }, options);
  }
}

/**
 * The manifest check of a push; a sender whose shard or manifest does not
 * match the owner's (a forged manifest, a shard the owner never made) is
 * hostile, not mistaken: it loses its standing with us (no credit, never
 * used for placement while the ban lasts, see standing.ts).
 */
async function checkedManifest(
  ctx: ServiceContext,
  push: { envelope: FragmentEnvelope; sender: PeerInfo },
  options: IoOptions,
): ReturnType<typeof checkPushedManifest> {
  try {
    return await checkPushedManifest(ctx, push.envelope, options);
  } catch (e) {
    if (isTesserasError(e) && HOSTILE_CODES.has(e.code)) {
      ctx.standing.lied(push.sender.id, ctx.clock.now());
    }
    throw e;
  }
}

/** Manifest failures that only a hostile sender produces. */
const HOSTILE_CODES: ReadonlySet<string> = new Set([
  "CHECKSUM_MISMATCH",
  "UNAUTHORIZED",
]);

/**
 * Whose account a push goes on: a steward pushing another owner's
 * tessera (the manifest names someone else) repairs on that owner's
 * behalf, so the owner is charged and its deficit checked
 * (docs/stewards.md); anyone else's push is its own.
 */
function accountOf(sender: PeerInfo, owner: string | null): PeerInfo {
  return owner === null || owner === sender.id
    ? sender
    : { ...sender, id: owner };
}

/** A pushed shard we hold already (the sender missed our ack). */
async function heldAlready(
  ctx: ServiceContext,
  push: Shard & { same: FragmentId; held: readonly FragmentId[] },
  options: IoOptions,
): Promise<ReplicateAck> {
  const { fragment, same, held, sender } = push;
  if (same.checksum !== fragment.checksum) {
    throw new Refusal(
      "INVALID_INPUT",
      `we hold shard ${fragment.index} of ${fragment.tesseraId} with a different checksum`,
    );
  }
  // A store that keeps the credit with the row owes nothing, except for a
  // row stored before it recorded senders, which the re-push claims.
  if (ctx.fragments.storeForPeer) {
    await ctx.locks.run(
      `recv:${sender.id}`,
      () => storeAndCredit(ctx, push, options),
    );
  }
  return { accepted: true, heldIndices: held.map((f) => f.index) };
}

/**
 * Refuse unless we can take the shard: the sender's deficit with us
 * within the tolerance, the per-peer limit, and our free space, each
 * counting the shards being stored now (`ctx.reservations`).
 */
async function checkRoom(
  ctx: ServiceContext,
  push: Shard,
  options: IoOptions,
): Promise<void> {
  const { sender, size } = push;
  const row = await ctx.ledger.get(sender.id);
  const { storedForThem, deficit } = deficitWith(ctx, sender, row);
  // A sender we caught keeping nothing of what it acknowledged gets no
  // credit while its ban lasts (see standing.ts).
  const at = ctx.clock.now();
  const distrusted = ctx.standing.distrusted(sender.id, at);
  const tolerance = distrusted || ctx.standing.withholds(sender.id, at)
    ? 0
    : ctx.config.deficitToleranceBytes;
  if (!row?.institutional && deficit + size > tolerance) {
    throw new Refusal(
      "DEFICIT_EXCEEDED",
      distrusted
        ? `you failed to prove shards you acknowledged for us, so we extend you no credit; we already store ${deficit} bytes more for you than you for us: store fragments for us (and keep them) first`
        : tolerance === 0
        ? `you refused to store for us, so we extend you no credit; we already store ${deficit} bytes more for you than you for us: store fragments for us first`
        : `we already store ${deficit} bytes more for you than you for us; the tolerance is ${tolerance}: store fragments for us first`,
    );
  }
  if (!row?.institutional && worthProbing(deficit + size)) {
    // Our free credit: for peers that take our data in turn, which we
    // test once if we never saw it (probe.ts).
    ctx.standing.tookCredit(sender.id, at);
  }
  if (storedForThem + size > ctx.config.perPeerStorageLimitBytes) {
    throw new Refusal(
      "PEER_LIMIT_EXCEEDED",
      `we store ${storedForThem} bytes for you; the per-peer limit is ${ctx.config.perPeerStorageLimitBytes}: place this shard elsewhere`,
    );
  }
  // Shards being written now will take their room too.
  const free = await ctx.freeSpace(options) - ctx.reservations.total;
  if (free - size < ctx.config.minFreeSpaceBytes) {
    throw new Refusal(
      "INSUFFICIENT_SPACE",
      `only ${free} bytes free and we keep ${ctx.config.minFreeSpaceBytes} in reserve: place this shard elsewhere`,
    );
  }
}

/**
 * The sender's standing with us: what we store for it (counting its
 * shards being stored right now) and its deficit, what it stores for us
 * counted once proven: shards it acknowledged but no check has proven
 * yet are left out, so acknowledging and dropping earns nothing (see
 * standing.ts).
 */
function deficitWith(
  ctx: ServiceContext,
  sender: PeerInfo,
  row: PeerBalance | null,
): { storedForThem: number; deficit: number } {
  const storedForThem = (row?.bytesStoredForThem ?? 0) +
    ctx.reservations.of(sender.id);
  const deficit = storedForThem -
    ((row?.bytesTheyStoreForUs ?? 0) - ctx.standing.pendingBytes(sender.id));
  return { storedForThem, deficit };
}

/**
 * Bytes of free credit taking `size` more of the sender's would use (its
 * deficit with us after it; 0 or less: none, or an institutional peer).
 */
async function creditNeeded(
  ctx: ServiceContext,
  sender: PeerInfo,
  size: number,
): Promise<number> {
  const row = await ctx.ledger.get(sender.id);
  return row?.institutional ? 0 : deficitWith(ctx, sender, row).deficit + size;
}

/** Codes of our own errors that refuse the shard: nothing was kept. */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  "CHECKSUM_MISMATCH",
  "INVALID_ID",
  "TOO_LARGE",
  "INVALID_INPUT",
  // A manifest not signed by its owner (forged or altered).
  "UNAUTHORIZED",
  // A full disk met by the write or by the row's transaction: nothing
  // was kept (no file, no row, no credit).
  "INSUFFICIENT_SPACE",
]);

/** A refusal as a not-accepted ack (anything else is rethrown). */
async function refusalAck(
  ctx: ServiceContext,
  push: { envelope: FragmentEnvelope; sender: PeerInfo; error: unknown },
  options: IoOptions,
): Promise<ReplicateAck> {
  const e = push.error;
  const refusal = e instanceof Refusal
    ? e
    : isTesserasError(e) && REFUSED_CODES.has(e.code)
    ? new Refusal(e.code, e.message)
    : null;
  if (!refusal) throw e;
  ctx.log.info("refused a shard from {peer}: {code}", {
    peer: push.sender.id,
    code: refusal.code,
    reason: refusal.reason,
  });
  let heldIndices: number[] = [];
  const tid = push.envelope?.fragment?.tesseraId;
  if (isTesseraId(tid)) {
    heldIndices = (await ctx.fragments.list(tid, options)).map((f) => f.index);
  }
  return {
    accepted: false,
    heldIndices,
    errorCode: refusal.code,
    reason: refusal.reason,
  };
}

/**
 * Stores a pushed shard and credits the sender: in one transaction when
 * the store can (`storeForPeer`: a crash or a full disk leaves both or
 * neither), else store then credit (the ledger is not the store's).
 */
async function storeAndCredit(
  ctx: ServiceContext,
  push: Shard,
  options: IoOptions,
): Promise<void> {
  const { fragment, data, sender } = push;
  const how = { signal: options.signal, sender: sender.id };
  if (push.spooled) {
    // Offered only by a store that can take it (service.ts spoolTarget).
    const { credited } = await ctx.fragments.storeSpooledForPeer!(
      fragment,
      push.spooled,
      how,
    );
    logCredit(ctx, { fragment, credited, sender });
    return;
  }
  if (ctx.fragments.storeForPeer) {
    const { credited } = await ctx.fragments.storeForPeer(fragment, data, how);
    logCredit(ctx, { fragment, credited, sender });
    return;
  }
  await ctx.fragments.store(fragment, data, options);
  await ctx.ledger.recordStoredForThem(sender.id, data.length);
}

/** A pushed shard: its id, its bytes in memory or in a file, its sender. */
interface Shard {
  readonly fragment: FragmentId;
  readonly data: Uint8Array;
  readonly spooled?: SpooledShard;
  /** Bytes of the shard, wherever they are. */
  readonly size: number;
  readonly sender: PeerInfo;
}

function logCredit(
  ctx: ServiceContext,
  stored: { fragment: FragmentId; credited: number; sender: PeerInfo },
): void {
  const { fragment, credited, sender } = stored;
  if (credited === 0) return;
  ctx.log.debug("credited {bytes} bytes of {tessera} to {peer}", {
    bytes: credited,
    tessera: fragment.tesseraId,
    peer: sender.id,
  });
}

/**
 * Everything about an envelope that can be checked without state: a sane
 * id and index, the plan we would compute for that size, the declared and
 * real sizes (over-size first, before hashing), and the checksum.
 */
function checkEnvelope(
  ctx: ServiceContext,
  envelope: FragmentEnvelope,
): FragmentPlan {
  const { fragment, plan, data, spooled } = envelope ?? {};
  if (!fragment || !plan || !(data instanceof Uint8Array)) {
    throw new Refusal("INVALID_INPUT", "malformed fragment envelope");
  }
  if (!isTesseraId(fragment.tesseraId)) {
    throw new Refusal("INVALID_ID", "fragment names an invalid tessera id");
  }
  if (!isTesseraId(fragment.checksum)) {
    throw new Refusal(
      "INVALID_INPUT",
      "fragment checksum is not 64 hex characters",
    );
  }
  const expected = planTessera(plan.size, { thresholds: ctx.thresholds });
  if (
    expected.tier !== plan.tier || expected.dataShards !== plan.dataShards ||
    expected.parityShards !== plan.parityShards ||
    expected.shardCount !== plan.shardCount ||
    expected.shardSize !== plan.shardSize ||
    envelope.originalSize !== plan.size ||
    fragment.shardCount !== plan.shardCount
  ) {
    throw new Refusal(
      "INVALID_INPUT",
      `fragment plan does not match a ${plan.size}-byte tessera's plan`,
    );
  }
  if (
    !Number.isInteger(fragment.index) || fragment.index < 0 ||
    fragment.index >= plan.shardCount
  ) {
    throw new Refusal(
      "INVALID_INPUT",
      `shard index ${fragment.index} is out of range`,
    );
  }
  const size = spooled?.size ?? data.length;
  if (size > plan.shardSize || envelope.fragmentSize > plan.shardSize) {
    throw new Refusal(
      "TOO_LARGE",
      `shard is ${
        Math.max(size, envelope.fragmentSize)
      } bytes; this plan's shards are ${plan.shardSize}`,
    );
  }
  if (size !== envelope.fragmentSize || size !== plan.shardSize) {
    throw new Refusal(
      "CHECKSUM_MISMATCH",
      `shard is ${size} bytes but ${envelope.fragmentSize} were declared and the plan says ${plan.shardSize}`,
    );
  }
  // A spooled shard was hashed as it arrived.
  const checksum = spooled?.checksum ?? blake3Hex(data);
  if (checksum !== fragment.checksum) {
    throw new Refusal(
      "CHECKSUM_MISMATCH",
      `shard ${fragment.index} of ${fragment.tesseraId} does not hash to its checksum`,
    );
  }
  return plan;
}

/** Internal: answer a fetch. */
export function answerFetch(
  ctx: ServiceContext,
  shard: ShardRef,
  options: IoOptions = {},
): Promise<Uint8Array | null> {
  const bad = badShardRef(shard);
  if (bad) return Promise.reject(bad);
  return ctx.fragments.read(shard.tesseraId, shard.index, options);
}

/**
 * Internal: answer a verified fetch with the shard's bytes, the outboard
 * stored beside them (built from the bytes only for a store that keeps
 * none) and the checksum on our record. Bytes that rotted since they
 * were stored no longer match the stored outboard: the fetcher refuses
 * them at the first bad group and asks another holder, and our scrub
 * finds them.
 */
export async function answerVerifiedFetch(
  ctx: ServiceContext,
  shard: ShardRef,
  options: IoOptions = {},
): Promise<ServedShard | null> {
  const bad = badShardRef(shard);
  if (bad) throw bad;
  const { tesseraId, index } = shard;
  const row = (await ctx.fragments.list(tesseraId, options)).find((f) =>
    f.index === index
  );
  if (!row) return null;
  const data = await ctx.fragments.read(tesseraId, index, options);
  if (data === null) return null;
  const stored = ctx.fragments.readOutboard
    ? await ctx.fragments.readOutboard(tesseraId, index, options)
    : outboardOf(data).outboard;
  if (stored === null) return null;
  return { data, outboard: stored, checksum: row.checksum };
}

/** Why `shard` is not a shard reference, or `null`. */
function badShardRef(shard: ShardRef): TesserasError | null {
  if (!isTesseraId(shard?.tesseraId)) {
    return new TesserasError("INVALID_ID", "fetch names an invalid tessera id");
  }
  if (!Number.isInteger(shard.index) || shard.index < 0) {
    return new TesserasError(
      "INVALID_INPUT",
      `invalid shard index ${shard.index}`,
    );
  }
  return null;
}
