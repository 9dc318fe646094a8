/**
 * Working on staged shard files a column stripe at a time, so no whole
 * shard set is ever in memory: rebuilding missing shards from any
 * `dataShards` staged ones, and streaming a tessera's bytes out of its
 * data shards in file order.
 *
 * @module
 */
import {
  type ByteRange,
  type Checksum,
  type IoOptions,
  type ShardStaging,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import { createBlake3, rsReconstruct } from "../codec/mod.ts";
import type { TesseraSink } from "./types.ts";

/** Bytes of each shard per stripe when rebuilding. */
const STRIPE = 512 * 1024;
/** Bytes per read when streaming out. */
const PIECE = 4 << 20;

/** Internal: the coding shape of a tessera. */
export interface Shape {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly shardSize: number;
}

/** Internal: reads a range of one shard. */
export type ShardReader = (
  index: number,
  range: ByteRange,
  options?: IoOptions,
) => Promise<Uint8Array>;

/** Internal: receives each produced stripe of a shard, in order per shard. */
export type StripeSink = (
  index: number,
  bytes: Uint8Array,
  options: IoOptions,
) => Promise<void> | void;

/**
 * Internal: the one stripe pass of the service. Shards `emit` are handed
 * to `sink` a column stripe at a time, in order per shard: those in `have`
 * as read, the others computed from `dataShards` of `have` (data shards
 * first: when all are at hand, parity needs no inversion). Encoding a
 * blob (have: its data shards), rebuilding lost shards (have: the
 * survivors) and proving shards all run through it. Rejects
 * `INSUFFICIENT_SHARDS` when shards must be computed and fewer than
 * `dataShards` are at hand, `STORAGE_ERROR` when a read comes back short.
 */
export async function stripePass(
  read: ShardReader,
  sink: StripeSink,
  job: {
    readonly shape: Shape;
    readonly have: readonly number[];
    readonly emit: readonly number[];
  },
  options: IoOptions & { readonly stripeBytes?: number } = {},
): Promise<void> {
  const { dataShards: k, shardSize: S } = job.shape;
  const haveSet = new Set(job.have);
  const emit = [...new Set(job.emit)];
  const computed = emit.filter((i) => !haveSet.has(i));
  const used = computed.length === 0
    ? emit
    : [...haveSet].sort((a, b) => a - b).slice(0, k);
  if (computed.length > 0 && used.length < k) {
    throw new TesserasError(
      "INSUFFICIENT_SHARDS",
      `only ${used.length} of the ${k} shards needed to rebuild are at hand`,
    );
  }
  const width = Math.max(1, options.stripeBytes ?? STRIPE);
  if (S === 0) {
    for (const i of emit) await sink(i, new Uint8Array(0), options);
  }
  const stripe = (offset: number) =>
    readRows(read, used, {
      offset,
      length: Math.min(width, S - offset),
    }, options);
  // The next stripe is read while this one is coded and handed on (the
  // reads wait on the disk, the coding on the CPU); a shard of one
  // stripe (every simulated one) awaits exactly as before.
  let ahead = S > 0 ? stripe(0) : null;
  try {
    for (let offset = 0; ahead !== null; offset += width) {
      options.signal?.throwIfAborted();
      const rows = await ahead;
      ahead = offset + width < S ? stripe(offset + width) : null;
      const all = codeRows(rows, { ...job, used, computed });
      for (const i of emit) await sink(i, all[i]!, options);
    }
  } finally {
    // A stripe read ahead of a failure is not left to reject unheard.
    if (ahead !== null) await ahead.catch(() => {});
  }
}

/** One stripe's rows `used`, and the `computed` ones, by shard index. */
function codeRows(
  rows: readonly Uint8Array[],
  job: {
    readonly shape: Shape;
    readonly used: readonly number[];
    readonly computed: readonly number[];
  },
): readonly (Uint8Array | null)[] {
  const { used, shape } = job;
  const total = shape.dataShards + shape.parityShards;
  if (job.computed.length === 0) return emitOrder(rows, used, total);
  const slots: (Uint8Array | null)[] = new Array(total).fill(null);
  used.forEach((i, n) => slots[i] = rows[n]);
  return rsReconstruct(slots, shape);
}

/** Rows `used` of one stripe, each checked to be whole. */
async function readRows(
  read: ShardReader,
  used: readonly number[],
  range: ByteRange,
  options: IoOptions,
): Promise<Uint8Array[]> {
  const rows = await Promise.all(used.map((i) => read(i, range, options)));
  rows.forEach((r, n) => {
    if (r.length !== range.length) {
      throw new TesserasError(
        "STORAGE_ERROR",
        `shard ${
          used[n]
        } ended early (${r.length} of ${range.length} bytes at ${range.offset})`,
      );
    }
  });
  return rows;
}

/** Rows read for `used`, placed at their shard index. */
function emitOrder(
  rows: readonly Uint8Array[],
  used: readonly number[],
  total: number,
): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(Math.max(total, ...used) + 1)
    .fill(null);
  used.forEach((i, n) => out[i] = rows[n]);
  return out;
}

