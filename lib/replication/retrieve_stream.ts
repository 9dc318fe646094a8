/**
 * Streaming retrieval: a tessera's bytes written to a sink in order,
 * never whole in memory. From our blob, read in pieces and hashed on the
 * way; else shards are fetched (a few at a time, within a memory budget)
 * into a staging area, missing data shards are rebuilt stripe by stripe,
 * and the data shards are streamed out and hashed. Same sources and
 * fallbacks as `retrieveTessera` (registry holders, then the closest
 * peers; without a plan, the tier and exact size found by trial).
 *
 * Needs a blob store with the streaming capabilities; with any other it
 * retrieves in memory and writes the result.
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
  type ShardStaging,
  type TesseraId,
  TesserasError,
  TIER_SHAPES,
} from "../core/mod.ts";
import { blake3Hex, planTessera } from "../codec/mod.ts";
import { collectShards } from "./collect.ts";
import type { ServiceContext } from "./context.ts";
import { locateShards } from "./discover.ts";
import { type FileBlobs, fileBlobs, withStaging } from "./file_blobs.ts";
import { retrieveTessera } from "./retrieve.ts";
import {
  hashStriped,
  rebuildStriped,
  type ShardReader,
  streamOut,
} from "./stripes.ts";
import type {
  RetrieveOptions,
  RetrieveToReport,
  TesseraSink,
} from "./types.ts";

/** The state of one streaming retrieval from the network. */
interface Run {
  readonly files: FileBlobs;
  readonly staging: ShardStaging;
  readonly sink: TesseraSink;
  /** Indices staged (verified). */
  readonly held: Set<number>;
  /** Checksums of the shards we held ourselves. */
  readonly localChecksums: Map<number, Checksum>;
  /** Size of the shards we held ourselves, if any. */
  localSize?: number;
  bytes: number;
}

/** Internal: `retrieveTesseraTo`. */
export async function retrieveTesseraTo(
  ctx: ServiceContext,
  id: TesseraId,
  sink: TesseraSink,
  options: RetrieveOptions,
): Promise<RetrieveToReport> {
  assertTesseraId(id);
  const { signal } = options;
  const files = fileBlobs(ctx);
  if (!files) {
    const local = (options.preferLocal ?? true) &&
      await ctx.blobs.has(id, { signal });
    const data = await retrieveTessera(ctx, id, options);
    await sink.write(data, { signal });
    return {
      tesseraId: id,
      size: data.length,
      source: local ? "blob" : "network",
      bytesFetched: 0,
    };
  }
  if (options.preferLocal ?? true) {
    const file = await files.blobFile(id, { signal });
    if (file) {
      const read: ShardReader = async (_i, range, o) =>
        await files.readRange(id, range, o) ?? new Uint8Array(0);
      const hash = await streamOut(read, sink, {
        dataShards: 1,
        shardSize: file.size,
        size: file.size,
      }, { signal });
      if (hash === id) {
        return {
          tesseraId: id,
          size: file.size,
          source: "blob",
          bytesFetched: 0,
        };
      }
      ctx.log.warn(
        "our blob of {tessera} is corrupt; retrieving it from peers",
        {
          tessera: id,
        },
      );
      await sink.reset({ signal });
    }
  }
  return await withStaging(files, async (staging) => {
    const run: Run = {
      files,
      staging,
      sink,
      held: new Set(),
      localChecksums: new Map(),
      bytes: 0,
    };
    const size = await fromNetwork(ctx, id, run, options);
    return { tesseraId: id, size, source: "network", bytesFetched: run.bytes };
  }, { signal });
}

