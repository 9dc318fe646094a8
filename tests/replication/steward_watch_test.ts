import assert from "node:assert/strict";
import { SeenQueue } from "../../lib/replication/seen_queue.ts";
import { StewardWatch } from "../../lib/replication/steward_watch.ts";

const A = "aa".repeat(32), B = "bb".repeat(32), C = "cc".repeat(32);
const AFTER = 100;

Deno.test("the seen queue pops the oldest sightings while the test holds, in order", () => {
  const queue = new SeenQueue<number>();
  const seen = [50, 7, 93, 7, 12, 88, 3, 61, 40, 40, 99, 0];
  seen.forEach((s, i) => queue.push({ seen: s, id: String(i), token: i }));
  const popped = queue.popWhile((s) => s < 45).map((e) => e.seen);
  assert.deepEqual(popped, [0, 3, 7, 7, 12, 40, 40]);
  assert.equal(queue.size, seen.length - popped.length);
  assert.deepEqual(queue.popWhile(() => true).map((e) => e.seen), [
    50,
    61,
    88,
    93,
    99,
  ]);
  assert.equal(queue.size, 0);
});

Deno.test("the watch names exactly the tesseras whose owner is silent past the setting", () => {
  const watch = new StewardWatch(0);
  watch.seed([A, B, C]);
  assert.deepEqual(watch.takeUnsettled().sort(), [A, B, C]);
  watch.challenged(A, { from: "owner", owner: "owner", at: 60 });
  watch.challenged(B, { from: "other", owner: "owner", at: 60 });
  // Silence is strictly more than the setting.
  assert.deepEqual(watch.silent({ now: 100, afterMs: AFTER }), []);
  assert.deepEqual(watch.silent({ now: 101, afterMs: AFTER }), [B, C]);
  // A silent one stays silent at every later sweep until its owner is seen.
  assert.deepEqual(watch.silent({ now: 150, afterMs: AFTER }), [B, C]);
  assert.deepEqual(watch.silent({ now: 161, afterMs: AFTER }), [A, B, C]);
  watch.challenged(C, { from: "owner", owner: "owner", at: 161 });
  assert.deepEqual(watch.silent({ now: 200, afterMs: AFTER }), [A, B]);
  assert.deepEqual(watch.silent({ now: 262, afterMs: AFTER }), [A, B, C]);
});

Deno.test("a forgotten tessera is not named again until a shard of it is stored", () => {
  const watch = new StewardWatch(0);
  watch.seed([A, B]);
  watch.takeUnsettled();
  assert.deepEqual(watch.silent({ now: 101, afterMs: AFTER }), [A, B]);
  watch.forget(A);
  assert.deepEqual(watch.silent({ now: 102, afterMs: AFTER }), [B]);
  watch.holding(A);
  assert.deepEqual(watch.takeUnsettled(), [A]);
  // Watched again, as one never challenged since we started.
  assert.deepEqual(watch.silent({ now: 103, afterMs: AFTER }), [A, B]);
});

Deno.test("a released tessera is to be checked; what the caller forgets loses its sightings", () => {
  const watch = new StewardWatch(0);
  watch.seed([A]);
  watch.takeUnsettled();
  watch.challenged(A, { from: "owner", owner: "owner", at: 90 });
  watch.released(B); // not watched: nothing to check
  watch.released(A);
  assert.deepEqual(watch.takeUnsettled(), [A]);
  assert.deepEqual(watch.takeUnsettled(), []);
  // The caller found A no longer held and forgot it; held again later,
  // its owner's old challenge no longer counts.
  watch.forget(A);
  watch.holding(A);
  assert.equal(watch.ownerSeenAt(A), 0);
  assert.deepEqual(watch.silent({ now: 101, afterMs: AFTER }), [A]);
});

Deno.test("a challenge for a tessera not seeded is watched and to be checked", () => {
  const watch = new StewardWatch(10);
  watch.challenged(C, { from: "owner", owner: "owner", at: 20 });
  assert.deepEqual(watch.takeUnsettled(), [C]);
  assert.equal(watch.unseeded, true);
  watch.seed([]);
  assert.equal(watch.unseeded, false);
  assert.deepEqual(watch.silent({ now: 120, afterMs: AFTER }), []);
  assert.deepEqual(watch.silent({ now: 121, afterMs: AFTER }), [C]);
});
