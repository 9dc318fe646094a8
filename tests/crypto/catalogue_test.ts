import assert from "node:assert/strict";
import {
  MAX_CATALOGUE_BYTES,
  openCatalogue,
  openContentKey,
  sealCatalogue,
  sealContentKey,
  SEALED_KEY_BYTES,
} from "../../lib/crypto/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";

const KEY = new Uint8Array(32).fill(4);
const ENTRIES = [
  {
    id: "ab".repeat(32),
    name: "letters 1944",
    size: 12_345,
    time: 1_795_000_000_000,
  },
  { id: "cd".repeat(32), size: 0, time: 1_795_000_000_001 },
  {
    id: "ef".repeat(32),
    name: "família ✉",
    size: 5 << 20,
    time: 1_795_000_000_002,
    key: "01".repeat(32),
  },
];

Deno.test("a sealed catalogue opens with its key to the same entries", async () => {
  const sealed = await sealCatalogue({ entries: ENTRIES }, KEY);
  assert.deepEqual((await openCatalogue(sealed, KEY)).entries, ENTRIES);
  // Nothing of the plaintext shows: not a name, not an id, not a key.
  const raw = new TextDecoder("latin1").decode(sealed);
  for (const needle of ["letters", "abab", "0101", "entries"]) {
    assert.equal(raw.includes(needle), false, needle);
  }
  // A fresh nonce every time.
  const again = await sealCatalogue({ entries: ENTRIES }, KEY);
  assert.notDeepEqual(again, sealed);
});

Deno.test("another key or any altered byte fails authentication", async () => {
  const sealed = await sealCatalogue({ entries: ENTRIES }, KEY);
  await assert.rejects(
    () => openCatalogue(sealed, new Uint8Array(32).fill(5)),
    (err) => isTesserasError(err, "CHECKSUM_MISMATCH"),
  );
  for (const at of [5, 16, 17, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at] ^= 0x40;
    await assert.rejects(
      () => openCatalogue(bad, KEY),
      (err) => isTesserasError(err, "CHECKSUM_MISMATCH"),
      `byte ${at}`,
    );
  }
  await assert.rejects(
    () => openCatalogue(sealed.subarray(0, sealed.length - 1), KEY),
    (err) => isTesserasError(err, "CHECKSUM_MISMATCH"),
  );
});

Deno.test("bytes that are no catalogue, or of another version, are refused", async () => {
  const sealed = await sealCatalogue({ entries: [] }, KEY);
  await assert.rejects(
    () => openCatalogue(new Uint8Array(10), KEY),
    /no catalogue/,
  );
  const v2 = sealed.slice();
  v2[4] = 2;
  await assert.rejects(() => openCatalogue(v2, KEY), /format 2 is not known/);
});

Deno.test("malformed entries are refused before sealing", async () => {
  const bad = [
    { id: "xyz", size: 1, time: 1 },
    { id: "ab".repeat(32), size: -1, time: 1 },
    { id: "ab".repeat(32), size: 1, time: 1.5 },
    { id: "ab".repeat(32), size: 1, time: 1, key: "AB".repeat(32) },
    { id: "ab".repeat(32), size: 1, time: 1, name: "n".repeat(1025) },
  ];
  for (const entry of bad) {
    await assert.rejects(
      () => sealCatalogue({ entries: [entry] }, KEY),
      (err) => isTesserasError(err, "INVALID_INPUT"),
      JSON.stringify(entry).slice(0, 60),
    );
  }
  await assert.rejects(
    () => sealCatalogue({ entries: [] }, new Uint8Array(16)),
    /32 bytes/,
  );
});

Deno.test("a sealed content key opens only under its phrase and tessera", async () => {
  const contentKey = new Uint8Array(32).fill(0xc4);
  const context = { catalogueKey: KEY, tesseraId: "ab".repeat(32) };
  const sealed = await sealContentKey(contentKey, context);
  assert.equal(sealed.length, SEALED_KEY_BYTES);
  assert.deepEqual(await openContentKey(sealed, context), contentKey);
  for (
    const other of [
      { ...context, tesseraId: "ac".repeat(32) },
      { ...context, catalogueKey: new Uint8Array(32).fill(5) },
    ]
  ) {
    await assert.rejects(
      () => openContentKey(sealed, other),
      (err) => isTesserasError(err, "CHECKSUM_MISMATCH"),
    );
  }
  await assert.rejects(
    () => openContentKey(sealed.subarray(1), context),
    (err) => isTesserasError(err, "INVALID_INPUT"),
  );
});

const LARGE_PLAN = {
  size: 1_073_676_248 + 65_576,
  tier: "large" as const,
  dataShards: 48,
  parityShards: 24,
  shardCount: 72,
  shardSize: 22_369_622,
};

Deno.test("an entry's plan and checks survive sealing; a malformed plan is refused", async () => {
  const entry = {
    id: "ab".repeat(32),
    name: "letters",
    size: 1_073_676_248,
    time: 1_795_000_000_000,
    key: "01".repeat(32),
    plan: LARGE_PLAN,
    checks: "9f".repeat(32),
  };
  const sealed = await sealCatalogue({ entries: [entry] }, KEY);
  assert.deepEqual((await openCatalogue(sealed, KEY)).entries, [entry]);
  for (
    const plan of [
      { ...LARGE_PLAN, dataShards: 47 },
      { ...LARGE_PLAN, tier: "huge" },
      { ...LARGE_PLAN, size: -1 },
      "large",
    ]
  ) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      () => sealCatalogue({ entries: [{ ...entry, plan: plan as any }] }, KEY),
      (e) => isTesserasError(e) && e.code === "INVALID_INPUT",
    );
  }
  await assert.rejects(
    () =>
      sealCatalogue({ entries: [{ ...entry, checks: "9F".repeat(32) }] }, KEY),
    (e) => isTesserasError(e) && e.code === "INVALID_INPUT",
  );
});

Deno.test("how many tesseras a catalogue holds: ~10,000 as a Small tessera, ~160,000 at most", async () => {
  // A named private Large tessera with its plan: the biggest usual entry.
  const entry = (i: number) => ({
    id: i.toString(16).padStart(64, "0"),
    name: `holiday photos ${i}`,
    size: 1_073_676_248,
    time: 1_795_000_000_000 + i,
    key: "01".repeat(32),
    plan: LARGE_PLAN,
    checks: "9f".repeat(32),
  });
  const n = 10_000;
  const entries = Array.from({ length: n }, (_, i) => entry(i));
  const sealed = await sealCatalogue({ entries }, KEY);
  const perEntry = sealed.length / n;
  assert.ok(perEntry > 300 && perEntry < 450, `${perEntry} bytes an entry`);
  assert.ok(sealed.length < 4 * 1024 * 1024, "10,000 stay Small (< 4 MiB)");
  assert.ok(MAX_CATALOGUE_BYTES / perEntry > 150_000);
  const tooMany = Array.from(
    { length: Math.ceil(MAX_CATALOGUE_BYTES / perEntry) + 1000 },
    (_, i) => entry(i),
  );
  await assert.rejects(
    () => sealCatalogue({ entries: tooMany }, KEY),
    (e) => isTesserasError(e) && e.code === "TOO_LARGE",
  );
});
