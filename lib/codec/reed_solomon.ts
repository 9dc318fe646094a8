/**
 * Systematic Reed-Solomon erasure coding over GF(2^8), byte-identical to
 * the Rust `reed-solomon-erasure` crate (galois_8): any `dataShards` of the
 * `dataShards + parityShards` shards rebuild the rest.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import {
  encodingMatrix,
  type GfMatrix,
  gfMul as mul,
  matInvert,
} from "./gf256.ts";
import { gfRegion } from "./region.ts";

/** Largest total shard count the field allows (as in the crate). */
const MAX_TOTAL_SHARDS = 256;

function checkShape(dataShards: number, parityShards: number): void {
  if (
    !Number.isInteger(dataShards) || !Number.isInteger(parityShards) ||
    dataShards < 1 || parityShards < 0 ||
    dataShards + parityShards > MAX_TOTAL_SHARDS
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid Reed-Solomon shape ${dataShards}+${parityShards}: need at least 1 data shard, no negative parity and at most ${MAX_TOTAL_SHARDS} shards in all`,
    );
  }
}

/** The data and parity shard counts of a Reed-Solomon code (a `FragmentPlan` or a `TIER_SHAPES` entry has both). */
export interface RsShape {
  /** Shards that carry the data, at least 1. */
  readonly dataShards: number;
  /** Shards computed from them, at least 0. */
  readonly parityShards: number;
}

/**
 * Split `data` into `dataShards` shards of `ceil(data.length / dataShards)`
 * bytes (the last zero-padded) and compute `parityShards` parity shards.
 * An empty input gives `dataShards + parityShards` empty shards. The shards
 * are fresh copies; `data` is not modified.
 *
 * @example
 * ```ts
 * const shards = rsEncode(new Uint8Array([1, 2, 3, 4, 5]), {
 *   dataShards: 4,
 *   parityShards: 2,
 * });
 * shards.length; // 6, each 2 bytes long
 * ```
 */
export function rsEncode(data: Uint8Array, shape: RsShape): Uint8Array[] {
  return encodeShards(data, shape.dataShards, shape.parityShards, true);
}

/**
 * Shards at least this big get a buffer each; smaller ones share one.
 *
 * Why: a fresh multi-MiB buffer is fresh pages from the kernel, and the
 * first write to each 4 KiB page faults (measured here: ~2.3 µs a page,
 * 56 ms for the 96 MiB of a 64 MiB 16+8 encode, more than the encode's
 * own ~22 ms). One buffer for all shards is above glibc's 32 MiB mmap
 * ceiling and gets fresh pages on every call; a buffer per shard (at most
 * 22.4 MiB for a legal tessera) is recycled from the heap once an earlier
 * result is freed (measured: 24,577 page faults per 64 MiB encode with one
 * buffer, 0-2,000 with a buffer per shard). Below this size an
 * allocation's fixed cost (~0.5 µs) matters more than faults.
 */
const OWN_BUFFER_MIN = 256 * 1024;

/** `count` zeroed shards of `size` bytes: one buffer each, or one shared. */
function freshShards(count: number, size: number): Uint8Array[] {
  if (size >= OWN_BUFFER_MIN) {
    return Array.from({ length: count }, () => new Uint8Array(size));
  }
  const buf = new Uint8Array(size * count);
  return Array.from(
    { length: count },
    (_, i) => buf.subarray(i * size, (i + 1) * size),
  );
}

/**
 * {@linkcode rsEncode}; with `copy` false the full data shards are views
 * of `data` (no copy), which saves the input's size in memory.
 */
export function encodeShards(
  data: Uint8Array,
  dataShards: number,
  parityShards: number,
  copy: boolean,
): Uint8Array[] {
  checkShape(dataShards, parityShards);
  const shardSize = Math.ceil(data.length / dataShards);
  const total = dataShards + parityShards;
  const full = shardSize === 0 ? 0 : Math.floor(data.length / shardSize);
  // Shards that are views of `data`; the rest (copies, padded or parity)
  // are fresh.
  const views = copy ? 0 : Math.min(full, dataShards);
  const shards: Uint8Array[] = [];
  for (let i = 0; i < views; i++) {
    shards.push(data.subarray(i * shardSize, (i + 1) * shardSize));
  }
  shards.push(...freshShards(total - views, shardSize));
  for (let i = views; i < dataShards; i++) {
    shards[i].set(data.subarray(i * shardSize, (i + 1) * shardSize));
  }
  if (parityShards > 0 && shardSize > 0) {
    const matrix = encodingMatrix(dataShards, parityShards);
    gfRegion(
      matrix.slice(dataShards),
      shards.slice(0, dataShards),
      shards.slice(dataShards),
    );
  }
  return shards;
}

/**
 * Rebuild the missing (`null`) shards from any `dataShards` present ones.
 * Returns a new array with every shard; present shards are returned as
 * given. Throws `INSUFFICIENT_SHARDS` when fewer than `dataShards` are
 * present and `INVALID_INPUT` when the array length or the shard lengths
 * do not match.
 *
 * @example
 * ```ts
 * const shape = { dataShards: 4, parityShards: 2 };
 * const shards: (Uint8Array | null)[] = rsEncode(new Uint8Array(100), shape);
 * shards[0] = null;
 * shards[5] = null;
 * const all = rsReconstruct(shards, shape);
 * ```
 */
export function rsReconstruct(
  shards: readonly (Uint8Array | null | undefined)[],
  shape: RsShape,
): Uint8Array[] {
  const { dataShards, parityShards } = shape;
  checkShape(dataShards, parityShards);
  const total = dataShards + parityShards;
  if (shards.length !== total) {
    throw new TesserasError(
      "INVALID_INPUT",
      `expected ${total} shard slots (${dataShards}+${parityShards}), got ${shards.length}: pass null for missing shards`,
    );
  }
  const present: number[] = [];
  let shardSize = -1;
  for (let i = 0; i < total; i++) {
    const s = shards[i];
    if (s == null) continue;
    if (shardSize === -1) shardSize = s.length;
    else if (s.length !== shardSize) {
      throw new TesserasError(
        "INVALID_INPUT",
        `shard ${i} is ${s.length} bytes but shard ${
          present[0]
        } is ${shardSize}: all shards of a tessera have the same size`,
      );
    }
    present.push(i);
  }
  if (present.length < dataShards) {
    throw new TesserasError(
      "INSUFFICIENT_SHARDS",
      `only ${present.length} of ${total} shards present; at least ${dataShards} are needed to reconstruct: fetch more shards from other holders`,
    );
  }
  const out = shards.map((s) => s ?? null);
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (out[i] === null) missing.push(i);
  if (missing.length === 0) return out as Uint8Array[];

  const { used, rows } = reconstructionRows(
    present,
    missing,
    dataShards,
    parityShards,
  );
  const outputs = freshShards(missing.length, shardSize);
  if (shardSize > 0) {
    gfRegion(rows, used.map((i) => out[i] as Uint8Array), outputs);
  }
  missing.forEach((i, k) => out[i] = outputs[k]);
  return out as Uint8Array[];
}

/**
 * The survivors to read (`used`, the first `dataShards` of `present`) and,
 * for each missing shard, its row of coefficients over them: the inverse
 * of the survivors' rows of the encoding matrix maps them back to the data
 * shards, and a missing shard's row of the encoding matrix times that
 * inverse maps them straight to it.
 */
export function reconstructionRows(
  present: readonly number[],
  missing: readonly number[],
  dataShards: number,
  parityShards: number,
): { used: number[]; rows: GfMatrix } {
  const matrix = encodingMatrix(dataShards, parityShards);
  const used = present.slice(0, dataShards);
  const decode = matInvert(used.map((i) => matrix[i]));
  const rows: GfMatrix = missing.map((i) => {
    if (i < dataShards) return decode[i];
    const row = new Uint8Array(dataShards);
    const enc = matrix[i];
    for (let k = 0; k < dataShards; k++) {
      const c = enc[k];
      if (c === 0) continue;
      const dk = decode[k];
      for (let j = 0; j < dataShards; j++) row[j] ^= mul(c, dk[j]);
    }
    return row;
  });
  return { used, rows };
}
