import assert from "node:assert/strict";
import { MemoryFragmentStore } from "../../lib/memory/mod.ts";
import { ShardCensus } from "../../sim/census.ts";

const T = "cd".repeat(32);
const S = "ef".repeat(32);
const frag = (index: number, shardCount = 24, id = T) => ({
  tesseraId: id,
  index,
  shardCount,
  checksum: "00".repeat(32),
});

Deno.test("ShardCensus follows stores, deletes, absences and departures", async () => {
  const online = new Set([0, 1, 2]);
  const census = new ShardCensus({
    smallReplicas: 7,
    isOnline: (i) => online.has(i),
  });
  const stores = [0, 1, 2].map((i) =>
    census.wrap(i, new MemoryFragmentStore({ verifyOnStore: false }))
  );
  // 24 shards: 0..11 on node 0, 12..19 on node 1, 20..23 on node 2
  for (let i = 0; i < 24; i++) {
    await stores[i < 12 ? 0 : i < 20 ? 1 : 2].store(
      frag(i),
      new Uint8Array(10),
    );
  }
  assert.equal(census.status(T), undefined);
  census.activate(T, "fair", 24);
  assert.deepEqual(census.counts, {
    healthy: 1,
    degraded: 0,
    lost: 0,
    unavailable: 0,
  });
  assert.equal(census.storedBytes, 240);
  assert.deepEqual([...census.shardSizes()], [[10, 24]]);

  online.delete(2);
  census.setOnline(2, false); // 20 of 24 online: still healthy (away nodes keep their bytes)
  assert.deepEqual(census.counts, {
    healthy: 1,
    degraded: 0,
    lost: 0,
    unavailable: 0,
  });
  online.delete(1);
  census.setOnline(1, false); // 12 online < 16: unreadable, still exists
  assert.deepEqual(census.counts, {
    healthy: 1,
    degraded: 0,
    lost: 0,
    unavailable: 1,
  });
  assert.equal(census.redundancy(T), 1);

  census.nodeGone(1, false); // 16 exist: still rebuildable
  assert.equal(census.status(T), "degraded");
  assert.equal(census.counts.unavailable, 1);
  assert.equal(census.counts.unavailable, 1);
  await stores[2].delete(T, 20); // 15 exist: lost
  assert.equal(census.status(T), "lost");
  assert.equal(census.lostEver, 1);
  await stores[2].store(frag(20), new Uint8Array(10)); // re-seeded
  assert.equal(census.status(T), "degraded");
  assert.equal(census.lostEver, 1);
  assert.equal(census.storedBytes, 160);
  assert.deepEqual([...census.shardSizes()], [[10, 16]]);
  assert.equal(census.redundancy(T), 16 / 24);
});

Deno.test("ShardCensus: Small tesseras count copies against r", async () => {
  const census = new ShardCensus({ smallReplicas: 3, isOnline: () => true });
  const stores = [0, 1, 2, 3].map((i) =>
    census.wrap(i, new MemoryFragmentStore({ verifyOnStore: false }))
  );
  await stores[0].store(frag(0, 1, S), new Uint8Array(5));
  await stores[0].store(frag(0, 1, S), new Uint8Array(5)); // same node twice: one copy
  await stores[1].store(frag(0, 1, S), new Uint8Array(5));
  census.activate(S, "freeRider", 1);
  assert.equal(census.status(S), "degraded");
  assert.equal(census.redundancy(S), 2 / 3);
  await stores[2].store(frag(0, 1, S), new Uint8Array(5));
  assert.equal(census.status(S), "healthy");
  assert.equal(census.meanRedundancy("freeRider"), 1);
  assert.ok(Number.isNaN(census.meanRedundancy("fair")));
  assert.deepEqual(census.list(), [{
    id: S,
    status: "healthy",
    group: "freeRider",
  }]);
});

Deno.test("ShardCensus: redundancy over time averages each group's samples", async () => {
  const census = new ShardCensus({ smallReplicas: 2, isOnline: () => true });
  const stores = [0, 1].map((i) =>
    census.wrap(i, new MemoryFragmentStore({ verifyOnStore: false }))
  );
  for (const s of stores) {
    await s.store(frag(0, 1, T), new Uint8Array(4));
    await s.store(frag(0, 1, S), new Uint8Array(4));
  }
  census.activate(T, "fair", 1);
  census.activate(S, "freeRider", 1);
  assert.ok(Number.isNaN(census.redundancyOverTime("fair")));
  census.sampleRedundancy(); // both at 2 of 2 copies
  await stores[1].delete(S, 0);
  census.sampleRedundancy(); // free rider's at 1 of 2
  assert.equal(census.redundancyOverTime("fair"), 1);
  assert.equal(census.redundancyOverTime("freeRider"), 0.75);
  assert.equal(census.meanRedundancy("freeRider"), 0.5);
  assert.ok(Number.isNaN(census.redundancyOverTime("other")));
});

Deno.test("ShardCensus: unrecoverable comes back while the owner re-seeds; lost for good does not", async () => {
  const census = new ShardCensus({ smallReplicas: 2, isOnline: () => true });
  const stores = [0, 1, 2].map((i) =>
    census.wrap(i, new MemoryFragmentStore({ verifyOnStore: false }))
  );
  await stores[0].store(frag(0, 1, T), new Uint8Array(4));
  census.activate(T, "fair", 1);
  await stores[0].delete(T, 0); // no copy on any holder
  assert.equal(census.counts.lost, 1);
  assert.equal(census.lostForGood, 0); // the owner still has its copy
  await stores[1].store(frag(0, 1, T), new Uint8Array(4)); // re-seeded
  assert.equal(census.counts.lost, 0);
  assert.equal(census.lostEver, 1);
  census.orphan(T); // the owner leaves for good
  assert.equal(census.lostForGood, 0); // a holder still has it
  census.nodeGone(1, true);
  assert.equal(census.lostForGood, 1);
  census.orphan(T);
  assert.equal(census.lostForGood, 1); // counted once
});

Deno.test("ShardCensus: surplus copies, and what an outage's nodes held until restored", async () => {
  const online = new Set([0, 1, 2, 3]);
  const census = new ShardCensus({
    smallReplicas: 2,
    isOnline: (i) => online.has(i),
  });
  const stores = [0, 1, 2, 3].map((i) =>
    census.wrap(i, new MemoryFragmentStore({ verifyOnStore: false }))
  );
  for (let i = 0; i < 24; i++) {
    await stores[i < 12 ? 0 : 1].store(frag(i), new Uint8Array(10));
  }
  census.activate(T, "fair", 24);
  assert.equal(census.surplusBytes, 0);
  const took = census.heldBy([1]);
  assert.deepEqual([...took.keys()], [T]);
  assert.equal(took.get(T)!.size, 12);
  online.delete(1);
  census.setOnline(1, false); // node 1 dark: still healthy, but not restored
  assert.equal(census.status(T), "healthy");
  assert.equal(census.restoredWithout(T, took.get(T)!, [1]), false);
  for (let i = 12; i < 24; i++) {
    await stores[2].store(frag(i), new Uint8Array(10)); // repair re-places
  }
  assert.equal(census.restoredWithout(T, took.get(T)!, [1]), true);
  assert.equal(census.surplusBytes, 120); // node 1's copies are extra now
  online.add(1);
  census.setOnline(1, true);
  assert.equal(census.surplusBytes, 120); // and stay so when it returns
  await stores[1].delete(T);
  assert.equal(census.surplusBytes, 0);
  assert.equal(census.storedBytes, 240);
});
