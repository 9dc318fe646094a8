import assert from "node:assert/strict";
import fc from "fast-check";
import { rsEncode, rsReconstruct } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { subspaceEncode } from "./subspace_oracle.ts";
import { bytes as random } from "../storage/helpers.ts";

Deno.test("a tiny known encoding (4+2 of bytes 1..16, from the crate)", () => {
  const data = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  assert.deepEqual(
    rsEncode(data, { dataShards: 4, parityShards: 2 }).map((s) => [...s]),
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15, 16],
      [17, 18, 19, 9],
      [21, 22, 23, 101],
    ],
  );
});

Deno.test("parity is byte-identical to the Rust crate (@subspace)", async () => {
  const shapes: [number, number][] = [
    [1, 1],
    [3, 2],
    [4, 2],
    [10, 4],
    [
      16,
      8,
    ],
    [48, 24],
    [17, 3],
  ];
  let seed = 7;
  for (const [d, p] of shapes) {
    for (const n of [1, d, d + 1, 1000, 4097 + d]) {
      const data = random(n, seed++);
      assert.deepEqual(
        rsEncode(data, { dataShards: d, parityShards: p }),
        await subspaceEncode(data, d, p),
        `${d}+${p} length ${n}`,
      );
    }
  }
});

Deno.test("shard size is ceil(len / data), last data shard zero-padded", () => {
  const data = random(10, 3);
  const shards = rsEncode(data, { dataShards: 4, parityShards: 2 });
  assert.equal(shards.length, 6);
  for (const s of shards) assert.equal(s.length, 3);
  assert.deepEqual([...shards[3]], [data[9], 0, 0]);
  assert.deepEqual([...shards[0]], [...data.subarray(0, 3)]);
});

Deno.test("an empty input gives empty shards that reconstruct", () => {
  const shards = rsEncode(new Uint8Array(0), {
    dataShards: 4,
    parityShards: 2,
  });
  assert.deepEqual(shards.map((s) => s.length), [0, 0, 0, 0, 0, 0]);
  const back = rsReconstruct(
    [null, shards[1], null, shards[3], shards[4], shards[5]],
    { dataShards: 4, parityShards: 2 },
  );
  assert.deepEqual(back.map((s) => s.length), [0, 0, 0, 0, 0, 0]);
});

function lossPatterns(total: number, maxLoss: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << total; mask++) {
    const lost: number[] = [];
    for (let i = 0; i < total; i++) if (mask & (1 << i)) lost.push(i);
    if (lost.length <= maxLoss) out.push(lost);
  }
  return out;
}

Deno.test("every loss pattern up to parity reconstructs (small shapes)", () => {
  const shapes: [number, number][] = [[1, 1], [2, 2], [4, 2], [3, 3], [5, 3], [
    6,
    4,
  ]];
  for (const [d, p] of shapes) {
    const data = random(d * 37 + 5, d * 31 + p);
    const shards = rsEncode(data, { dataShards: d, parityShards: p });
    for (const lost of lossPatterns(d + p, p)) {
      const damaged = shards.map((s, i) => (lost.includes(i) ? null : s));
      const back = rsReconstruct(damaged, { dataShards: d, parityShards: p });
      assert.deepEqual(back, shards, `${d}+${p} lost ${lost}`);
    }
  }
});

Deno.test("more losses than parity throw INSUFFICIENT_SHARDS", () => {
  const [d, p] = [4, 2];
  const shards = rsEncode(random(100, 1), { dataShards: d, parityShards: p });
  for (const lost of lossPatterns(d + p, d + p)) {
    if (lost.length <= p) continue;
    assert.throws(
      () =>
        rsReconstruct(
          shards.map((s, i) => (lost.includes(i) ? null : s)),
          { dataShards: d, parityShards: p },
        ),
      (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
      `lost ${lost}`,
    );
  }
});

Deno.test("property: any dataShards of the shards reconstruct; fewer throw", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 0, max: 10 }),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.integer(),
      (d, p, data, seed) => {
        const shards = rsEncode(data, { dataShards: d, parityShards: p });
        const total = d + p;
        // A random permutation picks which shards survive.
        const order = Array.from({ length: total }, (_, i) => i);
        let x = seed >>> 0 || 1;
        for (let i = total - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) >>> 0;
          const j = x % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const keep = new Set(order.slice(0, d));
        const back = rsReconstruct(
          shards.map((s, i) => keep.has(i) ? s : null),
          { dataShards: d, parityShards: p },
        );
        assert.deepEqual(back, shards);
        if (d > 0) {
          keep.delete(order[0]);
          assert.throws(
            () =>
              rsReconstruct(shards.map((s, i) => keep.has(i) ? s : null), {
                dataShards: d,
                parityShards: p,
              }),
            (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
          );
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("mismatched inputs throw INVALID_INPUT", () => {
  const shards: (Uint8Array | null)[] = rsEncode(random(40, 2), {
    dataShards: 4,
    parityShards: 2,
  });
  const bad = (f: () => unknown) =>
    assert.throws(f, (e) => isTesserasError(e, "INVALID_INPUT"));
  bad(() =>
    rsReconstruct(shards.slice(0, 5), { dataShards: 4, parityShards: 2 })
  );
  bad(() =>
    rsReconstruct([new Uint8Array(9), ...shards.slice(1)], {
      dataShards: 4,
      parityShards: 2,
    })
  );
  bad(() => rsEncode(new Uint8Array(4), { dataShards: 0, parityShards: 2 }));
  bad(() => rsEncode(new Uint8Array(4), { dataShards: 200, parityShards: 57 }));
  bad(() => rsEncode(new Uint8Array(4), { dataShards: 2.5, parityShards: 1 }));
});

Deno.test("shards of 256 KiB and more get a buffer each, byte-identical to the crate, and rebuild", async () => {
  // 4 × 262,145-byte shards: above the size where each shard gets its own
  // buffer (so the allocator can recycle it), last one padded.
  const data = random(4 * 262_145 - 3, 11);
  const shape = { dataShards: 4, parityShards: 2 };
  const shards = rsEncode(data, shape);
  assert.deepEqual(shards, await subspaceEncode(data, 4, 2));
  const buffers = new Set(shards.map((s) => s.buffer));
  assert.equal(buffers.size, 6);
  assert.ok(!buffers.has(data.buffer as ArrayBuffer));
  for (const s of shards) assert.equal(s.byteLength, s.buffer.byteLength);
  // Writing one shard touches no other shard and not the input.
  const before = data.slice();
  shards[0].fill(0xff);
  assert.deepEqual(data, before);
  assert.deepEqual(shards[1], data.subarray(262_145, 2 * 262_145));

  const fresh = rsEncode(data, shape);
  const lost: (Uint8Array | null)[] = [...fresh];
  lost[0] = lost[3] = null;
  const back = rsReconstruct(lost, shape);
  assert.deepEqual(back, fresh);
  assert.notEqual(back[0].buffer, back[3].buffer);
});
