import assert from "node:assert/strict";
import {
  GROUP_BYTES,
  passChance,
  SAMPLE_COUNT,
  sampleGroups,
} from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";

const seed = {
  nonce: new Uint8Array(32).fill(42),
  holder: "12D3KooWHolder",
  tessera: "ab".repeat(32),
  index: 0,
};

function nonceOf(i: number): Uint8Array {
  const n = new Uint8Array(32);
  new DataView(n.buffer).setUint32(0, i, true);
  return n;
}

Deno.test("20 distinct groups, ascending, the same for both sides", () => {
  const size = 2731 * GROUP_BYTES;
  const a = sampleGroups(seed, size);
  assert.equal(a.length, SAMPLE_COUNT);
  assert.equal(new Set(a).size, SAMPLE_COUNT);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.ok(a.every((g) => Number.isInteger(g) && g >= 0 && g < 2731));
  assert.deepEqual(
    sampleGroups({ ...seed, nonce: seed.nonce.slice() }, size),
    a,
  );
});

Deno.test("a shard of at most 20 groups is sampled whole", () => {
  assert.deepEqual(sampleGroups(seed, 0), [0]);
  assert.deepEqual(sampleGroups(seed, 400), [0]);
  assert.deepEqual(
    sampleGroups(seed, 20 * GROUP_BYTES),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(sampleGroups(seed, 20 * GROUP_BYTES + 1).length, 20);
});

Deno.test("every field of the seed and the size change the draw", () => {
  const size = 1000 * GROUP_BYTES;
  const base = sampleGroups(seed, size);
  const variants = [
    { ...seed, nonce: nonceOf(1) },
    { ...seed, holder: "12D3KooWOther" },
    { ...seed, tessera: "cd".repeat(32) },
    { ...seed, index: 1 },
  ];
  for (const v of variants) assert.notDeepEqual(sampleGroups(v, size), base);
  assert.notDeepEqual(sampleGroups(seed, size + GROUP_BYTES), base);
  // Length prefixes: moving a character between holder and tessera changes it.
  assert.notDeepEqual(
    sampleGroups({ ...seed, holder: "ab", tessera: "c" }, size),
    sampleGroups({ ...seed, holder: "a", tessera: "bc" }, size),
  );
});

Deno.test("draws are uniform: every group of 50 picked about 20/50 of the time", () => {
  const groups = 50;
  const counts = new Array(groups).fill(0);
  const trials = 4000;
  for (let i = 0; i < trials; i++) {
    for (
      const g of sampleGroups(
        { ...seed, nonce: nonceOf(i) },
        groups * GROUP_BYTES,
      )
    ) counts[g]++;
  }
  const expected = (trials * SAMPLE_COUNT) / groups; // 1600
  // Binomial sd ~ 31; 6 sd either side.
  for (const c of counts) assert.ok(Math.abs(c - expected) < 190, `count ${c}`);
});

Deno.test("a holder missing half a shard passes with the formula's probability", () => {
  // With 3 samples the pass rate is measurable; the formula must match it.
  const groups = 64;
  const size = groups * GROUP_BYTES;
  const missing = new Set(Array.from({ length: 32 }, (_, i) => 2 * i + 1));
  const trials = 20_000;
  let passed = 0;
  for (let i = 0; i < trials; i++) {
    const asked = sampleGroups({ ...seed, nonce: nonceOf(i) }, size, {
      count: 3,
    });
    if (asked.every((g) => !missing.has(g))) passed++;
  }
  const p = passChance({ groups, missing: 32, samples: 3 }); // 32*31*30 / (64*63*62)
  assert.ok(Math.abs(p - (32 * 31 * 30) / (64 * 63 * 62)) < 1e-12);
  const sd = Math.sqrt((p * (1 - p)) / trials);
  assert.ok(
    Math.abs(passed / trials - p) < 6 * sd,
    `${passed / trials} vs ${p}`,
  );
});

Deno.test("20 samples: missing half passes with probability at most 2^-20", () => {
  for (const groups of [21, 40, 683, 2048, 2731]) {
    const p = passChance({ groups, missing: Math.ceil(groups / 2) });
    assert.ok(p <= 2 ** -20, `${groups} groups: ${p}`);
  }
  assert.equal(passChance({ groups: 10, missing: 1 }), 0);
  assert.equal(passChance({ groups: 1000, missing: 0 }), 1);
});

Deno.test("a bad nonce, index or count is INVALID_INPUT", () => {
  const size = 100 * GROUP_BYTES;
  const bad = [
    () => sampleGroups({ ...seed, nonce: new Uint8Array(31) }, size),
    () => sampleGroups({ ...seed, index: -1 }, size),
    () => sampleGroups({ ...seed, index: 1.5 }, size),
    () => sampleGroups(seed, size, { count: 0 }),
    () => sampleGroups(seed, -5),
  ];
  for (const f of bad) {
    assert.throws(f, (e) => isTesserasError(e, "INVALID_INPUT"));
  }
});
