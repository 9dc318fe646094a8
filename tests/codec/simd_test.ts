import assert from "node:assert/strict";
import { blake3, createBlake3, rsEncode } from "../../lib/codec/mod.ts";
import { PortableBlake3 } from "../../lib/codec/blake3_portable.ts";
import { WasmBlake3 } from "../../lib/codec/blake3_wasm.ts";
import { encodingMatrix } from "../../lib/codec/gf256.ts";
import { gfRegionPortable } from "../../lib/codec/region.ts";
import { simdRegion } from "../../lib/codec/simd_region.ts";
import {
  acquireWasm,
  codecVariant,
  releaseWasm,
  wasmBytes,
} from "../../lib/codec/wasm_memory.ts";
import { toHex } from "../../lib/core/mod.ts";
import { subspaceEncode } from "./subspace_oracle.ts";
import { bytes as random } from "../storage/helpers.ts";

Deno.test("the SIMD wasm kernels are in use on this engine", () => {
  assert.equal(codecVariant, "relaxed-simd");
});

Deno.test("SIMD region kernel equals the portable one (shapes, odd lengths)", () => {
  const shapes: [number, number][] = [[1, 1], [3, 5], [16, 8], [48, 24], [
    7,
    9,
  ]];
  let seed = 11;
  for (const [k, m] of shapes) {
    const rows = encodingMatrix(k, m).slice(k);
    for (const len of [1, 15, 33, 1000, 16385, 40_000]) {
      const inputs = Array.from({ length: k }, () => random(len, seed++));
      const want = Array.from({ length: m }, () => new Uint8Array(len));
      const got = Array.from({ length: m }, () => new Uint8Array(len));
      gfRegionPortable(rows, inputs, want);
      simdRegion(rows, inputs, got);
      assert.deepEqual(got, want, `${k}+${m} len ${len}`);
    }
  }
});

Deno.test("parity equals @subspace for random sizes of both tiers", async () => {
  let seed = 99;
  for (const [d, p] of [[16, 8], [48, 24]]) {
    for (let t = 0; t < 4; t++) {
      const size = 1 + (random(4, seed++).reduce((a, b) => a * 256 + b) %
        (1 << 20));
      const data = random(size, seed++);
      assert.deepEqual(
        rsEncode(data, { dataShards: d, parityShards: p }),
        await subspaceEncode(data, d, p),
        `${d}+${p} size ${size}`,
      );
    }
  }
});

Deno.test("BLAKE3: random lengths at odd offsets equal the portable reference", () => {
  const big = random(300_000, 5);
  let seed = 3;
  const edges = [0, 1, 1023, 1024, 1025, 4095, 4096, 4097, 65535, 65536];
  for (let t = 0; t < 40; t++) {
    const r = random(8, seed++);
    const off = 1 + (r[0] | (r[1] << 8)) % 999;
    const len = t < edges.length
      ? edges[t] + 65536 * (t % 3)
      : (r[2] | (r[3] << 8) | (r[4] << 16)) % 200_000;
    const view = big.subarray(off, off + len);
    const want = toHex(new PortableBlake3().update(view).digest());
    assert.equal(toHex(blake3(view)), want, `offset ${off} length ${len}`);
  }
});

Deno.test("BLAKE3: streaming in any split equals one-shot", () => {
  const data = random(2_100_000, 17);
  const want = toHex(blake3(data));
  for (const piece of [1, 63, 1024, 1025, 4096 * 3 + 7, 65536, 262_144, 1e6]) {
    const h = createBlake3();
    // Only the large pieces for the whole input; small ones for a prefix.
    const end = piece < 1024 ? 70_000 : data.length;
    for (let o = 0; o < end; o += piece) {
      h.update(data.subarray(o, Math.min(end, o + piece)));
    }
    const expect = end === data.length
      ? want
      : toHex(blake3(data.subarray(0, end)));
    assert.equal(toHex(h.digest()), expect, `piece ${piece}`);
  }
});

Deno.test("BLAKE3: hashing straight from wasm memory equals one-shot", () => {
  const data = random(1_000_003, 23);
  const key = random(32, 1);
  const ptr = acquireWasm(data.length);
  try {
    wasmBytes().set(data, ptr);
    const plain = new WasmBlake3();
    const keyed = new WasmBlake3(key);
    for (let o = 0; o < data.length; o += 131_072 + 5) {
      const n = Math.min(131_077, data.length - o);
      plain.updateWasm(ptr + o, n);
      keyed.updateWasm(ptr + o, n);
    }
    assert.equal(toHex(plain.digest()), toHex(blake3(data)));
    assert.equal(
      toHex(keyed.digest()),
      toHex(new PortableBlake3(key).update(data).digest()),
    );
  } finally {
    releaseWasm(ptr);
  }
});
