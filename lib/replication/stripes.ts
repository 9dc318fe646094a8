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

/**
 * Internal: rebuild shards `want` from `dataShards` of the shards `have`
 * (read with `read`), stripe by stripe, appending each to `into`.
 * Resolves with their checksums. Rejects `INSUFFICIENT_SHARDS` when fewer
 * than `dataShards` are at hand.
 */
export async function rebuildStriped(
  read: ShardReader,
  into: ShardStaging,
  job: {
    readonly shape: Shape;
    readonly have: readonly number[];
    readonly want: readonly number[];
  },
  options: IoOptions & { readonly stripeBytes?: number } = {},
): Promise<Map<number, Checksum>> {
  const { shape, want } = job;
  const { dataShards: k, parityShards: m, shardSize: S } = shape;
  const haveSet = new Set(job.have);
  const missing = [...new Set(want)].filter((i) => !haveSet.has(i));
  const out = new Map<number, Checksum>();
  if (missing.length === 0) return out;
  // Data shards first: when all are at hand, parity needs no inversion.
  const used = [...haveSet].sort((a, b) => a - b).slice(0, k);
  if (used.length < k) {
    throw new TesserasError(
      "INSUFFICIENT_SHARDS",
      `only ${used.length} of the ${k} shards needed to rebuild are at hand`,
    );
  }
  const hashers = new Map(missing.map((i) => [i, createBlake3()]));
  const width = Math.max(1, options.stripeBytes ?? STRIPE);
  for (let offset = 0; offset < S; offset += width) {
    options.signal?.throwIfAborted();
    const w = Math.min(width, S - offset);
    const rows = await Promise.all(
      used.map((i) => read(i, { offset, length: w }, options)),
    );
    rows.forEach((r, n) => {
      if (r.length !== w) {
        throw new TesserasError(
          "STORAGE_ERROR",
          `shard ${
            used[n]
          } ended early (${r.length} of ${w} bytes at ${offset})`,
        );
      }
    });
    const slots: (Uint8Array | null)[] = new Array(k + m).fill(null);
    used.forEach((i, n) => slots[i] = rows[n]);
    const all = rsReconstruct(slots, shape);
    for (const i of missing) {
      hashers.get(i)!.update(all[i]);
      await into.append(i, all[i], options);
    }
  }
  if (S === 0) {
    for (const i of missing) await into.append(i, new Uint8Array(0));
  }
  for (const [i, h] of hashers) out.set(i, toHex(h.digest()));
  return out;
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
