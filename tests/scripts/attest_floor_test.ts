import assert from "node:assert/strict";
import { measureAttestFloor } from "../../scripts/attest_floor.ts";

Deno.test("measureAttestFloor draws shard sizes in proportion to their copies and times them", () => {
  const floor = measureAttestFloor(new Map([[100, 1], [400, 3]]), {
    samples: 2_000,
    repeats: 1,
  });
  // 1,024 shards of 100 B and 3,072 of 400 B.
  assert.equal(floor.meanShardBytes, 325);
  assert.equal(floor.samples, 2_000);
  assert.ok(floor.microseconds > 0 && Number.isFinite(floor.microseconds));
});

Deno.test("measureAttestFloor of no shards measures nothing", () => {
  assert.deepEqual(measureAttestFloor(new Map()), {
    microseconds: 0,
    meanShardBytes: 0,
    samples: 0,
  });
});
