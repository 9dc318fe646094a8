/**
 * Chaining values of pieces of BLAKE3's chunk tree: a subtree of chunks
 * that starts at any chunk counter (a chunk group of a shard), many full
 * groups at once, and parent nodes. With these a shard's root (its plain
 * BLAKE3 hash) is rebuilt from a group and the sibling values on its path,
 * which is what outboards, chunk proofs and verified streaming need and
 * what a plain hasher does not expose.
 *
 * Compressions run on the codec's wasm 4-lane kernel when the engine has
 * wasm SIMD, in portable TypeScript otherwise (the same results; the
 * tests compare both).
 *
 * @module
 */
import {
  CHUNK_END,
  CHUNK_START,
  compress,
  IV,
  PARENT,
  ROOT,
} from "./blake3_portable.ts";
import { blake3Chunk, blake3Parent, CHUNK_BYTES } from "./blake3_chunk.ts";
import { acquireWasm, codecWasm, wasmBytes } from "./wasm_memory.ts";
import {
  CV_BYTES,
  GROUP_BYTES,
  GROUP_CHUNKS,
  PAIR_BYTES,
} from "./chunk_tree.ts";

/** Most chunks {@linkcode subtreeCv} takes in one call. */
export const SUBTREE_MAX_CHUNKS = 64;

/** Full groups staged into wasm memory per pass of {@linkcode groupCvs}. */
const STAGE_GROUPS = 32;
const STAGE = STAGE_GROUPS * GROUP_BYTES;

// Scratch in wasm memory, shared: every function here runs to completion
// synchronously, so no two calls use it at the same time.
const KEY = 0; // 32 bytes: the IV
const OUT = 64; // 128 bytes: the four CVs of one kernel call
const CVS = 256; // one CV per staged chunk
const STAGE_AT = CVS + (STAGE / CHUNK_BYTES) * CV_BYTES;
const SCRATCH_SIZE = STAGE_AT + STAGE;
let scratch = -1;

function base(): number {
  if (scratch < 0) {
    scratch = acquireWasm(SCRATCH_SIZE);
    const key = new DataView(wasmBytes().buffer, scratch + KEY, 32);
    for (let i = 0; i < 8; i++) key.setUint32(4 * i, IV[i], true);
  }
  return scratch;
}

const TWO_32 = 0x100000000;

/**
 * The chaining value of the subtree over the chunks of `data` (at most
 * {@linkcode SUBTREE_MAX_CHUNKS}; empty data is one empty chunk) whose
 * first chunk has counter `firstChunk`; with `root`, the root hash of a
 * shard that is only this subtree (that is, plain BLAKE3 of `data` when
 * `firstChunk` is 0).
 *
 * @example
 * ```ts
 * import { blake3 } from "./blake3.ts";
 * const data = new Uint8Array(5000);
 * subtreeCv(data, 0, true); // equals blake3(data)
 * ```
 */
export function subtreeCv(
  data: Uint8Array,
  firstChunk: number,
  root: boolean,
): Uint8Array {
  if (data.length > SUBTREE_MAX_CHUNKS * CHUNK_BYTES) {
    throw new RangeError(
      `subtreeCv takes at most ${SUBTREE_MAX_CHUNKS} chunks`,
    );
  }
  // A whole one-chunk input: plain JS beats a call into the kernel.
  if (root && firstChunk === 0 && data.length <= CHUNK_BYTES) {
    return blake3Chunk(undefined, data);
  }
  return codecWasm
    ? wasmSubtreeCv(data, firstChunk, root)
    : portableSubtreeCv(data, firstChunk, root);
}

/**
 * The chaining values (32 bytes each, side by side) of the full groups
 * making up `data` (a positive multiple of {@linkcode GROUP_BYTES} bytes),
 * the first being group `firstGroup` of a shard with more than these
 * groups (none of them is the root).
 *
 * @example
 * ```ts
 * groupCvs(new Uint8Array(3 * 8192), 0).length; // 96
 * ```
 */
export function groupCvs(data: Uint8Array, firstGroup: number): Uint8Array {
  if (data.length === 0 || data.length % GROUP_BYTES !== 0) {
    throw new RangeError("groupCvs takes whole groups");
  }
  const n = data.length / GROUP_BYTES;
  const out = new Uint8Array(n * CV_BYTES);
  for (let g = 0; g < n; g += STAGE_GROUPS) {
    const k = Math.min(STAGE_GROUPS, n - g);
    const piece = data.subarray(g * GROUP_BYTES, (g + k) * GROUP_BYTES);
    out.set(
      codecWasm
        ? wasmGroupCvs(piece, firstGroup + g)
        : portableGroupCvs(piece, firstGroup + g),
      g * CV_BYTES,
    );
  }
  return out;
}

