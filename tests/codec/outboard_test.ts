import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkOutboard,
  GROUP_BYTES,
  OutboardBuilder,
  outboardOf,
  outboardOfFile,
  ProofError,
} from "../../lib/codec/mod.ts";
import {
  groupCvs,
  pairCvs,
  parentCv,
  portableSubtreeCv,
  subtreeCv,
} from "../../lib/codec/blake3_tree.ts";
import { toHex } from "../../lib/core/mod.ts";
import { vectorInput, VECTORS } from "./blake3_vectors.ts";
import {
  flipped,
  independentHex,
  referenceOutboard,
  shardBytes,
} from "./proof_fixtures.ts";

/** Sizes at every edge of the tree: chunks, groups, odd group counts. */
const EDGES = [
  0,
  1,
  1023,
  1024,
  1025,
  GROUP_BYTES - 1,
  GROUP_BYTES,
  GROUP_BYTES + 1,
  2 * GROUP_BYTES,
  3 * GROUP_BYTES - 7,
  5 * GROUP_BYTES,
  7 * GROUP_BYTES + 1,
  12 * GROUP_BYTES,
  13 * GROUP_BYTES - 1,
  33 * GROUP_BYTES + 500,
  64 * GROUP_BYTES + 1,
];

Deno.test("subtreeCv as the root is plain BLAKE3 (official vectors, wasm and portable)", () => {
  for (const [n, hash] of VECTORS) {
    if (n > 64 * 1024) continue;
    assert.equal(
      toHex(subtreeCv(vectorInput(n), 0, true)),
      hash,
      `length ${n}`,
    );
    assert.equal(
      toHex(portableSubtreeCv(vectorInput(n), 0, true)),
      hash,
      `length ${n}`,
    );
  }
});

Deno.test("wasm and portable subtree and group CVs agree at any chunk counter", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 8 * 1024 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.boolean(),
      (len, first, root) => {
        const data = shardBytes(len, len + 1);
        assert.deepEqual(
          subtreeCv(data, first, root),
          portableSubtreeCv(data, first, root),
        );
      },
    ),
    { numRuns: 200 },
  );
  const data = shardBytes(40 * GROUP_BYTES, 9);
  const cvs = groupCvs(data, 5);
  for (let g = 0; g < 40; g++) {
    const group = data.subarray(g * GROUP_BYTES, (g + 1) * GROUP_BYTES);
    assert.deepEqual(
      cvs.subarray(32 * g, 32 * g + 32),
      portableSubtreeCv(group, (5 + g) * 8, false),
    );
  }
  const pairs = shardBytes(64 * 4099, 3);
  const many = pairCvs(pairs);
  for (const i of [0, 1, 2, 3, 4, 4095, 4096, 4098]) {
    const p = pairs.subarray(64 * i, 64 * i + 64);
    assert.deepEqual(
      many.subarray(32 * i, 32 * i + 32),
      parentCv(p.subarray(0, 32), p.subarray(32), false),
    );
  }
});

Deno.test("outboard roots match the official vectors", () => {
  for (const [n, hash] of VECTORS) {
    assert.equal(toHex(outboardOf(vectorInput(n)).root), hash, `length ${n}`);
  }
});

Deno.test("outboards at every edge equal the recursive reference, roots equal hash-wasm", async () => {
  for (const size of EDGES) {
    const data = shardBytes(size, size + 3);
    const { root, outboard } = outboardOf(data);
    assert.equal(toHex(root), await independentHex(data), `size ${size}`);
    assert.deepEqual(outboard, referenceOutboard(data), `size ${size}`);
    const groups = Math.max(1, Math.ceil(size / GROUP_BYTES));
    assert.equal(outboard.length, (groups - 1) * 64);
    checkOutboard(outboard, { size, checksum: root });
  }
});

Deno.test("fed in pieces of any size, the builder gives the same outboard", () => {
  const data = shardBytes(70 * GROUP_BYTES + 123, 7);
  const whole = outboardOf(data);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 300_000 }), {
        minLength: 1,
        maxLength: 12,
      }),
      (cuts) => {
        const b = new OutboardBuilder();
        let at = 0;
        for (const c of cuts) {
          const end = Math.min(data.length, at + c);
          b.update(data.subarray(at, end));
          at = end;
        }
        b.update(data.subarray(at));
        const got = b.finish();
        assert.deepEqual(got.root, whole.root);
        assert.deepEqual(got.outboard, whole.outboard);
        assert.equal(got.size, data.length);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("a finished builder refuses more input", () => {
  const b = new OutboardBuilder();
  b.finish();
  assert.throws(() => b.update(new Uint8Array(1)), /already finished/);
});

Deno.test("checkOutboard refuses a wrong length and any tampered pair", () => {
  const data = shardBytes(13 * GROUP_BYTES - 1, 5);
  const { root, outboard } = outboardOf(data);
  const target = { size: data.length, checksum: root };
  const refused = (o: Uint8Array, t = target) =>
    assert.throws(
      () => checkOutboard(o, t),
      (e) =>
        e instanceof ProofError && e.fault === "outboard" &&
        e.code === "CHECKSUM_MISMATCH",
    );
  refused(outboard.subarray(64));
  refused(new Uint8Array([...outboard, 0]));
  for (let at = 0; at < outboard.length; at += 7) {
    refused(flipped(outboard, at));
  }
  refused(outboard, { size: data.length, checksum: flipped(root, 0) });
  refused(outboard, { size: data.length + GROUP_BYTES, checksum: root });
  // One group: nothing to tamper, the empty outboard passes.
  checkOutboard(new Uint8Array(0), { size: 5, checksum: new Uint8Array(32) });
});

Deno.test("outboardOfFile streams a 22 MiB Large shard and matches hash-wasm", async () => {
  const size = Math.ceil(2 ** 30 / 48); // the largest Large shard
  const data = shardBytes(size, 11);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/000.shard`;
    await Deno.writeFile(path, data);
    const built = await outboardOfFile(path);
    assert.equal(built.size, size);
    assert.equal(toHex(built.root), await independentHex(data));
    assert.deepEqual(built.outboard, outboardOf(data).outboard);
    assert.equal(
      built.outboard.length,
      (Math.ceil(size / GROUP_BYTES) - 1) * 64,
    );
    assert.ok(built.outboard.length / size < 0.008);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
