/**
 * Arithmetic in GF(2^8) with the polynomial 0x11d and generator 2, and the
 * small matrix algebra Reed-Solomon needs. The field and the encoding
 * matrix are exactly those of the Rust `reed-solomon-erasure` crate
 * (galois_8), so parity produced here is byte-identical to it.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";

/** `EXP[i] = 2^i`, doubled in length so `EXP[LOG[a] + LOG[b]]` needs no mod. */
export const GF_EXP: Uint8Array = new Uint8Array(512);
/** `LOG[a]` for a != 0; `LOG[0]` is unused. */
export const GF_LOG: Uint8Array = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    GF_EXP[i] = x;
    GF_LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) GF_EXP[i] = GF_EXP[i - 255];
}

/**
 * Product of two field elements.
 *
 * @example
 * ```ts
 * gfMul(3, 7); // 9
 * ```
 */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return GF_EXP[GF_LOG[a] + GF_LOG[b]];
}

/** Multiplicative inverse; `a` must not be 0. */
export function gfInv(a: number): number {
  if (a === 0) throw new TesserasError("INTERNAL", "GF(2^8): inverse of 0");
  return GF_EXP[255 - GF_LOG[a]];
}

/** `a^n` with the crate's convention `x^0 = 1` (also for x = 0). */
export function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return GF_EXP[(GF_LOG[a] * n) % 255];
}

/** Row-major matrix of field elements. */
export type GfMatrix = Uint8Array[];

/** `a × b` over GF(2^8). */
export function matMul(a: GfMatrix, b: GfMatrix): GfMatrix {
  const n = b[0].length;
  return a.map((row) => {
    const out = new Uint8Array(n);
    for (let k = 0; k < row.length; k++) {
      const c = row[k];
      if (c === 0) continue;
      const bk = b[k];
      for (let j = 0; j < n; j++) out[j] ^= gfMul(c, bk[j]);
    }
    return out;
  });
}

/**
 * Inverse of a square matrix by Gauss-Jordan elimination; throws
 * `INTERNAL` when singular (never for sub-matrices of the encoding matrix).
 */
export function matInvert(m: GfMatrix): GfMatrix {
  const n = m.length;
  const a = m.map((row) => Uint8Array.from(row));
  const inv = m.map((_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot][col] === 0) pivot++;
    if (pivot === n) {
      throw new TesserasError("INTERNAL", "GF(2^8): singular matrix");
    }
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col], a[pivot]];
      [inv[pivot], inv[col]] = [inv[col], inv[pivot]];
    }
    const scale = gfInv(a[col][col]);
    for (let j = 0; j < n; j++) {
      a[col][j] = gfMul(a[col][j], scale);
      inv[col][j] = gfMul(inv[col][j], scale);
    }
    for (let r = 0; r < n; r++) {
      const f = a[r][col];
      if (r === col || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r][j] ^= gfMul(f, a[col][j]);
        inv[r][j] ^= gfMul(f, inv[col][j]);
      }
    }
  }
  return inv;
}

// A memo of a pure function, kept per process on purpose: a matrix depends
// only on its shape, and the tiers use three shapes.
const matrixCache = new Map<string, GfMatrix>();

/**
 * The crate's systematic encoding matrix, `(data + parity) × data`:
 * a Vandermonde matrix `V[r][c] = r^c` times the inverse of its top square,
 * so the top rows are the identity and the rest generate parity.
 */
export function encodingMatrix(
  dataShards: number,
  parityShards: number,
): GfMatrix {
  const key = `${dataShards}+${parityShards}`;
  let m = matrixCache.get(key);
  if (!m) {
    const total = dataShards + parityShards;
    const v: GfMatrix = [];
    for (let r = 0; r < total; r++) {
      const row = new Uint8Array(dataShards);
      for (let c = 0; c < dataShards; c++) row[c] = gfPow(r, c);
      v.push(row);
    }
    m = matMul(v, matInvert(v.slice(0, dataShards)));
    matrixCache.set(key, m);
  }
  return m;
}
