import assert from "node:assert/strict";
import { runSimulation } from "../../sim/run.ts";

// Issue 14 at the full-stack level: the three owners of every tessera
// leave for good on day 1 (`owners-killed`), holders keep leaving, and only
// the holders' stewards, over real libp2p and kad-dht provider records,
// can put back what the departures take.
Deno.test("full stack: stewards repair orphans once their owners are killed", async () => {
  const r = await runSimulation({ scenario: "owners-killed", stack: "libp2p" });
  const m = r.summary;
  assert.equal(m.stack, "libp2p");
  assert.equal(m.nodes, 20);
  assert.equal(m.placementFailures, 0);
  assert.equal(m.orphaned, m.tesseras, "every tessera lost its owner");
  assert.ok(m.departures > 3, `owners and holders left: ${m.departures}`);
  assert.ok(
    m.repairsByStewards > 0,
    `stewards repaired: ${m.repairsByStewards} (messages ${
      JSON.stringify(m.messages)
    })`,
  );
  assert.equal(m.repairsByOwners, 0, "no owner was left to repair");
  assert.ok(m.stewardRepairBytes > 0);
  assert.equal(m.stewardRepairBytes, m.repairBytes, "all repair by stewards");
  assert.equal(m.unrecoverableEver, 0);
  assert.equal(m.lostForGood, 0);
  assert.equal(r.ok, true, JSON.stringify(r.checks));
});
