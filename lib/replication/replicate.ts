/**
 * Placing our tesseras on peers: encode, find the closest diverse peers,
 * push, record, credit.
 *
 * @module
 */
import {
  assertTesseraId,
  assertTesseraSize,
  type Checksum,
  type Fragment,
  type FragmentPlan,
  type IoOptions,
  MAX_TESSERA_SIZE,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import {
  blake3Hex,
  encodeTessera,
  encodeTesseraFile,
  planTessera,
} from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";
import { placementTolerance } from "./distributor.ts";
import { fileBlobs, STRIPE_BYTES } from "./file_blobs.ts";
import { fileShardLoader, ownShards } from "./own_shards.ts";
import { pushShards } from "./push.ts";
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
 * copy with its parity shards written to staging files, and the copy
 * becomes our blob; shards are then pushed one per transfer, data shards
 * read from the blob, parity from staging. The staging area is removed
 * at the end, also on failure.
 */
export async function putTesseraFile(
  ctx: ServiceContext,
  path: string,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  const { signal } = options;
  const files = fileBlobs(ctx);
  if (!files) {
    throw new TesserasError(
      "INVALID_INPUT",
      "this node's blob store cannot take files (no staging): read the file and use putTessera",
    );
  }
  const staging = await files.openStaging({ signal });
  try {
    const copy = await staging.importFile(path, {
      signal,
      maxBytes: MAX_TESSERA_SIZE,
    });
    const plan = planTessera(copy.size, { thresholds: ctx.thresholds });
    const small = plan.tier === "small" || plan.shardCount === 1;
    let done = 0;
    const encoded = await encodeTesseraFile(copy.path, {
      write: (index, bytes) => {
        // Shard 0 comes first in file order: its progress is the file's.
        if (index === 0 && options.onEncode) {
          done += bytes.length;
          const file = small ? done : done * plan.dataShards;
          options.onEncode(Math.min(file, plan.size), plan.size);
        }
        if (small || index < plan.dataShards) return;
        return staging.append(index, bytes, { signal });
      },
    }, { thresholds: ctx.thresholds, signal, stripeBytes: STRIPE_BYTES });
    options.onEncode?.(plan.size, plan.size);
    await staging.commitBlob(encoded.id, { signal });
    const loader = fileShardLoader(files, {
      id: encoded.id,
      plan: encoded.plan,
      checksums: encoded.checksums,
      staging,
    });
    return await placeEncoded(ctx, {
      id: encoded.id,
      plan: encoded.plan,
      checksums: encoded.checksums,
      load: loader.load,
    }, options);
  } finally {
    await staging.remove();
  }
}

/** Internal: `replicateTessera`. */
export async function replicateTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  assertTesseraId(id);
  if (fileBlobs(ctx)) {
    // From the blob file: one streaming pass stages the parity shards.
    const own = await ownShards(ctx, id, { signal: options.signal });
    if (!own) throw notInBlobStore(id);
    const all = Array.from({ length: own.plan.shardCount }, (_, i) => i);
    const loader = await own.prepare(all, null, { signal: options.signal });
    try {
      return await placeEncoded(ctx, {
        id,
        plan: own.plan,
        checksums: loader.checksums,
        load: loader.load,
      }, options);
    } finally {
      await loader.release();
    }
  }
  const data = await ctx.blobs.get(id, { signal: options.signal });
  if (!data) throw notInBlobStore(id);
  const encoded = encodeTessera(data, { thresholds: ctx.thresholds });
  if (encoded.id !== id) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `our stored copy of tessera ${id} is corrupt: restore it from a backup, or delete it and retrieve it from the network`,
    );
  }
  return await placeEncoded(ctx, {
    id,
    plan: encoded.plan,
    checksums: encoded.fragments.map((f) => f.id.checksum),
    fragments: encoded.fragments,
  }, options);
}

function notInBlobStore(id: TesseraId): TesserasError {
  return new TesserasError(
    "NOT_FOUND",
    `tessera ${id} is not in our blob store: put the file first`,
  );
}

/** What to place: shards in hand, or a loader. */
interface Encoded {
  readonly id: TesseraId;
  readonly plan: FragmentPlan;
  readonly checksums: readonly Checksum[];
  readonly fragments?: readonly Fragment[];
  readonly load?: (index: number, options: IoOptions) => Promise<Fragment>;
}

async function placeEncoded(
  ctx: ServiceContext,
  encoded: Encoded,
  options: ReplicateOptions,
): Promise<ReplicationReport> {
  const { id, plan, checksums } = encoded;
  // Track first: even a partial placement is then known to repair.
  await ctx.holders.track(id, { plan, checksums });
  const indices = checksums.map((_, i) => i);
  const small = plan.tier === "small" || plan.shardCount === 1;
  const result = await pushShards(ctx, {
    tesseraId: id,
    plan,
    fragments: encoded.fragments ?? [],
    ...(encoded.load ? { load: encoded.load } : {}),
    ...(small ? { copies: ctx.config.smallReplicas } : { indices }),
  }, options);
  if (result.candidates.length === 0) {
    throw new TesserasError(
      "UNREACHABLE",
      `no peers known to place tessera ${id} on: connect to a bootstrap node (it stays tracked; repair will place it later)`,
    );
  }
  const records = await ctx.holders.holders(id);
  const report: ReplicationReport = {
    tesseraId: id,
    plan,
    placed: result.placed.map((p) => ({ index: p.index, peerId: p.peer.id })),
    unplaced: result.unplaced,
    failures: result.failures,
    peers: new Set(records.map((r) => r.peerId)).size,
    tolerance: placementTolerance(plan, records),
    bytesSent: result.bytesSent,
  };
  ctx.log.info(
    "replicated {tessera}: {placed} placements on {peers} peers, tolerates {tolerance} losses, {unplaced} unplaced",
    {
      tessera: id,
      tier: plan.tier,
      placed: report.placed.length,
      peers: report.peers,
      tolerance: report.tolerance,
      unplaced: report.unplaced.length,
    },
  );
  return report;
}
