import assert from "node:assert/strict";
import {
  parseSimArgs,
  toSimulationOptions,
  UsageError,
} from "../../sim/cli.ts";
import {
  resolveScenario,
  scaledConfig,
  scaledThresholds,
} from "../../sim/run.ts";

Deno.test("parseSimArgs and toSimulationOptions read every flag", () => {
  const o = parseSimArgs([
    "--nodes",
    "100",
    "--days=30",
    "--tesseras",
    "5",
    "--churn",
    "10%",
    "--scenario",
    "quick",
    "--seed",
    "x",
    "--scale",
    "1/1024",
    "--stack",
    "port",
    "--lookup",
    "exact",
    "--owners",
    "stable",
    "--json",
    "--report",
    "out",
  ]);
  assert.deepEqual(o, {
    nodes: "100",
    days: "30",
    tesseras: "5",
    churn: "10%",
    scenario: "quick",
    seed: "x",
    scale: "1/1024",
    stack: "port",
    lookup: "exact",
    owners: "stable",
    json: true,
    report: "out",
  });
  assert.deepEqual(toSimulationOptions(o), {
    scenario: "quick",
    nodes: 100,
    days: 30,
    tesseras: 5,
    churn: 0.1,
    seed: "x",
    scale: 1 / 1024,
    stack: "port",
    lookup: "exact",
    owners: "stable",
  });
  assert.throws(
    () => toSimulationOptions({ owners: "immortal" }),
    UsageError,
  );
  assert.throws(() => parseSimArgs(["--bogus"]), UsageError);
  assert.throws(() => parseSimArgs(["--nodes"]), UsageError);
  assert.throws(() => parseSimArgs(["stray"]), UsageError);
});

Deno.test("resolveScenario applies overrides and rejects nonsense", () => {
  const s = resolveScenario({
    scenario: "default",
    nodes: 50,
    churn: 0.2,
    seed: 9,
  });
  assert.equal(s.nodes, 50);
  assert.equal(s.seed, "9");
  assert.equal(s.churn.permanentPerMonth, 0.2);
  assert.deepEqual(s.churn.transient, { meanUpHours: 168, meanDownHours: 8 });
  assert.throws(() => resolveScenario({ nodes: 1 }), /invalid nodes/);
  assert.throws(() => resolveScenario({ scale: 0 }), /invalid scale/);
  assert.throws(
    () => resolveScenario({ scenario: "x" }),
    /unknown scenario "x"/,
  );
});

Deno.test("scaling shrinks thresholds and byte limits together", () => {
  assert.deepEqual(scaledThresholds(1), {
    mediumFrom: 4194304,
    largeFrom: 268435456,
  });
  assert.deepEqual(scaledThresholds(1 / 1024), {
    mediumFrom: 4096,
    largeFrom: 262144,
  });
  const c = scaledConfig({}, 1 / 1024);
  assert.equal(c.deficitToleranceBytes, 262144);
  assert.equal(c.perPeerStorageLimitBytes, 976563);
  assert.equal(c.minFreeSpaceBytes, 976563);
  assert.equal(c.repairIntervalMs, 86_400_000);
  assert.equal(c.maxPerSubnet, 2);
});