async function fromNetwork(
  ctx: ServiceContext,
  id: TesseraId,
  run: Run,
  options: RetrieveOptions,
): Promise<number> {
  const { signal } = options;
  // Shards we hold for others count (one at a time into the staging).
  for (const f of await ctx.fragments.list(id, { signal })) {
    const data = await ctx.fragments.read(id, f.index, { signal });
    if (!data || blake3Hex(data) !== f.checksum) continue;
    await run.staging.append(f.index, data, { signal });
    run.held.add(f.index);
    run.localChecksums.set(f.index, f.checksum);
    run.localSize = data.length;
  }
  const tracked = await ctx.holders.get(id);
  if (!tracked) return await withoutPlan(ctx, id, run, options);
  const sources = new Map<number, PeerId[]>();
  for (const r of await ctx.holders.holders(id)) {
    const list = sources.get(r.index);
    if (list) list.push(r.peerId);
    else sources.set(r.index, [r.peerId]);
  }
  const checksums = new Map(tracked.checksums.map((c, i) => [i, c]));
  try {
    return await fromPlan(
      ctx,
      id,
      tracked.plan,
      { sources, checksums },
      run,
      options,
    );
  } catch (e) {
    if (!isTesserasError(e, "INSUFFICIENT_SHARDS")) throw e;
    ctx.log.info(
      "known holders of {tessera} fell short; asking the closest peers",
      { tessera: id },
    );
  }
  const found = await locateShards(ctx, id, { signal });
  for (const [index, peers] of found.sources) {
    if (found.checksums.get(index) !== checksums.get(index)) continue;
    const list = sources.get(index) ?? [];
    sources.set(index, [...new Set([...list, ...peers])]);
  }
  return await fromPlan(
    ctx,
    id,
    tracked.plan,
    { sources, checksums },
    run,
    options,
  );
}

/** Fetch verified shards into the staging until `needed` are held. */
async function collect(
  ctx: ServiceContext,
  id: TesseraId,
  req: {
    needed: number;
    sources: ReadonlyMap<number, readonly PeerId[]>;
    checksums: ReadonlyMap<number, Checksum>;
    shardSize?: number;
    hedge: number;
  },
  run: Run,
  options: RetrieveOptions,
): Promise<{ indices: number[]; shardSize?: number }> {
  const got = await collectShards(ctx, {
    tesseraId: id,
    ...req,
    held: run.held,
    store: async (index, data, o) => {
      await run.staging.append(index, data, o);
      run.held.add(index);
    },
    budgetBytes: ctx.transferBudget,
  }, {
    signal: options.signal,
    onShard: (have, bytes) =>
      options.onProgress?.({
        shards: have,
        needed: req.needed,
        bytes: run.bytes + bytes,
      }),
  });
  run.bytes += got.bytes;
  return { indices: got.indices, shardSize: got.shardSize };
}

async function fromPlan(
  ctx: ServiceContext,
  id: TesseraId,
  plan: FragmentPlan,
  src: {
    sources: Map<number, PeerId[]>;
    checksums: Map<number, Checksum>;
  },
  run: Run,
  options: RetrieveOptions,
): Promise<number> {
  const { signal } = options;
  const k = plan.dataShards;
  await collect(
    ctx,
    id,
    {
      needed: k,
      sources: src.sources,
      checksums: src.checksums,
      shardSize: plan.shardSize,
      hedge: options.hedge ?? Math.max(1, Math.ceil(k / 4)),
    },
    run,
    options,
  );
  const read: ShardReader = (i, range, o) => run.staging.read(i, range, o);
  const missing = range(k).filter((i) => !run.held.has(i));
  if (missing.length > 0) {
    await rebuildStriped(read, run.staging, {
      shape: plan,
      have: [...run.held],
      want: missing,
    }, { signal });
    for (const i of missing) run.held.add(i);
  }
  const hash = await streamOut(read, run.sink, plan, { signal });
  if (hash !== id) {
    await run.sink.reset({ signal });
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `reconstructed bytes do not hash to ${id}: a holder served bad shards under good checksums; try again`,
    );
  }
  return plan.size;
}