/**
 * Internal: rebuild shards `want` from `dataShards` of the shards `have`
 * (read with `read`), stripe by stripe, appending each to `into`.
 * Resolves with their checksums. Rejects `INSUFFICIENT_SHARDS` when fewer
 * than `dataShards` are at hand.
 */
export async function rebuildStriped(
  read: ShardReader,
  into: Pick<ShardStaging, "append">,
  job: {
    readonly shape: Shape;
    readonly have: readonly number[];
    readonly want: readonly number[];
  },
  options: IoOptions & { readonly stripeBytes?: number } = {},
): Promise<Map<number, Checksum>> {
  const haveSet = new Set(job.have);
  const missing = [...new Set(job.want)].filter((i) => !haveSet.has(i));
  const hashers = new Map(missing.map((i) => [i, createBlake3()]));
  if (missing.length === 0) return new Map();
  await stripePass(
    read,
    async (i, bytes, o) => {
      hashers.get(i)!.update(bytes);
      await into.append(i, bytes, o);
    },
    { shape: job.shape, have: job.have, emit: missing },
    options,
  );
  return new Map([...hashers].map(([i, h]) => [i, toHex(h.digest())]));
}

/**
 * Internal: write the first `size` bytes of the data shards (in order,
 * each read with `read`) to `sink`, hashing them; resolves with the
 * BLAKE3 hex of what was written.
 */
export async function streamOut(
  read: ShardReader,
  sink: TesseraSink,
  job: {
    readonly dataShards: number;
    readonly shardSize: number;
    readonly size: number;
  },
  options: IoOptions = {},
): Promise<string> {
  const { dataShards: k, shardSize: S, size } = job;
  const hasher = createBlake3();
  let written = 0;
  for (let j = 0; j < k && written < size; j++) {
    const end = Math.min(S, size - j * S);
    for (let off = 0; off < end; off += PIECE) {
      options.signal?.throwIfAborted();
      const length = Math.min(PIECE, end - off);
      const bytes = await read(j, { offset: off, length }, options);
      if (bytes.length !== length) {
        throw new TesserasError(
          "STORAGE_ERROR",
          `shard ${j} ended early (${bytes.length} of ${length} bytes at ${off})`,
        );
      }
      hasher.update(bytes);
      await sink.write(bytes, options);
      written += length;
    }
  }
  return toHex(hasher.digest());
}

/**
 * Internal: BLAKE3 hex of the first `size` bytes of the data shards, read
 * piecewise (used to try candidate sizes before writing anything).
 */
export async function hashStriped(
  read: ShardReader,
  job: {
    readonly dataShards: number;
    readonly shardSize: number;
    readonly size: number;
  },
  options: IoOptions = {},
): Promise<string> {
  return await streamOut(
    read,
    { write: () => Promise.resolve(), reset: () => Promise.resolve() },
    job,
    options,
  );
}
