import assert from "node:assert/strict";
import { Liveness } from "../../lib/replication/liveness.ts";
import { SafetyMemo } from "../../lib/replication/safety_memo.ts";

const id = "ab".repeat(32);
const plan = {
  tier: "medium",
  shardCount: 3,
  dataShards: 2,
  parityShards: 1,
} as const;
const live = [
  { index: 0, peerId: "a", ip: "10.0.0.1" },
  { index: 1, peerId: "b", ip: "10.0.1.1" },
  { index: 2, peerId: "c", ip: "10.0.2.1" },
];

Deno.test("SafetyMemo: the same live placements give the remembered safety, any change computes it again", () => {
  const memo = new SafetyMemo();
  const first = memo.of(id, { plan, live });
  assert.equal(first.peerLosses, 1);
  assert.equal(first.subnetLosses, 1);
  // Equal placements in fresh objects: the very same result, not recomputed.
  assert.equal(memo.of(id, { plan, live: live.map((l) => ({ ...l })) }), first);
  // A holder gone, moved to another peer, to another subnet: recomputed.
  const fewer = memo.of(id, { plan, live: live.slice(0, 2) });
  assert.notEqual(fewer, first);
  assert.equal(fewer.peerLosses, 0);
  const moved = live.map((l, i) => i === 2 ? { ...l, peerId: "d" } : l);
  assert.notEqual(memo.of(id, { plan, live: moved }), fewer);
  const sameSubnet = live.map((l, i) => i === 2 ? { ...l, ip: "10.0.1.2" } : l);
  const crowded = memo.of(id, { plan, live: sameSubnet });
  assert.equal(crowded.subnetLosses, 0);
  assert.equal(memo.of(id, { plan, live: sameSubnet }), crowded);
  // Another shape of the same holders is another question.
  const wider = { ...plan, shardCount: 4, parityShards: 2 } as const;
  assert.notEqual(memo.of(id, { plan: wider, live: sameSubnet }), crowded);
});

Deno.test("Liveness: an answer moves a peer's time forward only; past the bound the stalest are forgotten", () => {
  const liveness = new Liveness();
  liveness.heard("p", 10);
  liveness.heard("p", 5);
  assert.equal(liveness.heardAt("p"), 10);
  liveness.missed("p", 12);
  assert.equal(liveness.silentSince("p"), 12);
  liveness.heard("p", 20);
  assert.equal(liveness.heardAt("p"), 20);
  assert.equal(liveness.silentSince("p"), -Infinity);
  // 8,192 peers are remembered; the next one forgets the 1,024 stalest,
  // by when they last answered (p answered last of the first ones).
  for (let i = 0; i < 8191; i++) liveness.heard(`q${i}`, 100 + i);
  liveness.heard("p", 1_000_000);
  liveness.heard("new", 2_000_000);
  assert.equal(liveness.heardAt("q0"), -Infinity);
  assert.equal(liveness.heardAt("q1023"), -Infinity);
  assert.equal(liveness.heardAt("q1024"), 1124);
  assert.equal(liveness.heardAt("p"), 1_000_000);
  assert.equal(liveness.heardAt("new"), 2_000_000);
});