async function withoutPlan(
  ctx: ServiceContext,
  id: TesseraId,
  run: Run,
  options: RetrieveOptions,
): Promise<number> {
  const { signal } = options;
  const read: ShardReader = (i, r, o) => run.staging.read(i, r, o);
  // A Small tessera's one shard is the whole file: its checksum is the id.
  const whole = async (size: number) => {
    const hash = await streamOut(read, run.sink, {
      dataShards: 1,
      shardSize: size,
      size,
    }, { signal });
    if (hash !== id) {
      await run.sink.reset({ signal });
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `the whole-file shard of ${id} changed while it was read`,
      );
    }
    return size;
  };
  if (run.localChecksums.get(0) === id) return await whole(run.localSize!);
  const found = await locateShards(ctx, id, { signal });
  const checksums = new Map([...found.checksums, ...run.localChecksums]);
  if (checksums.get(0) === id) {
    const got = await collect(
      ctx,
      id,
      {
        needed: 1,
        sources: new Map([[0, found.sources.get(0) ?? []]]),
        checksums: new Map([[0, id]]),
        hedge: options.hedge ?? 1,
      },
      run,
      options,
    );
    return await whole(got.shardSize ?? 0);
  }
  const maxIndex = Math.max(found.maxIndex, ...run.held);
  let lastError: unknown = new TesserasError(
    "NOT_FOUND",
    `no peer near ${id} holds any of its shards: check the id, or that its holders are online`,
  );
  for (const tier of ["medium", "large"] as const) {
    const { dataShards, parityShards } = TIER_SHAPES[tier];
    if (maxIndex < 0 || maxIndex >= dataShards + parityShards) continue;
    try {
      const got = await collect(
        ctx,
        id,
        {
          needed: dataShards,
          sources: found.sources,
          checksums,
          ...(run.localSize !== undefined ? { shardSize: run.localSize } : {}),
          hedge: options.hedge ?? Math.max(1, Math.ceil(dataShards / 4)),
        },
        run,
        options,
      );
      const shape = {
        dataShards,
        parityShards,
        shardSize: got.shardSize ?? run.localSize ?? 0,
      };
      // Rebuilt shards go to a scratch area: if this tier is the wrong
      // guess, they are garbage and must not pass for fetched ones.
      const size = await withStaging(run.files, async (scratch) => {
        const missing = new Set(
          range(dataShards).filter((i) => !run.held.has(i)),
        );
        await rebuildStriped(read, scratch, {
          shape,
          have: got.indices,
          want: [...missing],
        }, { signal });
        const reader: ShardReader = (i, r, o) =>
          missing.has(i) ? scratch.read(i, r, o) : run.staging.read(i, r, o);
        return await fitSize(
          ctx,
          id,
          { tier, ...shape },
          reader,
          run.sink,
          options,
        );
      }, { signal });
      if (size !== null) return size;
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
 * Find the size whose prefix of the data shards hashes to `id`, and write
 * that prefix to the sink. Sizes giving this shard size are tried from
 * the last non-zero byte upward, so a file that does not end in zeros
 * costs one pass (hash and write together).
 */
async function fitSize(
  ctx: ServiceContext,
  id: TesseraId,
  shape: {
    tier: "medium" | "large";
    dataShards: number;
    parityShards: number;
    shardSize: number;
  },
  read: ShardReader,
  sink: TesseraSink,
  options: IoOptions,
): Promise<number | null> {
  const { dataShards: d, shardSize: S } = shape;
  const { signal } = options;
  if (S === 0) return null;
  const total = d * S;
  // Only the last d - 1 bytes can hold the true end (ceil(size/d) = S).
  const lo = d * (S - 1) + 1;
  const tail = await readPadded(
    read,
    S,
    { offset: lo, length: total - lo },
    options,
  );
  let end = total;
  while (end > lo && tail[end - lo - 1] === 0) end--;
  const candidates: number[] = [];
  for (let size = end; size <= total; size++) {
    let plan: FragmentPlan;
    try {
      plan = planTessera(size, { thresholds: ctx.thresholds });
    } catch {
      continue;
    }
    if (plan.tier === shape.tier && plan.shardSize === S) candidates.push(size);
  }
  const job = (size: number) => ({ dataShards: d, shardSize: S, size });
  if (candidates.length === 1) {
    const hash = await streamOut(read, sink, job(candidates[0]), { signal });
    if (hash === id) return candidates[0];
    await sink.reset({ signal });
    return null;
  }
  for (const size of candidates) {
    if (await hashStriped(read, job(size), { signal }) !== id) continue;
    const hash = await streamOut(read, sink, job(size), { signal });
    if (hash === id) return size;
    await sink.reset({ signal });
    return null;
  }
  return null;
}

/** Bytes of the zero-padded data, across shard boundaries. */
async function readPadded(
  read: ShardReader,
  shardSize: number,
  range: { offset: number; length: number },
  options: IoOptions,
): Promise<Uint8Array> {
  const out = new Uint8Array(range.length);
  let at = 0;
  while (at < range.length) {
    const pos = range.offset + at;
    const index = Math.floor(pos / shardSize);
    const offset = pos % shardSize;
    const length = Math.min(range.length - at, shardSize - offset);
    const bytes = await read(index, { offset, length }, options);
    out.set(bytes.subarray(0, length), at);
    at += length;
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
