import assert from "node:assert/strict";
import { resolveScenario, runSimulation } from "../../sim/run.ts";

Deno.test("owners churn by default wherever nodes churn; --owners stable keeps them", () => {
  assert.equal(resolveScenario({ scenario: "quick" }).churn.owners, "churn");
  assert.equal(
    resolveScenario({ scenario: "quick", owners: "stable" }).churn.owners,
    "stable",
  );
  assert.equal(
    resolveScenario({ scenario: "quick", churn: 0 }).churn.owners,
    "stable",
  );
  const s = resolveScenario({ scenario: "owners-leave" });
  assert.deepEqual(
    [s.nodes, s.tesseras, s.days, s.churn.permanentPerMonth, s.churn.owners],
    [300, 600, 1825, 0.1, "churn"],
  );
  assert.equal(s.promises.zeroLost, true);
});

Deno.test("owners-leave, short: orphans are kept by their holders' stewards, none lost", async () => {
  const r = await runSimulation({
    scenario: "owners-leave",
    nodes: 120,
    tesseras: 60,
    days: 60,
  });
  const m = r.summary;
  assert.equal(m.owners, "churn");
  assert.ok(m.orphaned > 0, `${m.orphaned} orphaned`);
  assert.ok(m.orphanYears > 0);
  assert.ok(m.repairsByStewards > 0, `${m.repairsByStewards} steward repairs`);
  assert.ok(m.stewardBytes > 0);
  assert.equal(m.lostForGood, 0);
  assert.equal(m.unrecoverableEver, 0);
  assert.ok(m.stewardExtraCopies >= 0);
  assert.equal(r.ok, true, JSON.stringify(r.checks));
});