/**
 * The chaining value of a parent node over `left` and `right` (32 bytes
 * each); with `root`, the root hash.
 *
 * @example
 * ```ts
 * parentCv(new Uint8Array(32), new Uint8Array(32), true).length; // 32
 * ```
 */
export function parentCv(
  left: Uint8Array,
  right: Uint8Array,
  root: boolean,
): Uint8Array {
  return blake3Parent(left, right, root);
}

/**
 * The non-root chaining values (32 bytes each) of the parent nodes whose
 * 64-byte blocks (left CV, right CV) lie side by side in `pairs`: an
 * outboard's nodes, hashed four at a time.
 *
 * @example
 * ```ts
 * pairCvs(new Uint8Array(128)).length; // 64
 * ```
 */
export function pairCvs(pairs: Uint8Array): Uint8Array {
  if (pairs.length % PAIR_BYTES !== 0) {
    throw new RangeError("pairCvs takes whole 64-byte pairs");
  }
  const n = pairs.length / PAIR_BYTES;
  const out = new Uint8Array(n * CV_BYTES);
  const step = STAGE / PAIR_BYTES;
  for (let i = 0; i < n; i += step) {
    const k = Math.min(step, n - i);
    const piece = pairs.subarray(i * PAIR_BYTES, (i + k) * PAIR_BYTES);
    if (codecWasm) out.set(wasmPairCvs(piece), i * CV_BYTES);
    else {
      for (let j = 0; j < k; j++) {
        const p = piece.subarray(j * PAIR_BYTES, (j + 1) * PAIR_BYTES);
        out.set(
          blake3Parent(p.subarray(0, 32), p.subarray(32), false),
          (i + j) * CV_BYTES,
        );
      }
    }
  }
  return out;
}

/** Kernel call over four lanes of full chunks, counters from `ctr`. */
function hashChunks4(input: number, ctr: number, out: number): void {
  codecWasm!.b3_hash4(
    input,
    CHUNK_BYTES,
    16,
    64,
    ctr % TWO_32,
    Math.floor(ctr / TWO_32),
    1,
    base() + KEY,
    0,
    CHUNK_START,
    CHUNK_END,
    out,
  );
}

/** Kernel call over four parent blocks at `input`, CVs to `out`. */
function hashParents4(input: number, out: number, flagEnd: number): void {
  codecWasm!.b3_hash4(
    input,
    64,
    1,
    64,
    0,
    0,
    0,
    base() + KEY,
    PARENT,
    0,
    flagEnd,
    out,
  );
}

/**
 * Halve the `n` CVs at `cvs` into parents in place, down to two (or one,
 * when `n` is 1): pairs become parents and an odd last CV is carried up,
 * which builds BLAKE3's left-full tree. Returns the CVs left.
 */
function reduceTo2(cvs: number, n: number): number {
  while (n > 2) {
    const pairs = n >> 1;
    const mem = wasmBytes();
    const carry = n % 2 === 1
      ? mem.slice(cvs + 64 * pairs, cvs + 64 * pairs + 32)
      : null;
    // A call reads its four blocks before writing its four CVs.
    for (let i = 0; i < pairs; i += 4) {
      hashParents4(cvs + 64 * i, cvs + 32 * i, 0);
    }
    if (carry) wasmBytes().set(carry, cvs + 32 * pairs);
    n = pairs + (carry ? 1 : 0);
  }
  return n;
}

/** {@linkcode subtreeCv} on the wasm kernel. */
function wasmSubtreeCv(
  data: Uint8Array,
  firstChunk: number,
  root: boolean,
): Uint8Array {
  const b = base();
  const len = data.length;
  const chunks = Math.max(1, Math.ceil(len / CHUNK_BYTES));
  const input = b + STAGE_AT;
  const cvs = b + CVS;
  const lastLen = len - (chunks - 1) * CHUNK_BYTES;
  const lastBlocks = Math.max(1, Math.ceil(lastLen / 64));
  const last = input + (chunks - 1) * CHUNK_BYTES;
  let mem = wasmBytes();
  mem.set(data, input);
  mem.fill(0, last + lastLen, last + lastBlocks * 64);
  // Lanes past the full chunks write junk CVs at slots the last chunk's
  // CV overwrites or nothing reads.
  for (let c = 0; c < chunks - 1; c += 4) {
    hashChunks4(input + c * CHUNK_BYTES, firstChunk + c, cvs + 32 * c);
  }
  const ctr = firstChunk + chunks - 1;
  codecWasm!.b3_hash4(
    last,
    0,
    lastBlocks,
    lastLen - (lastBlocks - 1) * 64,
    ctr % TWO_32,
    Math.floor(ctr / TWO_32),
    0,
    b + KEY,
    0,
    CHUNK_START,
    CHUNK_END | (root && chunks === 1 ? ROOT : 0),
    b + OUT,
  );
  mem = wasmBytes();
  if (chunks === 1) return mem.slice(b + OUT, b + OUT + 32);
  mem.copyWithin(cvs + 32 * (chunks - 1), b + OUT, b + OUT + 32);
  reduceTo2(cvs, chunks);
  hashParents4(cvs, b + OUT, root ? ROOT : 0);
  return wasmBytes().slice(b + OUT, b + OUT + 32);
}

