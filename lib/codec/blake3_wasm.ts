/**
 * BLAKE3 on the wasm 4-lane kernel: an incremental hasher whose tree state
 * (the chaining-value stack, the pending chunk) lives in JS, while every
 * compression runs in wasm, four chunks or four parent nodes at a time.
 * Aligned runs of 64 chunks are reduced to one subtree in wasm memory
 * before touching the stack.
 *
 * Input can come from JS memory ({@linkcode WasmBlake3.update}, copied in
 * stages) or straight from wasm memory ({@linkcode WasmBlake3.updateWasm},
 * used by the streaming encoder that reads files into wasm memory).
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
import { acquireWasm, codecWasm, wasmBytes } from "./wasm_memory.ts";
import { blake3Chunk } from "./blake3_chunk.ts";

const CHUNK = 1024;
const SUBTREE_CHUNKS = 64;
const SUBTREE = SUBTREE_CHUNKS * CHUNK;
/** Bytes staged into wasm memory per kernel pass in `update`. */
const STAGE = 4 * SUBTREE;

// Scratch shared by all hashers: every method runs to completion
// synchronously, so no two hashers use it at the same time.
let scratch = -1;
const KEY = 0; // 32 bytes
const BLOCK = 64; // parent block (64) or one padded chunk (1024)
const CVS = 2048; // up to 64 chaining values (2048 bytes)
const STAGE_AT = 4096; // staged input
const SCRATCH_SIZE = STAGE_AT + STAGE;

function base(): number {
  if (scratch < 0) scratch = acquireWasm(SCRATCH_SIZE);
  return scratch;
}

const IV_BYTES = new Uint8Array(IV.buffer.slice(0));

function popcount(n: number): number {
  let c = 0;
  while (n > 0) {
    c += n % 2;
    n = Math.floor(n / 2);
  }
  return c;
}

// The partial-chunk buffer lent to one-shot hashers: each runs update
// and digest back to back, synchronously, so they never share it at once.
const oncePending = new Uint8Array(CHUNK);

/**
 * One-shot BLAKE3-256 (keyed with a 32-byte `key`) of `data`: an input of
 * one chunk is hashed in JS (`blake3_chunk.ts`: cheaper than a call into
 * the kernel), up to 64 chunks as one tree in wasm scratch, and a longer
 * one borrows a shared buffer instead of allocating a hasher's own.
 */
export function wasmBlake3Once(
  key: Uint8Array | undefined,
  data: Uint8Array,
): Uint8Array {
  if (data.length > ONCE_MAX) {
    return new WasmBlake3(key, oncePending).update(data).digest();
  }
  if (data.length > CHUNK) return onceTree(key, data);
  return blake3Chunk(key, data);
}

/** Longest input {@linkcode onceTree} takes: its chunk CVs fit in `CVS`. */
const ONCE_MAX = SUBTREE_CHUNKS * CHUNK;

/**
 * One-shot hash of 2..64 chunks, all in wasm scratch: the chunk CVs side
 * by side at `CVS`, then each level of parents in place (pairs of CVs are
 * parent blocks), an odd last CV carried up. Halving pairwise with the odd
 * one carried builds BLAKE3's left-full tree; the last pair gets ROOT.
 */
function onceTree(key: Uint8Array | undefined, data: Uint8Array): Uint8Array {
  const b = base();
  const flags = key ? KEYED_HASH : 0;
  wasmBytes().set(key ? key.subarray(0, 32) : IV_BYTES, b + KEY);
  const chunks = onceChunkCvs(b, flags, data);
  onceLevels(b, flags, chunks);
  codecWasm!.b3_hash4(
    b + CVS,
    64,
    1,
    64,
    0,
    0,
    0,
    b + KEY,
    flags | PARENT,
    0,
    ROOT,
    b + BLOCK,
  );
  return wasmBytes().slice(b + BLOCK, b + BLOCK + 32);
}

/**
 * {@linkcode onceTree}'s first step: `data` staged in scratch and each
 * chunk's CV written side by side at `CVS`; returns the chunk count.
 */
function onceChunkCvs(b: number, flags: number, data: Uint8Array): number {
  const wasm = codecWasm!;
  let mem = wasmBytes();
  const len = data.length;
  const chunks = Math.ceil(len / CHUNK);
  const input = b + STAGE_AT;
  mem.set(data, input);
  const lastLen = len - (chunks - 1) * CHUNK;
  const lastBlocks = Math.ceil(lastLen / 64);
  const last = input + (chunks - 1) * CHUNK;
  mem.fill(0, last + lastLen, last + lastBlocks * 64);
  const cvs = b + CVS;
  // Full chunks four at a time; the lanes past them write junk CVs at
  // slots the last chunk's CV and later levels overwrite.
  for (let c = 0; c < chunks - 1; c += 4) {
    wasm.b3_hash4(
      input + c * CHUNK,
      CHUNK,
      16,
      64,
      c,
      0,
      1,
      b + KEY,
      flags,
      CHUNK_START,
      CHUNK_END,
      cvs + 32 * c,
    );
  }
  wasm.b3_hash4(
    last,
    0,
    lastBlocks,
    lastLen - (lastBlocks - 1) * 64,
    chunks - 1,
    0,
    0,
    b + KEY,
    flags,
    CHUNK_START,
    CHUNK_END,
    b + BLOCK,
  );
  mem = wasmBytes();
  mem.copyWithin(cvs + 32 * (chunks - 1), b + BLOCK, b + BLOCK + 32);
  return chunks;
}

