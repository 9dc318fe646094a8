import assert from "node:assert/strict";
import { runSimulation } from "../../sim/run.ts";
import type { Scenario } from "../../sim/scenario.ts";

// Twenty nodes in ten /24s: the busiest /24 holds owners and holders at
// once, so burning it both hurts tesseras whose owner survives (their
// owner repairs them in the day's sweep) and orphans some (nobody repairs
// them: repair is the owner's job).
const burnt: Scenario = {
  name: "burnt-owner",
  description: "the busiest /24 of twelve nodes lost for good on day 1",
  nodes: 20,
  days: 1,
  tesseras: 16,
  scale: 1 / 4096,
  seed: "g",
  churn: { permanentPerMonth: 0 },
  topology: { nodesPer24: 2 },
  workload: { mix: { small: 1, medium: 0, large: 0 }, ownerFraction: 0.5 },
  outages: [{ atDay: 1, scope: "/24", subnets: 1 }],
  promises: { zeroLost: true, healWithinHours: 72 },
};

Deno.test("full stack: an outage's orphans (owner burnt with the /24) are counted apart, the rest heal", async () => {
  const r = await runSimulation({ scenario: burnt, stack: "libp2p" });
  const m = r.summary;
  // Seed "g" burns 11.0.1 (5 nodes), which held copies of every tessera
  // and owned 6 of them (the workload is the port level's since both
  // levels share it; seed "b" drew this world before).
  assert.deepEqual(r.outages, [{
    label: "11.0.1.0/24 lost for good (5 nodes)",
    day: 1,
    tesseras: 10,
    broken: 10,
    orphaned: 6,
    healHours: 0,
  }]);
  assert.equal(m.orphaned, 6);
  // Only the orphans are still short: every owner alive repaired its own.
  assert.equal(m.healthy, 10);
  assert.equal(m.degraded, 6);
  assert.equal(m.unrecoverable, 0);
  assert.equal(r.ok, true, JSON.stringify(r.checks));
});
