import assert from "node:assert/strict";
import { cpl, Kademlia, key64 } from "../../sim/kademlia.ts";
import { SimRng } from "../../sim/rng.ts";

function xorLess(
  a: { hi: number; lo: number },
  b: { hi: number; lo: number },
  k: { hi: number; lo: number },
): number {
  const ah = (a.hi ^ k.hi) >>> 0, bh = (b.hi ^ k.hi) >>> 0;
  if (ah !== bh) return ah - bh;
  return ((a.lo ^ k.lo) >>> 0) - ((b.lo ^ k.lo) >>> 0);
}

function build(n: number, online: (i: number) => boolean, seed = 1) {
  const rng = new SimRng(seed);
  const kad = new Kademlia({
    rng: rng.fork("kad"),
    isOnline: online,
    expectedNodes: n,
  });
  for (let i = 0; i < n; i++) kad.add(i, rng.next32(), rng.next32());
  for (let i = 0; i < n; i++) kad.fill(i);
  return { kad, rng };
}

Deno.test("cpl and key64", () => {
  assert.equal(cpl(0, 0, 0, 0), 64);
  assert.equal(cpl(0x80000000, 0, 0, 0), 0);
  assert.equal(cpl(1, 0, 0, 0), 31);
  assert.equal(cpl(5, 1, 5, 0), 63);
  assert.deepEqual(key64("ffffffff00000001" + "00".repeat(24)), {
    hi: 0xffffffff,
    lo: 1,
  });
});

Deno.test("trueClosest equals a brute-force XOR sort over online nodes", () => {
  const offline = new Set([3, 17, 42]);
  const { kad, rng } = build(300, (i) => !offline.has(i));
  for (let q = 0; q < 20; q++) {
    const key = { hi: rng.next32(), lo: rng.next32() };
    const brute = [...Array(300).keys()].filter((i) => !offline.has(i))
      .sort((a, b) => xorLess(kad.keyOf(a), kad.keyOf(b), key)).slice(0, 25);
    assert.deepEqual(kad.trueClosest(key, 25, (i) => !offline.has(i)), brute);
  }
});

Deno.test("lookups find (nearly all) the true closest online peers and never offline ones", () => {
  const offline = new Set<number>();
  const { kad, rng } = build(2000, (i) => !offline.has(i));
  for (let i = 0; i < 2000; i += 5) offline.add(i);
  let hit = 0, total = 0;
  for (let q = 0; q < 50; q++) {
    let asker = rng.int(2000);
    if (offline.has(asker)) asker++;
    const key = { hi: rng.next32(), lo: rng.next32() };
    const found = kad.lookup(asker, key, 20);
    assert.equal(found.length, 20);
    for (const f of found) {
      assert.ok(!offline.has(f), "offline peer returned");
      assert.notEqual(f, asker);
    }
    const truth = kad.trueClosest(
      key,
      20,
      (i) => i !== asker && !offline.has(i),
    );
    const s = new Set(found);
    for (const t of truth) if (s.has(t)) hit++;
    total += truth.length;
  }
  assert.ok(hit / total > 0.9, `recall ${hit / total}`);
  // about 2.4 KiB per node at this size (buckets, and the same entries
  // sorted by key): the 4 KiB budget holds
  assert.ok(kad.tableBytes() / 2000 < 4096);
});

Deno.test("a removed node leaves the key space and is refilled out of tables", () => {
  const { kad } = build(50, () => true);
  const victim = kad.known(0)[0];
  kad.remove(victim);
  assert.equal(kad.size, 49);
  kad.fill(0);
  assert.ok(!kad.known(0).includes(victim));
  assert.ok(
    !kad.trueClosest(kad.keyOf(victim), 49, () => true).includes(victim),
  );
});
