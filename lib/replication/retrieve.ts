/**
 * Retrieval: a tessera's bytes written to a sink in order, never whole in
 * memory. From our blob, read in pieces and hashed on the way; else the
 * shards we hold and shards fetched (a few at a time, within a memory
 * budget) go into a staging area, missing data shards are rebuilt stripe
 * by stripe, and the data shards are streamed out and hashed. Sources:
 * the holders our registry knows, then whoever among the closest peers of
 * the id proves to hold shards.
 *
 * A node that never saw the tessera does not know its plan. It learns the
 * shard count from the holders' answers (a Small tessera's single shard
 * hashes to the id itself), the shard size from the bytes, and the exact
 * size by trying the few sizes that give that shard size, cheapest first:
 * the bytes past the true end are zero padding, and the BLAKE3 id decides.
 *
 * `retrieveTessera` (bytes in memory) is the same retrieval into a sink
 * that keeps what it is given.
 *
 * @module
 */
import {
  assertTesseraId,
  type Checksum,
  type FragmentPlan,
  type IoOptions,
  isTesserasError,
  type Manifest,
  type PeerId,
  type ShardStaging,
  type TesseraId,
  TesserasError,
  TIER_SHAPES,
} from "../core/mod.ts";
import { blake3Hex, planTessera } from "../codec/mod.ts";
import { blobReader, withStaging } from "./blob_bytes.ts";
import { collectShards } from "./collect.ts";
import type { ServiceContext } from "./context.ts";
import { type Located, locateShards } from "./discover.ts";
import { decodeKept } from "./manifest_check.ts";
import { range } from "./own_shards.ts";
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

/** Internal: `retrieveTessera`: the retrieval into memory. */
export async function retrieveTessera(
  ctx: ServiceContext,
  id: TesseraId,
  options: RetrieveOptions,
): Promise<Uint8Array> {
  const sink = new MemorySink();
  await retrieveTesseraTo(ctx, id, sink, options);
  return sink.bytes();
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
  if (options.preferLocal ?? true) {
    const size = await fromBlob(ctx, id, sink, options);
    if (size !== null) {
      return { tesseraId: id, size, source: "blob", bytesFetched: 0 };
    }
  }
  return await withStaging(ctx.blobs, async (staging) => {
    const run = new Retrieval(ctx, id, { staging, sink, options });
    const size = await run.fromNetwork();
    return { tesseraId: id, size, source: "network", bytesFetched: run.bytes };
  }, { signal });
}

/**
 * Our blob streamed out and hashed; its size, or `null` when we have no
 * blob or it is corrupt (the sink is then reset).
 */
async function fromBlob(
  ctx: ServiceContext,
  id: TesseraId,
  sink: TesseraSink,
  options: IoOptions,
): Promise<number | null> {
  const { signal } = options;
  const size = await ctx.blobs.size(id, { signal });
  if (size === null) return null;
  const source = blobReader(ctx.blobs, id);
  const read: ShardReader = (_i, range, o) => source(range, o);
  const whole = { dataShards: 1, shardSize: size, size };
  if (await streamOut(read, sink, whole, { signal }) === id) return size;
  ctx.log.warn("our blob of {tessera} is corrupt; retrieving it from peers", {
    tessera: id,
  });
  await sink.reset({ signal });
  return null;
}

/** Where to fetch which shard, and what it must hash to. */
interface Sources {
  readonly sources: Map<number, PeerId[]>;
  readonly checksums: Map<number, Checksum>;
}

/** What one collection asks for. */
interface Want extends Sources {
  readonly needed: number;
  readonly shardSize?: number;
  readonly hedge: number;
}

/**
 * The located holders of each index whose majority checksum is the one
 * `checksums` expects (a plan's): the others' shards could not verify.
 */
function* agreeing(
  found: Located,
  checksums: ReadonlyMap<number, Checksum>,
): Generator<[number, PeerId[]]> {
  for (const [index, peers] of found.sources) {
    if (found.checksums.get(index) === checksums.get(index)) {
      yield [index, peers];
    }
  }
}

