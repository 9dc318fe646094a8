import assert from "node:assert/strict";
import {
  blake3Hex,
  decodeTessera,
  encodeTessera,
  planTessera,
  rsEncode,
} from "../../lib/codec/mod.ts";
import {
  DEFAULT_TIER_THRESHOLDS,
  isTesserasError,
  MAX_TESSERA_SIZE,
} from "../../lib/core/mod.ts";

const MIB = 1024 * 1024;

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >>> 11)) & 0xff;
  return out;
}

Deno.test("planner: tiers at every boundary", () => {
  const cases: [number, string, number, number, number][] = [
    [0, "small", 1, 0, 0],
    [1, "small", 1, 0, 1],
    [4 * MIB - 1, "small", 1, 0, 4 * MIB - 1],
    [4 * MIB, "medium", 16, 8, 262144],
    [4 * MIB + 1, "medium", 16, 8, 262145],
    [256 * MIB - 1, "medium", 16, 8, 16 * MIB],
    [256 * MIB, "large", 48, 24, 5592406],
    [MAX_TESSERA_SIZE, "large", 48, 24, 22369622],
  ];
  for (const [size, tier, d, p, shardSize] of cases) {
    assert.deepEqual(planTessera(size), {
      size,
      tier,
      dataShards: d,
      parityShards: p,
      shardCount: d + p,
      shardSize,
    }, `size ${size}`);
  }
});

Deno.test("planner: above 1 GiB is TOO_LARGE, nonsense is INVALID_INPUT", () => {
  assert.throws(
    () => planTessera(MAX_TESSERA_SIZE + 1),
    (e) => isTesserasError(e, "TOO_LARGE"),
  );
  for (const bad of [-1, 1.5, NaN]) {
    assert.throws(
      () => planTessera(bad),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  }
  assert.throws(
    () => planTessera(5, { thresholds: { mediumFrom: 10, largeFrom: 5 } }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("planner: scaled-down thresholds for the simulator", () => {
  const thresholds = { mediumFrom: 1000, largeFrom: 10_000 };
  assert.equal(planTessera(999, { thresholds }).tier, "small");
  assert.equal(planTessera(1000, { thresholds }).tier, "medium");
  assert.equal(planTessera(10_000, { thresholds }).tier, "large");
  assert.equal(planTessera(10_000, { thresholds }).shardSize, 209);
  assert.equal(DEFAULT_TIER_THRESHOLDS.mediumFrom, 4 * MIB);
});

Deno.test("encode/decode round trip at the small tier boundaries", () => {
  for (const n of [0, 1, 4 * MIB - 1]) {
    const data = pattern(n);
    const { id, plan, fragments } = encodeTessera(data);
    assert.equal(id, blake3Hex(data));
    assert.equal(plan.tier, "small");
    assert.equal(fragments.length, 1);
    assert.deepEqual(fragments[0].id, {
      tesseraId: id,
      index: 0,
      shardCount: 1,
      checksum: blake3Hex(data),
    });
    assert.deepEqual(decodeTessera(plan, [fragments[0].data]), data);
    assert.throws(
      () => decodeTessera(plan, [null]),
      (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
    );
  }
  assert.equal(
    encodeTessera(new Uint8Array(0)).id,
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  );
});

Deno.test("encode/decode round trip at 4 MiB (medium) with 8 losses", () => {
  const data = pattern(4 * MIB);
  const { id, plan, fragments } = encodeTessera(data);
  assert.equal(plan.tier, "medium");
  assert.equal(fragments.length, 24);
  fragments.forEach((f, i) => {
    assert.equal(f.id.index, i);
    assert.equal(f.id.shardCount, 24);
    assert.equal(f.id.tesseraId, id);
    assert.equal(f.id.checksum, blake3Hex(f.data));
    assert.equal(f.data.length, 262144);
  });
  const shards = fragments.map((f, i) => (i % 3 === 0 ? null : f.data));
  assert.deepEqual(decodeTessera(plan, shards), data);
  shards[1] = null;
  assert.throws(
    () => decodeTessera(plan, shards),
    (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
  );
});

Deno.test("encode/decode with scaled tiers: large shape, padding stripped", () => {
  const thresholds = { mediumFrom: 100, largeFrom: 1000 };
  const data = pattern(1001);
  const { plan, fragments } = encodeTessera(data, { thresholds });
  assert.equal(plan.tier, "large");
  assert.equal(plan.shardSize, 21);
  assert.equal(fragments.length, 72);
  const shards = fragments.map((f, i) => (i < 24 ? null : f.data));
  assert.deepEqual(decodeTessera(plan, shards), data);
});

Deno.test("decode rejects shard sizes or counts that disagree with the plan", () => {
  const { plan, fragments } = encodeTessera(pattern(500), {
    thresholds: { mediumFrom: 100, largeFrom: 1000 },
  });
  const shards = fragments.map((f) => f.data);
  assert.throws(
    () => decodeTessera(plan, shards.slice(1)),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  shards[3] = new Uint8Array(plan.shardSize + 1);
  assert.throws(
    () => decodeTessera(plan, shards),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("encodeTessera shares unpadded data shards with the input; rsEncode copies", () => {
  const data = pattern(4 * MIB + 5);
  const { fragments } = encodeTessera(data);
  assert.equal(fragments[0].data.buffer, data.buffer);
  assert.equal(fragments[14].data.buffer, data.buffer);
  assert.notEqual(fragments[15].data.buffer, data.buffer); // padded
  assert.notEqual(
    rsEncode(data, { dataShards: 16, parityShards: 8 })[0].buffer,
    data.buffer,
  );
});
