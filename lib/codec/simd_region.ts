/**
 * Drives the wasm GF(2^8) region kernel over JS buffers: builds the
 * split-nibble tables, copies column stripes of the inputs into wasm
 * memory at a stride that is not a power of two, runs the kernel and
 * copies the outputs back.
 *
 * @module
 */
import { RS_STEP } from "./codec_wasm.generated.ts";
import { GF_EXP, GF_LOG, type GfMatrix } from "./gf256.ts";
import {
  acquireWasm,
  codecWasm,
  releaseWasm,
  wasmBytes,
} from "./wasm_memory.ts";

/** Outputs per kernel group (must match scripts/build_wasm_rs.ts). */
export const RS_GROUP = 4;
/** Column block of the kernel: inputs of one block stay in L1/L2. */
export const RS_BLOCK = 4096;
/** Columns per stripe copied into wasm memory at a time. */
export const RS_STRIPE = 32768;

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : GF_EXP[GF_LOG[a] + GF_LOG[b]];
}

/** Bytes of the tables for `m` outputs of `k` inputs. */
export function tableSize(m: number, k: number): number {
  return m * k * 32;
}

/**
 * Write the kernel's tables for `rows` at `ptr`: per group of up to
 * {@linkcode RS_GROUP} outputs, per input, per output of the group, 16
 * bytes `c·x` (x = low nibble) then 16 bytes `c·(x<<4)`.
 */
export function writeTables(rows: GfMatrix, ptr: number): void {
  const mem = wasmBytes();
  const m = rows.length, k = rows[0].length;
  let p = ptr;
  for (let r0 = 0; r0 < m; r0 += RS_GROUP) {
    const g = Math.min(RS_GROUP, m - r0);
    for (let j = 0; j < k; j++) {
      for (let r = r0; r < r0 + g; r++) {
        const c = rows[r][j];
        for (let x = 0; x < 16; x++) {
          mem[p + x] = mul(c, x);
          mem[p + 16 + x] = mul(c, x << 4);
        }
        p += 32;
      }
    }
  }
}

/** A stride for rows of `width` bytes that is not a power of two. */
export function strideFor(width: number): number {
  return Math.ceil(width / 64) * 64 + 64;
}

/**
 * Overwrite each `outputs[r]` with `Σ_j rows[r][j] · inputs[j]`; all
 * buffers have the same length. Requires {@linkcode codecWasm}.
 */
export function simdRegion(
  rows: GfMatrix,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
): void {
  const wasm = codecWasm!;
  const m = rows.length, k = inputs.length, len = inputs[0].length;
  const width = Math.min(RS_STRIPE, Math.ceil(len / RS_STEP) * RS_STEP);
  const stride = strideFor(width);
  const tab = acquireWasm(tableSize(m, k));
  const inPtr = acquireWasm(stride * k);
  const outPtr = acquireWasm(stride * m);
  try {
    writeTables(rows, tab);
    for (let c = 0; c < len; c += width) {
      const w = Math.min(width, len - c);
      let mem = wasmBytes();
      for (let j = 0; j < k; j++) {
        mem.set(inputs[j].subarray(c, c + w), inPtr + j * stride);
      }
      const padded = Math.ceil(w / RS_STEP) * RS_STEP;
      wasm.rs_mul(tab, inPtr, stride, k, outPtr, stride, m, padded, RS_BLOCK);
      mem = wasmBytes();
      for (let r = 0; r < m; r++) {
        const at = outPtr + r * stride;
        outputs[r].set(mem.subarray(at, at + w), c);
      }
    }
  } finally {
    releaseWasm(outPtr);
    releaseWasm(inPtr);
    releaseWasm(tab);
  }
}