/** The state of one retrieval from the network, with its steps. */
class Retrieval {
  readonly #ctx: ServiceContext;
  readonly #id: TesseraId;
  readonly #staging: ShardStaging;
  readonly #sink: TesseraSink;
  readonly #options: RetrieveOptions;
  readonly #read: ShardReader;
  /** Indices staged (verified). */
  readonly #held = new Set<number>();
  /** Checksums of the shards we held ourselves. */
  readonly #localChecksums = new Map<number, Checksum>();
  /** Size of the shards we held ourselves, if any. */
  #localSize: number | undefined;
  /** Bytes fetched from holders. */
  bytes = 0;

  constructor(
    ctx: ServiceContext,
    id: TesseraId,
    io: {
      readonly staging: ShardStaging;
      readonly sink: TesseraSink;
      readonly options: RetrieveOptions;
    },
  ) {
    this.#ctx = ctx;
    this.#id = id;
    this.#staging = io.staging;
    this.#sink = io.sink;
    this.#options = io.options;
    this.#read = (i, r, o) => io.staging.read(i, r, o);
  }

  get #signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  /** Our shards, then the registry's holders, then the closest peers. */
  async fromNetwork(): Promise<number> {
    await this.#stageLocal();
    const tracked = await this.#ctx.holders.get(this.#id);
    if (!tracked) return await this.#withoutPlan();
    const src = await this.#registrySources(tracked.checksums);
    try {
      return await this.#fromPlan(tracked.plan, src);
    } catch (e) {
      if (!isTesserasError(e, "INSUFFICIENT_SHARDS")) throw e;
      this.#ctx.log.info(
        "known holders of {tessera} fell short; asking the closest peers",
        { tessera: this.#id },
      );
    }
    const found = await locateShards(this.#ctx, this.#id, {
      signal: this.#signal,
    });
    for (const [index, peers] of agreeing(found, src.checksums)) {
      const list = src.sources.get(index) ?? [];
      src.sources.set(index, [...new Set([...list, ...peers])]);
    }
    return await this.#fromPlan(tracked.plan, src);
  }

  /** Shards we hold for others count (one at a time into the staging). */
  async #stageLocal(): Promise<void> {
    const { fragments } = this.#ctx;
    const signal = this.#signal;
    for (const f of await fragments.list(this.#id, { signal })) {
      const data = await fragments.read(this.#id, f.index, { signal });
      if (!data || blake3Hex(data) !== f.checksum) continue;
      await this.#staging.append(f.index, data, { signal });
      this.#held.add(f.index);
      this.#localChecksums.set(f.index, f.checksum);
      this.#localSize = data.length;
    }
  }

  /** The holders and checksums our registry knows. */
  async #registrySources(checksums: readonly Checksum[]): Promise<Sources> {
    const sources = new Map<number, PeerId[]>();
    for (const r of await this.#ctx.holders.holders(this.#id)) {
      const list = sources.get(r.index);
      if (list) list.push(r.peerId);
      else sources.set(r.index, [r.peerId]);
    }
    return { sources, checksums: new Map(checksums.map((c, i) => [i, c])) };
  }

  /** Fetch verified shards into the staging until `want.needed` are held. */
  async #collect(
    want: Want,
  ): Promise<{ indices: number[]; shardSize?: number }> {
    const got = await collectShards(this.#ctx, {
      tesseraId: this.#id,
      ...want,
      held: this.#held,
      store: async (index, data, o) => {
        await this.#staging.append(index, data, o);
        this.#held.add(index);
      },
      budgetBytes: this.#ctx.transferBudget,
    }, {
      signal: this.#signal,
      onShard: (have, bytes) =>
        this.#options.onProgress?.({
          shards: have,
          needed: want.needed,
          bytes: this.bytes + bytes,
        }),
    });
    this.bytes += got.bytes;
    return { indices: got.indices, shardSize: got.shardSize };
  }

  /** With the plan: collect, rebuild missing data shards, stream out. */
  async #fromPlan(plan: FragmentPlan, src: Sources): Promise<number> {
    const k = plan.dataShards;
    await this.#collect({
      ...src,
      needed: k,
      shardSize: plan.shardSize,
      hedge: this.#options.hedge ?? Math.max(1, Math.ceil(k / 4)),
    });
    const missing = range(k).filter((i) => !this.#held.has(i));
    if (missing.length > 0) {
      await rebuildStriped(this.#read, this.#staging, {
        shape: plan,
        have: [...this.#held],
        want: missing,
      }, { signal: this.#signal });
      for (const i of missing) this.#held.add(i);
    }
    const hash = await streamOut(this.#read, this.#sink, plan, {
      signal: this.#signal,
    });
    if (hash !== this.#id) {
      await this.#sink.reset({ signal: this.#signal });
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `reconstructed bytes do not hash to ${this.#id}: a holder served bad shards under good checksums; try again`,
      );
    }
    return plan.size;
  }

  /** A stranger's retrieval: the shape is learnt from what holders hold. */
  async #withoutPlan(): Promise<number> {
    const id = this.#id;
    if (this.#localChecksums.get(0) === id) {
      return await this.#whole(this.#localSize!);
    }
    const found = await locateShards(this.#ctx, id, { signal: this.#signal });
    const checksums = new Map([...found.checksums, ...this.#localChecksums]);
    // A Small tessera's one shard is the whole file: its checksum is the id.
    if (checksums.get(0) === id) {
      const got = await this.#collect({
        needed: 1,
        sources: new Map([[0, found.sources.get(0) ?? []]]),
        checksums: new Map([[0, id]]),
        hedge: this.#options.hedge ?? 1,
      });
      return await this.#whole(got.shardSize ?? 0);
    }
    const manifest = found.manifest ?? await this.#keptManifest();
    if (manifest) return await this.#fromManifest(manifest, found);
    // Holders that keep no manifest (older nodes): guess the shape.
    const maxIndex = Math.max(found.maxIndex, ...this.#held);
    let lastError: unknown = new TesserasError(
      "NOT_FOUND",
      `no peer near ${id} holds any of its shards: check the id, or that its holders are online`,
    );
    // Of shapes that fell short, the one closest to enough is the likely
    // one: a Medium tessera with 12 of 16 must not be reported as a Large
    // one with 12 of 48 because Large was tried last.
    let closest = -1;
    for (const tier of ["medium", "large"] as const) {
      const { dataShards, parityShards } = TIER_SHAPES[tier];
      if (maxIndex < 0 || maxIndex >= dataShards + parityShards) continue;
      try {
        const size = await this.#asTier(tier, {
          sources: found.sources,
          checksums,
        });
        if (size !== null) return size;
        // Not this shape; an earlier shape that fell short says more.
        if (closest < 0) {
          lastError = new TesserasError(
            "CHECKSUM_MISMATCH",
            `shards near ${id} do not reconstruct it as a ${tier} tessera`,
          );
        }
      } catch (e) {
        if (!isTesserasError(e, "INSUFFICIENT_SHARDS")) throw e;
        const share = this.#held.size / dataShards;
        if (share > closest) [lastError, closest] = [e, share];
      }
    }
    throw lastError;
  }

  /** Our own kept manifest of the tessera (we hold a shard of it). */
  async #keptManifest(): Promise<Manifest | undefined> {
    const signed = await this.#ctx.manifests?.get(this.#id, {
      signal: this.#signal,
    });
    return signed ? decodeKept(this.#ctx, signed) : undefined;
  }

  /**
   * A signed manifest names the plan and every checksum: no shape to
   * guess, and only holders whose shards match it are asked.
   */
  async #fromManifest(m: Manifest, found: Located): Promise<number> {
    const checksums = new Map(m.checksums.map((c, i) => [i, c]));
    const sources = new Map(agreeing(found, checksums));
    return await this.#fromPlan(m.plan, { sources, checksums });
  }

  /** The one staged whole-file shard, streamed out and checked. */
  async #whole(size: number): Promise<number> {
    const hash = await streamOut(this.#read, this.#sink, {
      dataShards: 1,
      shardSize: size,
      size,
    }, { signal: this.#signal });
    if (hash !== this.#id) {
      await this.#sink.reset({ signal: this.#signal });
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `the whole-file shard of ${this.#id} changed while it was read`,
      );
    }
    return size;
  }

  /** Try the shards as a `tier` tessera; its size, or `null` if not one. */
  async #asTier(
    tier: "medium" | "large",
    src: Sources,
  ): Promise<number | null> {
    const { dataShards, parityShards } = TIER_SHAPES[tier];
    const got = await this.#collect({
      ...src,
      needed: dataShards,
      ...(this.#localSize !== undefined ? { shardSize: this.#localSize } : {}),
      hedge: this.#options.hedge ?? Math.max(1, Math.ceil(dataShards / 4)),
    });
    const shape = {
      dataShards,
      parityShards,
      shardSize: got.shardSize ?? this.#localSize ?? 0,
    };
    // Rebuilt shards go to a scratch area: if this tier is the wrong
    // guess, they are garbage and must not pass for fetched ones.
    return await withStaging(this.#ctx.blobs, async (scratch) => {
      const missing = new Set(
        range(dataShards).filter((i) => !this.#held.has(i)),
      );
      await rebuildStriped(this.#read, scratch, {
        shape,
        have: got.indices,
        want: [...missing],
      }, { signal: this.#signal });
      const reader: ShardReader = (i, r, o) =>
        missing.has(i) ? scratch.read(i, r, o) : this.#read(i, r, o);
      return await fitSize(this.#ctx, { tier, ...shape }, {
        id: this.#id,
        read: reader,
        sink: this.#sink,
      }, this.#options);
    }, { signal: this.#signal });
  }
}

/**
 * Find the size whose prefix of the data shards hashes to `id`, and write
 * that prefix to the sink. Sizes giving this shard size are tried from
 * the last non-zero byte upward, so a file that does not end in zeros
 * costs one pass (hash and write together).
 */
async function fitSize(
  ctx: ServiceContext,
  shape: {
    tier: "medium" | "large";
    dataShards: number;
    parityShards: number;
    shardSize: number;
  },
  io: { id: TesseraId; read: ShardReader; sink: TesseraSink },
  options: IoOptions,
): Promise<number | null> {
  const { id, read, sink } = io;
  const { signal } = options;
  const candidates = await candidateSizes(ctx, shape, read, options);
  const job = (size: number) => ({
    dataShards: shape.dataShards,
    shardSize: shape.shardSize,
    size,
  });
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

/** The sizes that give this tier and shard size, from the last non-zero byte. */
async function candidateSizes(
  ctx: ServiceContext,
  shape: { tier: "medium" | "large"; dataShards: number; shardSize: number },
  read: ShardReader,
  options: IoOptions,
): Promise<number[]> {
  const { dataShards: d, shardSize: S } = shape;
  if (S === 0) return [];
  const total = d * S;
  // Only the last d - 1 bytes can hold the true end (ceil(size/d) = S).
  const lo = d * (S - 1) + 1;
  const tail = await readPadded(read, S, {
    offset: lo,
    length: total - lo,
  }, options);
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
  return candidates;
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

/** A sink that keeps what it is given, for the retrieval into memory. */
class MemorySink implements TesseraSink {
  #chunks: Uint8Array[] = [];

  write(bytes: Uint8Array): Promise<void> {
    this.#chunks.push(bytes.slice());
    return Promise.resolve();
  }

  reset(): Promise<void> {
    this.#chunks = [];
    return Promise.resolve();
  }

  /** Everything written since the last reset, as one buffer. */
  bytes(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    let size = 0;
    for (const c of this.#chunks) size += c.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