/**
 * {@linkcode onceTree}'s second step: the `n` CVs at `CVS` halved into
 * parents in place, level by level, an odd last CV carried up, until the
 * root's two children are left.
 */
function onceLevels(b: number, flags: number, n: number): void {
  const wasm = codecWasm!;
  const cvs = b + CVS;
  let mem = wasmBytes();
  while (n > 2) {
    const pairs = n >> 1;
    const carry = n % 2 === 1
      ? mem.slice(cvs + 64 * pairs, cvs + 64 * pairs + 32)
      : null;
    // A call reads its four blocks before writing its four CVs.
    for (let i = 0; i < pairs; i += 4) {
      wasm.b3_hash4(
        cvs + 64 * i,
        64,
        1,
        64,
        0,
        0,
        0,
        b + KEY,
        flags | PARENT,
        0,
        0,
        cvs + 32 * i,
      );
    }
    mem = wasmBytes();
    if (carry) mem.set(carry, cvs + 32 * pairs);
    n = pairs + (carry ? 1 : 0);
  }
}

/** Incremental BLAKE3-256 (plain or keyed) computed by the wasm kernel. */
export class WasmBlake3 {
  readonly #key: Uint8Array;
  readonly #flags: number;
  readonly #stack: Uint8Array[] = [];
  readonly #pending: Uint8Array;
  #pendingLen = 0;
  #chunks = 0;
  #done = false;

  /**
   * A hasher; with a 32-byte `key` it runs in keyed-hash mode. `pending`
   * (1024 bytes) lends the partial-chunk buffer, for a hasher that runs
   * to completion synchronously (see {@linkcode wasmBlake3Once}).
   */
  constructor(key?: Uint8Array, pending?: Uint8Array) {
    this.#key = key ? key.slice(0, 32) : IV_BYTES;
    this.#flags = key ? KEYED_HASH : 0;
    this.#pending = pending ?? new Uint8Array(CHUNK);
  }

  /** Whether `digest()` was called. */
  get finalized(): boolean {
    return this.#done;
  }

  #setKey(): number {
    const b = base();
    wasmBytes().set(this.#key, b + KEY);
    return b;
  }

  /** Absorb bytes from JS memory. */
  update(data: Uint8Array): this {
    const b = this.#setKey();
    let pos = this.#fillPending(data, 0);
    if (pos === data.length) return this;
    while (pos < data.length) {
      const n = Math.min(STAGE, data.length - pos);
      wasmBytes().set(data.subarray(pos, pos + n), b + STAGE_AT);
      pos += n;
      this.#absorb(b + STAGE_AT, n, pos === data.length);
    }
    return this;
  }

  /**
   * Absorb `len` bytes already in wasm memory at `ptr`; the region must
   * stay untouched for the duration of the call only.
   */
  updateWasm(ptr: number, len: number): this {
    this.#setKey();
    const pos = this.#fillPending(wasmBytes().subarray(ptr, ptr + len), 0);
    if (pos < len) this.#absorb(ptr + pos, len - pos, true);
    return this;
  }

