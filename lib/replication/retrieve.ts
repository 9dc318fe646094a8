/**
 * Retrieval: get a tessera's bytes back. From our blob when we have it;
 * else from the holders our registry knows; else from whoever among the
 * closest peers of the id proves to hold shards.
 *
 * A node that never saw the tessera does not know its plan. It learns the
 * shard count from the holders' answers (a Small tessera's single shard
 * hashes to the id itself), the shard size from the bytes, and the exact
 * size by trying the few sizes that give that shard size, cheapest first:
 * the bytes past the true end are zero padding, and the BLAKE3 id decides.
 *
 * @module
 */
import {
  assertTesseraId,
  type Checksum,
  type FragmentPlan,
  type IoOptions,
  isTesserasError,
  type PeerId,
  type TesseraId,
  TesserasError,
  TIER_SHAPES,
} from "../core/mod.ts";
import {
  blake3Hex,
  decodeTessera,
  planTessera,
  rsReconstruct,
} from "../codec/mod.ts";
import { collectShards } from "./collect.ts";
import type { ServiceContext } from "./context.ts";
import { locateShards } from "./discover.ts";
import type { RetrieveOptions } from "./types.ts";

/** Internal: `retrieveTessera`. */
export async function retrieveTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: RetrieveOptions,
): Promise<Uint8Array> {
  assertTesseraId(id);
  const { signal } = options;
  if (options.preferLocal ?? true) {
    const blob = await ctx.blobs.get(id, { signal });
    if (blob && blake3Hex(blob) === id) return blob;
  }
  const local = await localShards(ctx, id, { signal });
  const tracked = await ctx.holders.get(id);
  if (tracked) {
    const sources = new Map<number, PeerId[]>();
    for (const r of await ctx.holders.holders(id)) {
      const list = sources.get(r.index);
      if (list) list.push(r.peerId);
      else sources.set(r.index, [r.peerId]);
    }
    const checksums = new Map(tracked.checksums.map((c, i) => [i, c]));
    try {
      return await fromPlan(ctx, id, tracked.plan, {
        sources,
        checksums,
        initial: local,
      }, options);
    } catch (e) {
      if (!isTesserasError(e, "INSUFFICIENT_SHARDS")) throw e;
      ctx.log.info(
        "known holders of {tessera} fell short; asking the closest peers",
        {
          tessera: id,
        },
      );
    }
    const found = await locateShards(ctx, id, { signal });
    for (const [index, peers] of found.sources) {
      if (found.checksums.get(index) !== checksums.get(index)) continue;
      const list = sources.get(index) ?? [];
      sources.set(index, [...new Set([...list, ...peers])]);
    }
    return await fromPlan(ctx, id, tracked.plan, {
      sources,
      checksums,
      initial: local,
    }, options);
  }
  return await withoutPlan(ctx, id, local, options);
}

interface Sources {
  readonly sources: Map<number, PeerId[]>;
  readonly checksums: Map<number, Checksum>;
  readonly initial: Map<number, Uint8Array>;
}

async function fromPlan(
  ctx: ServiceContext,
  id: TesseraId,
  plan: FragmentPlan,
  src: Sources,
  options: RetrieveOptions,
): Promise<Uint8Array> {
  const { shards } = await collectShards(ctx, {
    tesseraId: id,
    needed: plan.dataShards,
    sources: src.sources,
    checksums: src.checksums,
    shardSize: plan.shardSize,
    hedge: options.hedge ?? Math.max(1, Math.ceil(plan.dataShards / 4)),
    initial: src.initial,
  }, {
    signal: options.signal,
    onShard: (have, bytes) =>
      options.onProgress?.({ shards: have, needed: plan.dataShards, bytes }),
  });
  const slots = Array.from(
    { length: plan.shardCount },
    (_, i) => shards.get(i) ?? null,
  );
  const data = decodeTessera(plan, slots);
  if (blake3Hex(data) !== id) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `reconstructed bytes do not hash to ${id}: a holder served bad shards under good checksums; try again`,
    );
  }
  return data;
}

