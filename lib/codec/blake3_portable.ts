/**
 * A portable BLAKE3 in TypeScript (all modes, incremental). It is the
 * fallback and the readable reference for the wasm implementation.
 *
 * @module
 */

/** BLAKE3's IV (SHA-256's). */
export const IV: Uint32Array = Uint32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

/** Domain flags. */
export const CHUNK_START = 1;
/** Domain flags. */
export const CHUNK_END = 2;
/** Domain flags. */
export const PARENT = 4;
/** Domain flags. */
export const ROOT = 8;
/** Domain flags. */
export const KEYED_HASH = 16;

/** The message word order of each of the seven rounds. */
export const MSG_SCHEDULE: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8],
  [3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1],
  [10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6],
  [12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4],
  [9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7],
  [11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13],
];

const v = new Uint32Array(16);

/**
 * The compression function: writes the 16-word output into `out`
 * (the first 8 words are the chaining value).
 */
export function compress(
  cv: Uint32Array,
  m: Uint32Array,
  counter: number,
  blockLen: number,
  flags: number,
  out: Uint32Array,
): void {
  v.set(cv);
  v[8] = IV[0];
  v[9] = IV[1];
  v[10] = IV[2];
  v[11] = IV[3];
  v[12] = counter >>> 0;
  v[13] = Math.floor(counter / 0x100000000) >>> 0;
  v[14] = blockLen;
  v[15] = flags;
  for (let r = 0; r < 7; r++) {
    const s = MSG_SCHEDULE[r];
    g(0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (let i = 0; i < 8; i++) {
    out[i] = v[i] ^ v[i + 8];
    out[i + 8] = v[i + 8] ^ cv[i];
  }
}

function g(a: number, b: number, c: number, d: number, x: number, y: number) {
  let va = v[a], vb = v[b], vc = v[c], vd = v[d];
  va = (va + vb + x) | 0;
  vd ^= va;
  vd = (vd >>> 16) | (vd << 16);
  vc = (vc + vd) | 0;
  vb ^= vc;
  vb = (vb >>> 12) | (vb << 20);
  va = (va + vb + y) | 0;
  vd ^= va;
  vd = (vd >>> 8) | (vd << 24);
  vc = (vc + vd) | 0;
  vb ^= vc;
  vb = (vb >>> 7) | (vb << 25);
  v[a] = va;
  v[b] = vb;
  v[c] = vc;
  v[d] = vd;
}

const BLOCK_LEN = 64;

/** Incremental portable BLAKE3 (hash or keyed hash mode). */
export class PortableBlake3 {
  readonly #key: Uint32Array;
  readonly #flags: number;
  readonly #stack: Uint32Array[] = [];
  #cv = new Uint32Array(8);
  #chunkCounter = 0;
  #block = new Uint8Array(BLOCK_LEN);
  #blockWords = new Uint32Array(16);
  #blockLen = 0;
  #blocksCompressed = 0;
  readonly #out = new Uint32Array(16);

  /** A hasher; with a 32-byte `key` it runs in keyed-hash mode. */
  constructor(key?: Uint8Array) {
    if (key) {
      const dv = new DataView(key.buffer, key.byteOffset, 32);
      this.#key = new Uint32Array(8);
      for (let i = 0; i < 8; i++) this.#key[i] = dv.getUint32(i * 4, true);
      this.#flags = KEYED_HASH;
    } else {
      this.#key = IV.slice();
      this.#flags = 0;
    }
    this.#cv.set(this.#key);
  }

  #words(): Uint32Array {
    const b = this.#block, w = this.#blockWords;
    for (let i = 0; i < 16; i++) {
      w[i] = b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) |
        (b[4 * i + 3] << 24);
    }
    return w;
  }

  #startFlag(): number {
    return this.#blocksCompressed === 0 ? CHUNK_START : 0;
  }

  /** Absorb bytes. */
  update(data: Uint8Array): this {
    let i = 0;
    while (i < data.length) {
      // A full chunk is finalized only when more input arrives, because
      // the last chunk of the whole input needs the ROOT flag.
      if (this.#blockLen === BLOCK_LEN && this.#blocksCompressed === 15) {
        this.#endChunk();
      }
      if (this.#blockLen === BLOCK_LEN) {
        compress(
          this.#cv,
          this.#words(),
          this.#chunkCounter,
          BLOCK_LEN,
          this.#flags | this.#startFlag(),
          this.#out,
        );
        this.#cv.set(this.#out.subarray(0, 8));
        this.#blocksCompressed++;
        this.#blockLen = 0;
        this.#block.fill(0);
      }
      const take = Math.min(BLOCK_LEN - this.#blockLen, data.length - i);
      this.#block.set(data.subarray(i, i + take), this.#blockLen);
      this.#blockLen += take;
      i += take;
    }
    return this;
  }

  #endChunk(): void {
    compress(
      this.#cv,
      this.#words(),
      this.#chunkCounter,
      this.#blockLen,
      this.#flags | this.#startFlag() | CHUNK_END,
      this.#out,
    );
    let cv: Uint32Array = this.#out.slice(0, 8);
    this.#chunkCounter++;
    // Merge completed subtrees: one merge per trailing zero bit.
    let total = this.#chunkCounter;
    while ((total & 1) === 0) {
      const left = this.#stack.pop()!;
      cv = this.#parent(left, cv, 0);
      total /= 2;
    }
    this.#stack.push(cv);
    this.#cv.set(this.#key);
    this.#blockLen = 0;
    this.#blocksCompressed = 0;
    this.#block.fill(0);
  }

  #parent(left: Uint32Array, right: Uint32Array, extra: number): Uint32Array {
    const m = new Uint32Array(16);
    m.set(left);
    m.set(right, 8);
    const out = new Uint32Array(16);
    compress(this.#key, m, 0, BLOCK_LEN, this.#flags | PARENT | extra, out);
    return out.slice(0, 8);
  }

  /** The 32-byte digest. */
  digest(): Uint8Array {
    let cv: Uint32Array;
    let flags = this.#flags | this.#startFlag() | CHUNK_END;
    if (this.#stack.length === 0) {
      compress(
        this.#cv,
        this.#words(),
        this.#chunkCounter,
        this.#blockLen,
        flags | ROOT,
        this.#out,
      );
      cv = this.#out;
    } else {
      compress(
        this.#cv,
        this.#words(),
        this.#chunkCounter,
        this.#blockLen,
        flags,
        this.#out,
      );
      cv = this.#out.slice(0, 8);
      for (let i = this.#stack.length - 1; i >= 0; i--) {
        flags = i === 0 ? ROOT : 0;
        cv = this.#parent(this.#stack[i], cv, flags);
      }
    }
    const res = new Uint8Array(32);
    const dv = new DataView(res.buffer);
    for (let i = 0; i < 8; i++) dv.setUint32(i * 4, cv[i], true);
    return res;
  }
}