/** {@linkcode groupCvs} on the wasm kernel, at most a stage of groups. */
function wasmGroupCvs(data: Uint8Array, firstGroup: number): Uint8Array {
  const b = base();
  const input = b + STAGE_AT;
  const cvs = b + CVS;
  wasmBytes().set(data, input);
  const chunks = data.length / CHUNK_BYTES;
  const first = firstGroup * GROUP_CHUNKS;
  for (let c = 0; c < chunks; c += 4) {
    hashChunks4(input + c * CHUNK_BYTES, first + c, cvs + 32 * c);
  }
  // Groups are aligned powers of two, so halving the whole level pairs
  // chunks of the same group only.
  for (let n = chunks; n > chunks / GROUP_CHUNKS; n /= 2) {
    for (let i = 0; i < n / 2; i += 4) {
      hashParents4(cvs + 64 * i, cvs + 32 * i, 0);
    }
  }
  return wasmBytes().slice(cvs, cvs + 32 * (chunks / GROUP_CHUNKS));
}

/** {@linkcode pairCvs} on the wasm kernel, at most a stage of pairs. */
function wasmPairCvs(pairs: Uint8Array): Uint8Array {
  const b = base();
  const input = b + STAGE_AT;
  const n = pairs.length / PAIR_BYTES;
  wasmBytes().set(pairs, input);
  // Each call writes its four CVs over the first half of its own four
  // blocks, after reading them, so the CVs end up side by side.
  for (let i = 0; i < n; i += 4) {
    hashParents4(input + 64 * i, input + 32 * i, 0);
  }
  return wasmBytes().slice(input, input + 32 * n);
}

/**
 * The chaining value of one chunk (at most 1 KiB) with counter `ctr`, in
 * portable TypeScript; with `root`, the root hash of a one-chunk input.
 *
 * @example
 * ```ts
 * portableChunkCv(new Uint8Array(10), 0, true).length; // 32
 * ```
 */
export function portableChunkCv(
  data: Uint8Array,
  ctr: number,
  root: boolean,
): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 64));
  const cv = IV.slice();
  const m = new Uint32Array(16);
  const out = new Uint32Array(16);
  for (let b = 0; b < blocks; b++) {
    const block = data.subarray(b * 64, b * 64 + 64);
    m.fill(0);
    for (let i = 0; i < block.length; i++) {
      m[i >> 2] |= block[i] << (8 * (i & 3));
    }
    const last = b === blocks - 1;
    const flags = (b === 0 ? CHUNK_START : 0) |
      (last ? CHUNK_END | (root ? ROOT : 0) : 0);
    compress(cv, m, ctr, block.length, flags, out);
    cv.set(out.subarray(0, 8));
  }
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, cv[i], true);
  return bytes;
}

/**
 * {@linkcode subtreeCv} in portable TypeScript, by BLAKE3's own recursion:
 * the left subtree takes the largest power of two of chunks that leaves
 * at least one for the right.
 *
 * @example
 * ```ts
 * portableSubtreeCv(new Uint8Array(3000), 0, true).length; // 32
 * ```
 */
export function portableSubtreeCv(
  data: Uint8Array,
  firstChunk: number,
  root: boolean,
): Uint8Array {
  const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
  if (chunks === 1) return portableChunkCv(data, firstChunk, root);
  const left = 1 << (31 - Math.clz32(chunks - 1));
  const cut = left * CHUNK_BYTES;
  return blake3Parent(
    portableSubtreeCv(data.subarray(0, cut), firstChunk, false),
    portableSubtreeCv(data.subarray(cut), firstChunk + left, false),
    root,
  );
}

/** {@linkcode groupCvs} in portable TypeScript. */
function portableGroupCvs(data: Uint8Array, firstGroup: number): Uint8Array {
  const n = data.length / GROUP_BYTES;
  const out = new Uint8Array(n * CV_BYTES);
  for (let g = 0; g < n; g++) {
    const group = data.subarray(g * GROUP_BYTES, (g + 1) * GROUP_BYTES);
    out.set(
      portableSubtreeCv(group, (firstGroup + g) * GROUP_CHUNKS, false),
      g * CV_BYTES,
    );
  }
  return out;
}