/** Verified shards of `id` that we hold ourselves. */
async function localShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions,
): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  for (const f of await ctx.fragments.list(id, options)) {
    const data = await ctx.fragments.read(id, f.index, options);
    if (data && blake3Hex(data) === f.checksum) out.set(f.index, data);
  }
  return out;
}

async function withoutPlan(
  ctx: ServiceContext,
  id: TesseraId,
  local: Map<number, Uint8Array>,
  options: RetrieveOptions,
): Promise<Uint8Array> {
  const { signal } = options;
  // A Small tessera's one shard is the whole file: its checksum is the id.
  const whole = local.get(0);
  if (whole && blake3Hex(whole) === id) return whole;
  const found = await locateShards(ctx, id, { signal });
  const localChecksums = new Map(
    (await ctx.fragments.list(id, { signal })).map((
      f,
    ) => [f.index, f.checksum]),
  );
  const checksums = new Map([...found.checksums, ...localChecksums]);
  const initial = new Map(local);
  if (checksums.get(0) === id) {
    const { shards } = await collectShards(ctx, {
      tesseraId: id,
      needed: 1,
      sources: new Map([[0, found.sources.get(0) ?? []]]),
      checksums: new Map([[0, id]]),
      hedge: options.hedge ?? 1,
    }, { signal });
    return shards.get(0)!;
  }
  const maxIndex = Math.max(found.maxIndex, ...local.keys());
  let lastError: unknown = new TesserasError(
    "NOT_FOUND",
    `no peer near ${id} holds any of its shards: check the id, or that its holders are online`,
  );
  for (const tier of ["medium", "large"] as const) {
    const { dataShards, parityShards } = TIER_SHAPES[tier];
    const shardCount = dataShards + parityShards;
    if (maxIndex < 0 || maxIndex >= shardCount) continue;
    try {
      const { shards } = await collectShards(ctx, {
        tesseraId: id,
        needed: dataShards,
        sources: found.sources,
        checksums,
        hedge: options.hedge ?? Math.max(1, Math.ceil(dataShards / 4)),
        initial,
      }, {
        signal,
        onShard: (have, bytes) =>
          options.onProgress?.({ shards: have, needed: dataShards, bytes }),
      });
      for (const [i, s] of shards) initial.set(i, s);
      const data = fitSize(ctx, id, { tier, dataShards, parityShards }, shards);
      if (data) return data;
      lastError = new TesserasError(
        "CHECKSUM_MISMATCH",
        `shards near ${id} do not reconstruct it as a ${tier} tessera`,
      );
    } catch (e) {
      if (!isTesserasError(e, "INSUFFICIENT_SHARDS")) throw e;
      lastError = e;
    }
  }
  throw lastError;
}

/**
 * Rebuild the data shards and find the size whose prefix hashes to `id`.
 * Sizes are tried from the last non-zero byte upward, so a file that does
 * not end in zeros costs one hash.
 */
function fitSize(
  ctx: ServiceContext,
  id: TesseraId,
  shape: { tier: "medium" | "large"; dataShards: number; parityShards: number },
  shards: ReadonlyMap<number, Uint8Array>,
): Uint8Array | null {
  const { dataShards: d, parityShards: p } = shape;
  const slots = Array.from({ length: d + p }, (_, i) => shards.get(i) ?? null);
  const all = rsReconstruct(slots, shape);
  const shardSize = all[0].length;
  const padded = new Uint8Array(d * shardSize);
  for (let i = 0; i < d; i++) padded.set(all[i], i * shardSize);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  const from = Math.max(end, d * (shardSize - 1) + 1);
  for (let size = from; size <= d * shardSize; size++) {
    let plan: FragmentPlan;
    try {
      plan = planTessera(size, { thresholds: ctx.thresholds });
    } catch {
      continue;
    }
    if (plan.tier !== shape.tier || plan.shardSize !== shardSize) continue;
    const data = padded.subarray(0, size);
    if (blake3Hex(data) === id) return data;
  }
  return null;
}