  /**
   * Complete a pending partial chunk from `src`; when it is full and more
   * input follows, compress it. Returns the position reached in `src`.
   */
  #fillPending(src: Uint8Array, pos: number): number {
    if (this.#pendingLen === 0) return pos;
    const take = Math.min(CHUNK - this.#pendingLen, src.length - pos);
    this.#pending.set(src.subarray(pos, pos + take), this.#pendingLen);
    this.#pendingLen += take;
    pos += take;
    if (pos < src.length) {
      // Full, and more input follows: it is not the last chunk.
      this.#pushCv(this.#chunkCv(this.#pending, CHUNK, 0), 1);
      this.#pendingLen = 0;
    }
    return pos;
  }

  /**
   * Hash `len` chunk-aligned bytes at `ptr` (no pending bytes). With
   * `keepLast` the final 1..1024 bytes stay pending (they may be the last
   * chunk of the input, which needs the ROOT flag); without it every full
   * chunk is consumed and only a partial tail stays pending.
   */
  #absorb(ptr: number, len: number, keepLast: boolean): void {
    const wasm = codecWasm!;
    const b = base();
    const limit = keepLast ? len - 1 : len;
    let pos = 0;
    while (pos + CHUNK <= limit) {
      const full = Math.floor((limit - pos) / CHUNK);
      if (this.#chunks % SUBTREE_CHUNKS === 0 && full >= SUBTREE_CHUNKS) {
        this.#pushCv(this.#subtree(ptr + pos), SUBTREE_CHUNKS);
        pos += SUBTREE;
        continue;
      }
      const n = Math.min(4 - (this.#chunks % 4), full);
      wasm.b3_hash4(
        ptr + pos,
        CHUNK,
        16,
        64,
        this.#chunks % 0x100000000,
        Math.floor(this.#chunks / 0x100000000),
        1,
        b + KEY,
        this.#flags,
        CHUNK_START,
        CHUNK_END,
        b + CVS,
      );
      // Copy all n results out first: merges reuse the output area.
      const out = wasmBytes().slice(b + CVS, b + CVS + 32 * n);
      for (let i = 0; i < n; i++) {
        this.#pushCv(out.subarray(32 * i, 32 * i + 32), 1);
      }
      pos += n * CHUNK;
    }
    const rest = len - pos;
    this.#pending.set(wasmBytes().subarray(ptr + pos, ptr + len));
    this.#pendingLen = rest;
  }

  /** The chaining value of 64 aligned full chunks at `ptr`. */
  #subtree(ptr: number): Uint8Array {
    const wasm = codecWasm!;
    const b = base();
    const cvs = b + CVS;
    for (let i = 0; i < SUBTREE_CHUNKS / 4; i++) {
      const ctr = this.#chunks + 4 * i;
      wasm.b3_hash4(
        ptr + i * 4 * CHUNK,
        CHUNK,
        16,
        64,
        ctr % 0x100000000,
        Math.floor(ctr / 0x100000000),
        1,
        b + KEY,
        this.#flags,
        CHUNK_START,
        CHUNK_END,
        cvs + 128 * i,
      );
    }
    // Pairs of CVs are parent blocks; each pass halves the level in place
    // (a call reads its 256 bytes before writing its 128).
    for (let n = SUBTREE_CHUNKS; n > 1; n /= 2) {
      for (let i = 0; i < n / 2; i += 4) {
        wasm.b3_hash4(
          cvs + 64 * i,
          64,
          1,
          64,
          0,
          0,
          0,
          b + KEY,
          this.#flags | PARENT,
          0,
          0,
          cvs + 32 * i,
        );
      }
    }
    return wasmBytes().slice(cvs, cvs + 32);
  }

  /**
   * Push the CV of a subtree of `size` chunks starting at chunk
   * `this.#chunks`, first merging what the new subtree completes (lazily,
   * so the last merge can still receive the ROOT flag at the end).
   */
  #pushCv(cv: Uint8Array, size: number): void {
    this.#mergeStack();
    this.#stack.push(cv);
    this.#chunks += size;
  }

  /** Merge completed pairs: afterwards one entry per set bit of #chunks. */
  #mergeStack(): void {
    const keep = popcount(this.#chunks);
    while (this.#stack.length > keep) {
      const right = this.#stack.pop()!;
      const left = this.#stack.pop()!;
      this.#stack.push(this.#parent(left, right, 0));
    }
  }

  #parent(left: Uint8Array, right: Uint8Array, extra: number): Uint8Array {
    const b = base();
    const mem = wasmBytes();
    mem.set(left, b + BLOCK);
    mem.set(right, b + BLOCK + 32);
    codecWasm!.b3_hash4(
      b + BLOCK,
      0,
      1,
      64,
      0,
      0,
      0,
      b + KEY,
      this.#flags | PARENT,
      0,
      extra,
      b + CVS,
    );
    return wasmBytes().slice(b + CVS, b + CVS + 32);
  }

  /** CV (or root output with `extra` = ROOT) of one chunk of `len` bytes. */
  #chunkCv(bytes: Uint8Array, len: number, extra: number): Uint8Array {
    const b = base();
    const mem = wasmBytes();
    const nblocks = Math.max(1, Math.ceil(len / 64));
    mem.fill(0, b + BLOCK, b + BLOCK + nblocks * 64);
    mem.set(bytes.subarray(0, len), b + BLOCK);
    codecWasm!.b3_hash4(
      b + BLOCK,
      0,
      nblocks,
      len - (nblocks - 1) * 64,
      this.#chunks % 0x100000000,
      Math.floor(this.#chunks / 0x100000000),
      0,
      b + KEY,
      this.#flags,
      CHUNK_START,
      CHUNK_END | extra,
      b + CVS,
    );
    return wasmBytes().slice(b + CVS, b + CVS + 32);
  }

  /** The 32-byte digest; the hasher is then spent. */
  digest(): Uint8Array {
    this.#done = true;
    this.#setKey();
    if (this.#stack.length === 0) {
      return this.#chunkCv(this.#pending, this.#pendingLen, ROOT);
    }
    // Pending bytes follow everything on the stack, so these merges are
    // not the root.
    this.#mergeStack();
    let cv = this.#chunkCv(this.#pending, this.#pendingLen, 0);
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      cv = this.#parent(this.#stack[i], cv, i === 0 ? ROOT : 0);
    }
    return cv;
  }
}
