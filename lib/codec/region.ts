/**
 * The region kernel: `outputs[r] = Σ_k rows[r][k] · inputs[k]` over
 * GF(2^8), dispatched to the wasm SIMD kernel, with a portable fallback.
 *
 * @module
 */
import { GF_EXP, GF_LOG, type GfMatrix } from "./gf256.ts";
import { simdRegion } from "./simd_region.ts";
import { codecWasm } from "./wasm_memory.ts";

/** `MUL[c << 8 | x] = c · x`, 64 KiB, built once. */
const MUL = new Uint8Array(65536);
for (let c = 1; c < 256; c++) {
  const lc = GF_LOG[c];
  for (let x = 1; x < 256; x++) MUL[(c << 8) | x] = GF_EXP[lc + GF_LOG[x]];
}

/**
 * Overwrite each `outputs[r]` with the GF(2^8) linear combination of
 * `inputs` given by `rows[r]`. All buffers have the same length. Runs the
 * wasm SIMD kernel, or portable TypeScript when the engine lacks SIMD.
 */
export function gfRegion(
  rows: GfMatrix,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
): void {
  if (inputs.length === 0 || inputs[0].length === 0) return;
  if (codecWasm) simdRegion(rows, inputs, outputs);
  else gfRegionPortable(rows, inputs, outputs);
}

/** {@linkcode gfRegion} in portable TypeScript (the reference). */
export function gfRegionPortable(
  rows: GfMatrix,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
): void {
  for (let r = 0; r < rows.length; r++) {
    const out = outputs[r];
    out.fill(0);
    const row = rows[r];
    for (let k = 0; k < inputs.length; k++) {
      const c = row[k];
      if (c === 0) continue;
      const inp = inputs[k];
      const n = inp.length;
      if (c === 1) {
        for (let i = 0; i < n; i++) out[i] ^= inp[i];
        continue;
      }
      const t = MUL.subarray(c << 8, (c << 8) + 256);
      for (let i = 0; i < n; i++) out[i] ^= t[inp[i]];
    }
  }
}
