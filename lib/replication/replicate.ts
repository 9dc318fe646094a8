/**
 * Placing our tesseras on peers: encode, find the closest diverse peers,
 * push, record, credit. Every put ends as a blob in our blob store and a
 * loader of its shards (data shards are ranges of the blob, parity staged
 * or cached), so what is pushed never has to be whole in memory.
 *
 * @module
 */
import {
  assertTesseraId,
  assertTesseraSize,
  type Checksum,
  type FragmentPlan,
  isWholeCopy,
  MAX_TESSERA_SIZE,
  type ShardStaging,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex, planTessera } from "../codec/mod.ts";
import {
  blobReader,
  dataShardReader,
  notInBlobStore,
  STRIPE_BYTES,
} from "./blob_bytes.ts";
import type { ServiceContext } from "./context.ts";
import { describeSafety, placementSafety } from "./distributor.ts";
import {
  OwnShards,
  range,
  type ShardLoader,
  shardLoader,
} from "./own_shards.ts";
import { pushShards } from "./push.ts";
import { ShardHash } from "./shard_hash.ts";
import { hashStriped, type ShardReader, stripePass } from "./stripes.ts";
import type { ReplicateOptions, ReplicationReport } from "./types.ts";

/** Internal: `putTessera`. */
export async function putTessera(
  ctx: ServiceContext,
  data: Uint8Array,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  assertTesseraSize(data.length);
  const id = blake3Hex(data);
  await ctx.blobs.put(id, data, { signal: options.signal });
  return await replicateTessera(ctx, id, options);
}

/**
 * Internal: `putTesseraFile` — the streaming put. The file is copied into
 * a staging area (so nobody changes it under us), stream-encoded from the
 * copy with its parity shards staged, and the copy becomes our blob;
 * shards are then pushed one per transfer, data shards read from the
 * blob, parity from staging. The staging area is removed at the end, also
 * on failure.
 */
export async function putTesseraFile(
  ctx: ServiceContext,
  path: string,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  const { signal } = options;
  const staging = await ctx.blobs.openStaging({ signal });
  try {
    const imported = await importPlanned(ctx, staging, path, options);
    const encoded = await encodeImported(staging, imported, options);
    await options.onEncoded?.(encoded.id);
    await staging.commitBlob(encoded.id, { signal });
    const read = ownShardReader(ctx, encoded, staging);
    return await placeEncoded(ctx, {
      ...encoded,
      loader: shardLoader(encoded, {
        read,
        release: () => Promise.resolve(),
      }),
    }, options);
  } finally {
    await staging.remove();
  }
}

/** What an encode learned: the id, the cut and every shard's checksum. */
interface Encoded {
  readonly id: TesseraId;
  readonly plan: FragmentPlan;
  readonly checksums: readonly Checksum[];
}

/** A staged copy, its plan, and what the import hashed on the way. */
interface Imported {
  readonly plan: FragmentPlan;
  /** The copy's BLAKE3 (the id of a tessera cut in shards). */
  readonly blake3: Checksum | undefined;
  /** The data shards' checksums, when the import hashed them. */
  readonly data: readonly Checksum[] | undefined;
}

/**
 * Copy `path` into the staging, hashing on the way the whole copy (the
 * id) and its data shards (slices of the file in a cut plan), so the
 * encode reads the copy only for parity.
 */
async function importPlanned(
  ctx: ServiceContext,
  staging: ShardStaging,
  path: string,
  options: ReplicateOptions,
): Promise<Imported> {
  const plan = (size: number) =>
    planTessera(size, { thresholds: ctx.thresholds });
  let asked: FragmentPlan | undefined;
  const copy = await staging.importFile(path, {
    signal: options.signal,
    maxBytes: MAX_TESSERA_SIZE,
    move: options.consumeFile === true,
    hash: true,
    slices: (size) => {
      asked = plan(size);
      return isWholeCopy(asked)
        ? undefined
        : { size: asked.shardSize, count: asked.dataShards };
    },
  });
  const planned = plan(copy.size);
  // The source may have changed size between the store's stat and its
  // copy: slices of another plan are not this one's shards.
  const same = asked?.shardSize === planned.shardSize &&
    asked.dataShards === planned.dataShards &&
    copy.sliceHashes?.length === planned.dataShards;
  return {
    plan: planned,
    blake3: copy.blake3,
    data: same ? copy.sliceHashes : undefined,
  };
}

