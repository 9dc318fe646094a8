import assert from "node:assert/strict";
import { attestationSigningBytes, smallBytes } from "../../lib/core/mod.ts";

Deno.test("smallBytes hands out zeroed, 8-aligned, non-overlapping views", () => {
  const views = Array.from(
    { length: 5000 },
    (_, i) => smallBytes(1 + (i % 40)),
  );
  for (const v of views) {
    assert.equal(v.byteOffset % 8, 0);
    assert.ok(v.every((b) => b === 0));
    v.fill(0xab);
  }
  // Writing every view never reached another.
  for (const [i, v] of views.entries()) {
    assert.equal(v.length, 1 + (i % 40));
    assert.ok(v.every((b) => b === 0xab));
  }
  assert.equal(smallBytes(10_000).byteOffset, 0);
  assert.equal(smallBytes(10_000).buffer.byteLength, 10_000);
});

Deno.test("attestation signing bytes change with every field", () => {
  const base = {
    tesseraId: "ab".repeat(32),
    holder: "12D3KooWholder",
    nonce: new Uint8Array(32).fill(1),
    timestamp: 1_795_299_414_308,
    entries: [{ index: 3, checksum: "cd".repeat(32), proof: "ef".repeat(32) }],
  };
  const hex = (a: typeof base) =>
    Array.from(attestationSigningBytes(a)).join(",");
  const original = hex(base);
  assert.equal(hex({ ...base }), original);
  const variants = [
    { ...base, tesseraId: "ac".repeat(32) },
    { ...base, holder: "12D3KooWholdes" },
    { ...base, holder: "12D3KooWhölder" },
    { ...base, nonce: new Uint8Array(32).fill(2) },
    { ...base, timestamp: base.timestamp + 1 },
    { ...base, entries: [] },
    { ...base, entries: [{ ...base.entries[0], index: 4 }] },
    { ...base, entries: [{ ...base.entries[0], checksum: "ce".repeat(32) }] },
    { ...base, entries: [{ ...base.entries[0], proof: "ee".repeat(32) }] },
    // Bytes moved between adjacent fields must not give the same layout.
    { ...base, tesseraId: base.tesseraId + "1", holder: "2D3KooWholder" },
  ];
  const seen = new Set([original]);
  for (const v of variants) seen.add(hex(v));
  assert.equal(seen.size, variants.length + 1);
  const utf8 = attestationSigningBytes({ ...base, holder: "pé" });
  const text = new TextDecoder().decode(utf8);
  assert.ok(text.includes("pé"));
});
