/**
 * Encodes and hashes one column stripe of all shards at a time: the unit
 * of the streaming file encoder. The data rows are copied into wasm memory
 * once; parity is computed there and every row is hashed there, so each
 * byte crosses into wasm once.
 *
 * @module
 */
import { PortableBlake3 } from "./blake3_portable.ts";
import { WasmBlake3 } from "./blake3_wasm.ts";
import { RS_STEP } from "./codec_wasm.generated.ts";
import { encodingMatrix } from "./gf256.ts";
import { gfRegionPortable } from "./region.ts";
import { RS_BLOCK, strideFor, tableSize, writeTables } from "./simd_region.ts";
import {
  acquireWasm,
  codecWasm,
  releaseWasm,
  wasmBytes,
} from "./wasm_memory.ts";

/** Stripe encoder for one `k + m` shape and a maximum stripe width. */
export class StripeCoder {
  readonly #k: number;
  readonly #m: number;
  readonly #stride: number;
  readonly #hashers: (WasmBlake3 | PortableBlake3)[];
  #tab = -1;
  #rows = -1;

  /**
   * Ready to encode stripes of up to `width` bytes per shard, hashing the
   * first `hashed` rows (all by default; the rest are hashed elsewhere).
   */
  constructor(k: number, m: number, width: number, hashed = k + m) {
    this.#k = k;
    this.#m = m;
    this.#stride = strideFor(Math.ceil(width / RS_STEP) * RS_STEP);
    const total = k + m;
    this.#hashers = Array.from(
      { length: hashed },
      () => codecWasm ? new WasmBlake3() : new PortableBlake3(),
    );
    if (codecWasm) {
      const parity = encodingMatrix(k, m).slice(k);
      this.#tab = acquireWasm(tableSize(m, k));
      this.#rows = acquireWasm(this.#stride * total);
      writeTables(parity, this.#tab);
    }
  }

  /**
   * Given the `k` data rows of a stripe (`rows[0..k)`, each `w` bytes),
   * fill the parity rows `rows[k..k+m)` and feed every row to its shard's
   * hasher.
   */
  encode(rows: readonly Uint8Array[], w: number): void {
    const k = this.#k, m = this.#m;
    if (!codecWasm) {
      if (m > 0) {
        gfRegionPortable(
          encodingMatrix(k, m).slice(k),
          rows.slice(0, k).map((r) => r.subarray(0, w)),
          rows.slice(k).map((r) => r.subarray(0, w)),
        );
      }
      this.#hashers.forEach((h, i) => h.update(rows[i].subarray(0, w)));
      return;
    }
    const stride = this.#stride;
    const base = this.#rows;
    let mem = wasmBytes();
    for (let j = 0; j < k; j++) {
      mem.set(rows[j].subarray(0, w), base + j * stride);
    }
    if (m > 0) {
      codecWasm.rs_mul(
        this.#tab,
        base,
        stride,
        k,
        base + k * stride,
        stride,
        m,
        Math.ceil(w / RS_STEP) * RS_STEP,
        RS_BLOCK,
      );
    }
    this.#hashers.forEach((h, i) =>
      (h as WasmBlake3).updateWasm(base + i * stride, w)
    );
    mem = wasmBytes();
    for (let r = k; r < k + m; r++) {
      const at = base + r * stride;
      rows[r].set(mem.subarray(at, at + w));
    }
  }

  /** The BLAKE3 of every hashed row's shard; the coder is then spent. */
  finish(): Uint8Array[] {
    this.release();
    return this.#hashers.map((h) => h.digest());
  }

  /** Give back the wasm memory (idempotent). */
  release(): void {
    if (this.#tab >= 0) releaseWasm(this.#tab);
    if (this.#rows >= 0) releaseWasm(this.#rows);
    this.#tab = this.#rows = -1;
  }
}
