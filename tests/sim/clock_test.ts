import assert from "node:assert/strict";
import { VirtualClock } from "../../sim/clock.ts";

Deno.test("VirtualClock wakes sleepers in deadline order, ties in schedule order", async () => {
  const clock = new VirtualClock({ start: 1000 });
  const order: string[] = [];
  clock.sleep(50).then(() => order.push(`b@${clock.now()}`));
  clock.sleep(10).then(() => order.push(`a@${clock.now()}`));
  clock.sleep(50).then(() => order.push(`c@${clock.now()}`));
  clock.schedule(1010, () => order.push("x@1010"));
  assert.equal(clock.pending, 4);
  const ran = await clock.runUntil(1040);
  assert.equal(ran, 2);
  assert.deepEqual(order, ["a@1010", "x@1010"]);
  assert.equal(clock.now(), 1040);
  await clock.runUntil(2000);
  assert.deepEqual(order, ["a@1010", "x@1010", "b@1050", "c@1050"]);
  assert.equal(clock.now(), 2000);
  assert.equal(clock.pending, 0);
});

Deno.test("VirtualClock lets woken code run to quiescence before the next event", async () => {
  const clock = new VirtualClock();
  const seen: number[] = [];
  (async () => {
    await clock.sleep(5);
    for (let i = 0; i < 50; i++) await Promise.resolve();
    seen.push(clock.now());
    await clock.sleep(5);
    seen.push(clock.now());
  })();
  clock.schedule(7, () => seen.push(-7));
  await clock.runUntil(100);
  assert.deepEqual(seen, [5, -7, 10]);
});

Deno.test("VirtualClock sleep rejects with the abort reason and leaves no event", async () => {
  const clock = new VirtualClock();
  const ctrl = new AbortController();
  const p = clock.sleep(1000, { signal: ctrl.signal });
  ctrl.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  assert.equal(clock.pending, 0);
  assert.equal(await clock.runUntil(5000), 0);
  await assert.rejects(clock.sleep(1, { signal: ctrl.signal }), /stop/);
});

Deno.test("VirtualClock cancel() drops a scheduled callback", async () => {
  const clock = new VirtualClock();
  let ran = 0;
  const h = clock.schedule(10, () => ran++);
  clock.schedule(20, () => ran += 10);
  h.cancel();
  h.cancel();
  assert.equal(clock.pending, 1);
  assert.equal(clock.nextEventAt(), 20);
  await clock.runUntil(30);
  assert.equal(ran, 10);
  assert.equal(clock.processed, 1);
});
