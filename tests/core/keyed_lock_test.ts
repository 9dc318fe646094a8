import assert from "node:assert/strict";
import { isWholeCopy, KeyedLock, mapPool } from "../../lib/core/mod.ts";

Deno.test("KeyedLock runs one key's work in order, other keys freely, after failures too, and forgets idle keys", async () => {
  const locks = new KeyedLock();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const a1 = locks.run("a", async () => {
    await gate;
    order.push("a1");
    throw new Error("a1 fails");
  });
  const a2 = locks.run("a", () => Promise.resolve(void order.push("a2")));
  const b1 = locks.run("b", () => Promise.resolve(void order.push("b1")));
  assert.equal(locks.size, 2);
  await b1;
  assert.deepEqual(order, ["b1"]); // b did not wait for a
  release();
  await assert.rejects(a1, /a1 fails/);
  await a2;
  assert.deepEqual(order, ["b1", "a1", "a2"]);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(locks.size, 0);
});

Deno.test("mapPool keeps input order and at most `limit` running", async () => {
  let running = 0, most = 0;
  const out = await mapPool([5, 1, 3, 2], async (n, i) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10 + i;
  }, { limit: 2 });
  assert.deepEqual(out, [50, 11, 32, 23]);
  assert.equal(most, 2);
  await assert.rejects(
    mapPool(
      [1, 2],
      (n) => n === 2 ? Promise.reject(new Error("two")) : Promise.resolve(n),
      { limit: 1 },
    ),
    /two/,
  );
});

Deno.test("isWholeCopy: the Small tier and any single-shard plan", () => {
  assert.equal(isWholeCopy({ tier: "small", shardCount: 1 }), true);
  assert.equal(isWholeCopy({ tier: "medium", shardCount: 1 }), true);
  assert.equal(isWholeCopy({ tier: "medium", shardCount: 24 }), false);
  assert.equal(isWholeCopy({ tier: "large", shardCount: 72 }), false);
});
