/**
 * BLAKE3 of inputs of one chunk (up to 1,024 bytes) in plain JS: a
 * compression with the whole state in local variables. Attestation
 * proofs, keys and signatures hash millions of such small inputs, where
 * a call into the 4-lane wasm kernel costs more than the hashing.
 *
 * @module
 */
import {
  CHUNK_END,
  CHUNK_START,
  IV,
  KEYED_HASH,
  PARENT,
  ROOT,
} from "./blake3_portable.ts";
import { smallBytes, toHex } from "../core/mod.ts";

/** Longest input {@linkcode blake3Chunk} takes: one chunk. */
export const CHUNK_BYTES = 1024;

const cv = new Uint32Array(8);
const m = new Uint32Array(16);

/**
 * BLAKE3-256 (keyed with a 32-byte `key`) of `data`, at most
 * {@linkcode CHUNK_BYTES} long.
 *
 * @example
 * ```ts
 * blake3Chunk(undefined, new Uint8Array(0)).length; // 32
 * ```
 */
export function blake3Chunk(
  key: Uint8Array | undefined,
  data: Uint8Array,
): Uint8Array {
  hashChunk(key, data);
  return digestInto(smallBytes(32));
}

/**
 * {@linkcode blake3Chunk} as lowercase hex, without an intermediate
 * buffer.
 *
 * @example
 * ```ts
 * blake3ChunkHex(undefined, new Uint8Array(0)).length; // 64
 * ```
 */
export function blake3ChunkHex(
  key: Uint8Array | undefined,
  data: Uint8Array,
): string {
  hashChunk(key, data);
  return toHex(digestInto(scratchDigest));
}

/**
 * The chaining value of a BLAKE3 parent node whose children's chaining
 * values are `left` and `right` (32 bytes each); with `root`, the root
 * hash. Proofs and outboards hash one parent at a time, where this plain
 * JS compression is cheaper than a call into the wasm kernel.
 *
 * @example
 * ```ts
 * blake3Parent(new Uint8Array(32), new Uint8Array(32), false).length; // 32
 * ```
 */
export function blake3Parent(
  left: Uint8Array,
  right: Uint8Array,
  root: boolean,
): Uint8Array {
  cv.set(IV);
  for (let i = 0; i < 8; i++) {
    const o = 4 * i;
    m[i] = left[o] | (left[o + 1] << 8) | (left[o + 2] << 16) |
      (left[o + 3] << 24);
    m[i + 8] = right[o] | (right[o + 1] << 8) | (right[o + 2] << 16) |
      (right[o + 3] << 24);
  }
  compress(64, PARENT | (root ? ROOT : 0));
  return digestInto(new Uint8Array(32));
}

/** Reused by every hex digest: each is read before the next call. */
const scratchDigest = new Uint8Array(32);

/**
 * A view of the last buffer hashed: shards and blobs are views into
 * larger buffers, so one view serves many hashes instead of a new one
 * per hash. Kept only for buffers up to {@linkcode VIEWED_BYTES}, so a
 * large buffer is never held alive by it.
 */
let viewed: ArrayBufferLike | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
const VIEWED_BYTES = 1 << 20;

/** A view of `buffer`, or `null` when it is too large to keep a view of. */
function dataView(buffer: ArrayBufferLike): DataView<ArrayBufferLike> | null {
  if (buffer === viewed) return view;
  if (buffer.byteLength > VIEWED_BYTES) return null;
  view = new DataView(buffer);
  viewed = buffer;
  return view;
}

/** The chaining value `cv` as the 32-byte digest, little-endian, in `out`. */
function digestInto(out: Uint8Array): Uint8Array {
  for (let i = 0; i < 8; i++) {
    const w = cv[i];
    out[4 * i] = w;
    out[4 * i + 1] = w >>> 8;
    out[4 * i + 2] = w >>> 16;
    out[4 * i + 3] = w >>> 24;
  }
  return out;
}