/**
 * Encode the staged copy: the shards the import did not hash are hashed
 * here, parity appended to the staging, progress reported by the first
 * shard coded (its stripes are the file's in step); the id is the copy's
 * hash when the import computed it, else hashed now (a whole copy's one
 * checksum is its id).
 */
async function encodeImported(
  staging: ShardStaging,
  imported: Imported,
  options: ReplicateOptions,
): Promise<Encoded> {
  const { signal } = options;
  const { plan } = imported;
  const { size, dataShards: k } = plan;
  const whole = isWholeCopy(plan);
  const data = dataShardReader((r, o) => staging.readImported(r, o), plan);
  const hashes = range(plan.shardCount).map(() =>
    new ShardHash(plan.shardSize)
  );
  const emit = range(plan.shardCount).slice(imported.data ? k : 0);
  let done = 0;
  await stripePass(
    data,
    async (index, bytes, o) => {
      hashes[index].update(bytes);
      if (index === emit[0] && options.onEncode) {
        done += bytes.length;
        const file = whole ? done : done * k;
        options.onEncode(Math.min(file, size), size);
      }
      if (index >= k) await staging.append(index, bytes, o);
    },
    { shape: plan, have: range(k), emit },
    {
      signal,
      stripeBytes: STRIPE_BYTES,
    },
  );
  const checksums = hashes.map((h, i) => imported.data?.[i] ?? h.digest());
  const read: ShardReader = (_i, r, o) => staging.readImported(r, o);
  const id = whole ? checksums[0] : imported.blake3 ??
    await hashStriped(read, { dataShards: 1, shardSize: size, size }, {
      signal,
    });
  options.onEncode?.(size, size);
  return { id, plan, checksums };
}

/** Data shards from our (committed) blob, parity from the staging. */
function ownShardReader(
  ctx: ServiceContext,
  encoded: Encoded,
  staging: ShardStaging,
): ShardReader {
  const data = dataShardReader(blobReader(ctx.blobs, encoded.id), encoded.plan);
  return (index, r, o) =>
    index < encoded.plan.dataShards
      ? data(index, r, o)
      : staging.read(index, r, o);
}

/** Internal: `replicateTessera`. */
export async function replicateTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  assertTesseraId(id);
  const { signal } = options;
  const own = await OwnShards.open(ctx, id, { signal });
  if (!own) throw notInBlobStore(id);
  const loader = await own.prepare(range(own.plan.shardCount), null, {
    signal,
  });
  try {
    return await placeEncoded(ctx, {
      id,
      plan: own.plan,
      checksums: loader.checksums,
      loader,
    }, options);
  } finally {
    await loader.release();
  }
}

/** Track, push every shard (or the copies of a whole one), report. */
async function placeEncoded(
  ctx: ServiceContext,
  encoded: Encoded & { readonly loader: ShardLoader },
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  const { id, plan, checksums } = encoded;
  // Track first: even a partial placement is then known to repair.
  await ctx.holders.track(id, { plan, checksums });
  const result = await pushShards(ctx, {
    tesseraId: id,
    plan,
    load: encoded.loader.load,
    ...(encoded.loader.parts ? { parts: encoded.loader.parts } : {}),
    ...(isWholeCopy(plan)
      ? { copies: ctx.config.smallReplicas }
      : { indices: range(checksums.length) }),
  }, options);
  if (result.candidates.length === 0) {
    throw new TesserasError(
      "UNREACHABLE",
      `no peers known to place tessera ${id} on: connect to a bootstrap node (it stays tracked; repair will place it later)`,
    );
  }
  const records = await ctx.holders.holders(id);
  const safety = placementSafety(plan, records);
  const report: ReplicationReport = {
    tesseraId: id,
    plan,
    placed: result.placed.map((p) => ({ index: p.index, peerId: p.peer.id })),
    unplaced: result.unplaced,
    failures: result.failures,
    peers: new Set(records.map((r) => r.peerId)).size,
    tolerance: safety.peerLosses,
    safety,
    bytesSent: result.bytesSent,
  };
  ctx.log.info(
    "replicated {tessera}: {placed} placements on {peers} peers, {safety}, {unplaced} unplaced",
    {
      tessera: id,
      tier: plan.tier,
      placed: report.placed.length,
      peers: report.peers,
      tolerance: report.tolerance,
      safety: describeSafety(safety),
      unplaced: report.unplaced.length,
    },
  );
  return report;
}