/** The chaining value of `data` as the root chunk, left in `cv`. */
function hashChunk(key: Uint8Array | undefined, data: Uint8Array): void {
  const len = data.length;
  if (len > CHUNK_BYTES) {
    throw new RangeError(`blake3Chunk takes at most ${CHUNK_BYTES} bytes`);
  }
  if (key) {
    for (let i = 0; i < 8; i++) {
      cv[i] = key[4 * i] | (key[4 * i + 1] << 8) | (key[4 * i + 2] << 16) |
        (key[4 * i + 3] << 24);
    }
  } else cv.set(IV);
  const mode = key ? KEYED_HASH : 0;
  const blocks = Math.max(1, Math.ceil(len / 64));
  // Whole blocks are read a word at a time, through a view of the buffer.
  const words = len >= 64 ? dataView(data.buffer) : null;
  const base = data.byteOffset;
  for (let b = 0; b < blocks; b++) {
    const at = b * 64;
    const last = b === blocks - 1;
    if (at + 64 <= len) {
      if (words) {
        const o = base + at;
        for (let i = 0; i < 16; i++) m[i] = words.getUint32(o + 4 * i, true);
      } else {
        for (let i = 0; i < 16; i++) {
          const o = at + 4 * i;
          m[i] = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) |
            (data[o + 3] << 24);
        }
      }
    } else {
      m.fill(0);
      for (let o = at; o < len; o++) {
        m[(o - at) >> 2] |= data[o] << (8 * (o & 3));
      }
    }
    const flags = mode | (b === 0 ? CHUNK_START : 0) |
      (last ? CHUNK_END | ROOT : 0);
    compress(last ? len - at : 64, flags);
  }
}

/**
 * One compression of block `m` into `cv` (counter 0: the first chunk).
 * Long but flat: the seven rounds unrolled into locals, the hottest loop
 * of the JS hash, where a call per round or per G costs more than the G.
 */
function compress(blockLen: number, flags: number): void {
  let v0 = cv[0] | 0, v1 = cv[1] | 0, v2 = cv[2] | 0, v3 = cv[3] | 0;
  let v4 = cv[4] | 0, v5 = cv[5] | 0, v6 = cv[6] | 0, v7 = cv[7] | 0;
  let v8 = IV[0] | 0, v9 = IV[1] | 0, v10 = IV[2] | 0, v11 = IV[3] | 0;
  let v12 = 0, v13 = 0, v14 = blockLen | 0, v15 = flags | 0;
  let m0 = m[0] | 0, m1 = m[1] | 0, m2 = m[2] | 0, m3 = m[3] | 0;
  let m4 = m[4] | 0, m5 = m[5] | 0, m6 = m[6] | 0, m7 = m[7] | 0;
  let m8 = m[8] | 0, m9 = m[9] | 0, m10 = m[10] | 0, m11 = m[11] | 0;
  let m12 = m[12] | 0, m13 = m[13] | 0, m14 = m[14] | 0, m15 = m[15] | 0;
  for (let r = 0; r < 7; r++) {
    v0 = (v0 + v4 + m0) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m1) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m2) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m3) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m4) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m5) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m6) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m7) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 7) | (v7 << 25);
    v0 = (v0 + v5 + m8) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m9) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m10) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m11) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m12) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m13) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m14) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m15) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 7) | (v4 << 25);
    // The next round reads the message words permuted.
    const p0 = m2,
      p1 = m6,
      p2 = m3,
      p3 = m10,
      p4 = m7,
      p5 = m0,
      p6 = m4,
      p7 = m13,
      p8 = m1,
      p9 = m11,
      p10 = m12,
      p11 = m5,
      p12 = m9,
      p13 = m14,
      p14 = m15,
      p15 = m8;
    m0 = p0;
    m1 = p1;
    m2 = p2;
    m3 = p3;
    m4 = p4;
    m5 = p5;
    m6 = p6;
    m7 = p7;
    m8 = p8;
    m9 = p9;
    m10 = p10;
    m11 = p11;
    m12 = p12;
    m13 = p13;
    m14 = p14;
    m15 = p15;
  }
  cv[0] = v0 ^ v8;
  cv[1] = v1 ^ v9;
  cv[2] = v2 ^ v10;
  cv[3] = v3 ^ v11;
  cv[4] = v4 ^ v12;
  cv[5] = v5 ^ v13;
  cv[6] = v6 ^ v14;
  cv[7] = v7 ^ v15;
}
