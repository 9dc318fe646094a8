import assert from "node:assert/strict";
import { runSimulation } from "../../sim/run.ts";
import { simCommand } from "../../sim/cli.ts";
import type { Scenario } from "../../sim/scenario.ts";
import { SCENARIOS } from "../../sim/scenarios/mod.ts";

/** A small but busy world: churn, absences, every tier. */
const small: Scenario = {
  ...SCENARIOS.quick,
  name: "small",
  nodes: 40,
  days: 6,
  tesseras: 24,
};

function withoutWall<T extends { wallSeconds: number }>(s: T) {
  return { ...s, wallSeconds: 0 };
}

Deno.test("same seed, same summary and series; another seed differs", async () => {
  const a = await runSimulation({ scenario: small, seed: 11 });
  const b = await runSimulation({ scenario: small, seed: 11 });
  assert.deepEqual(withoutWall(a.summary), withoutWall(b.summary));
  assert.deepEqual(a.series, b.series);
  assert.deepEqual(a.deficits, b.deficits);
  const c = await runSimulation({ scenario: small, seed: 12 });
  assert.notDeepEqual(withoutWall(a.summary), withoutWall(c.summary));
  // the run did real work through the real service
  assert.equal(a.summary.tesseras, 24);
  assert.ok(a.summary.sweeps > 100, `sweeps ${a.summary.sweeps}`);
  assert.ok(a.summary.messages.attest > 500);
  assert.ok(a.summary.placementBytes > 0);
  assert.equal(a.series.length, 7);
  assert.equal(
    a.summary.healthy + a.summary.degraded + a.summary.unrecoverable,
    24,
  );
});

Deno.test("the trace scenario (latency, scripted churn) keeps its promises", async () => {
  const r = await runSimulation({ scenario: "trace" });
  assert.equal(r.ok, true, JSON.stringify(r.checks));
  assert.equal(r.summary.departures, 5);
  assert.equal(r.summary.nodesEnd, 75);
  assert.equal(r.summary.unrecoverableEver, 0);
  assert.equal(r.summary.subnetViolations, 0);
  assert.ok(r.summary.repairBytes > 0, "departures caused repairs");
  assert.deepEqual(r.checks.map((c) => c.name), [
    "subnet-safety",
    "deficit-tolerance",
    "zero-lost",
  ]);
});

Deno.test("a /24 lost for good is measured and healed by repair", async () => {
  const r = await runSimulation({
    scenario: {
      ...small,
      nodes: 60,
      days: 5,
      churn: { permanentPerMonth: 0 },
      topology: { nodesPer24: 2, slash24PerSlash16: 4 },
      outages: [{ atDay: 1, scope: "/24" }],
      promises: { zeroLost: true, healWithinHours: 72 },
    },
    seed: 5,
  });
  assert.equal(r.outages.length, 1);
  assert.match(
    r.outages[0].label,
    /^\d+\.\d+\.\d+\.0\/24 lost for good \(\d+ nodes\)$/,
  );
  assert.equal(r.outages[0].day, 1);
  const heal = r.outages[0].healHours;
  assert.ok(heal !== null && heal > 0 && heal <= 72, `heal ${heal}`);
  assert.equal(r.ok, true, JSON.stringify(r.checks));
});

/** Owners leave too and nobody repairs their tesseras: losses follow. */
const lossy: Scenario = {
  ...SCENARIOS.quick,
  name: "lossy",
  nodes: 16,
  days: 20,
  tesseras: 12,
  churn: { permanentPerMonth: 4, owners: "churn" },
  promises: { zeroLost: true },
};

Deno.test("a lost tessera fails zero-lost and the command exits 1", async () => {
  const r = await runSimulation({ scenario: lossy, seed: 3 });
  assert.ok(r.summary.unrecoverableEver > 0);
  assert.equal(r.ok, false);
  assert.deepEqual(r.checks.filter((c) => !c.ok).map((c) => c.name), [
    "zero-lost",
  ]);
  const out: string[] = [];
  const code = await simCommand(
    { scenario: lossy, seed: 3, json: true },
    { stdout: (t) => out.push(t), stderr: () => {} },
  );
  assert.equal(code, 1);
  const json = JSON.parse(out.join(""));
  assert.equal(json.ok, false);
  assert.equal(json.unrecoverableEver, r.summary.unrecoverableEver);
  for (
    const k of [
      "nodes",
      "virtualDays",
      "tesseras",
      "healthy",
      "degraded",
      "unrecoverable",
      "lostForGood",
      "subnetViolations",
      "maxDeficitBytes",
      "deficitToleranceBytes",
      "repairBytes",
      "storedBytes",
      "freeRiderRedundancy",
      "fairRedundancy",
      "tesseraYears",
      "durabilityShownNines",
      "durabilityModelNines",
      "wallSeconds",
    ]
  ) assert.ok(k in json, `--json lacks ${k}`);
});

Deno.test("simCommand: exit 0 with a report, exit 2 on bad usage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    const code = await simCommand(
      {
        scenario: "quick",
        days: "3",
        nodes: "30",
        tesseras: "10",
        scale: "1/4096",
        report: dir,
      },
      { stdout: (t) => out.push(t), stderr: () => {} },
    );
    assert.equal(code, 0, out.join(""));
    assert.match(
      out.join(""),
      /^scenario quick \(seed quick\): 30 nodes, 3 days, 10 tesseras/,
    );
    const md = await Deno.readTextFile(`${dir}/report.md`);
    assert.match(md, /^# Simulation report: quick/);
    assert.match(md, /\| subnet-safety \| pass \|/);
    for (const f of ["health.svg", "repair.svg", "deficits.svg"]) {
      assert.match(await Deno.readTextFile(`${dir}/${f}`), /^<svg /);
    }
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assert.equal(summary.nodes, 30);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const err: string[] = [];
  const io = { stdout: () => {}, stderr: (t: string) => err.push(t) };
  assert.equal(await simCommand({ scenario: "nope" }, io), 2);
  assert.equal(await simCommand({ nodes: "many" }, io), 2);
  assert.equal(await simCommand({ stack: "tcp" }, io), 2);
  assert.equal(await simCommand({ scale: "2", days: "1" }, io), 2);
  assert.match(err[0], /unknown scenario "nope": choose one of default, quick/);
  assert.match(err[1], /--nodes must be a number/);
});

Deno.test("a run times every heal after a loss of shards", async () => {
  // Owners stay: an orphan waits for its owner's silence (stewardAfterMs)
  // before its stewards repair it (measured: max 262 h with owners that
  // churn, 148 h without).
  const { summary } = await runSimulation({
    scenario: "quick",
    seed: "heal",
    owners: "stable",
  });
  const heal = summary.healAfterLoss!;
  assert.ok(summary.departures > 0, "the quick scenario has departures");
  assert.ok(heal.healed > 0, "losses were healed");
  assert.ok(heal.medianHours! > 0 && heal.medianHours! <= heal.p95Hours!);
  assert.ok(heal.p95Hours! <= heal.maxHours!);
  // Repair runs every 24 h (± 2 h) after the loss is seen: a loss heals
  // within a few sweeps, not weeks.
  assert.ok(heal.maxHours! < 24 * 7, `max ${heal.maxHours} h`);
});

Deno.test("a /24 dark for a while hits the tesseras it holds and heals by its return at the latest", async () => {
  const r = await runSimulation({
    scenario: {
      ...small,
      nodes: 60,
      days: 6,
      churn: { permanentPerMonth: 0 },
      topology: { nodesPer24: 4, slash24PerSlash16: 4 },
      outages: [{ atDay: 1, scope: "/24", durationHours: 60 }],
      unreachableGraceHours: 12,
      promises: { zeroLost: true, healWithinHours: 60 },
    },
    seed: 5,
  });
  const [o] = r.outages;
  assert.match(o.label, /dark for 60 h \(\d+ nodes\)$/);
  // Its nodes' disks keep their shards: nothing is unhealthy, but every
  // tessera with a placement there was hit (and none was before).
  assert.ok(o.tesseras > 0, JSON.stringify(o));
  assert.equal(o.orphaned, 0);
  assert.ok(o.healHours !== null && o.healHours > 0 && o.healHours <= 60);
  // Repair placed the dark shards again past the grace; when the /24
  // came back its copies were surplus, and nothing removes them.
  // The grace counts from the first sweep that found a holder silent, so
  // by the end of day 3 (still dark) every holder there is past it.
  assert.ok(r.summary.surplusBytes > 0, `${r.summary.surplusBytes}`);
  const day3 = r.series.find((p) => p.day === 3)!;
  assert.ok(day3.surplusBytes > 0);
  assert.equal(r.ok, true, JSON.stringify(r.checks));
});

Deno.test("with owners leaving, lost for good only grows and stays within unrecoverable", async () => {
  const days: { unrecoverable: number; lostForGood: number }[] = [];
  const r = await runSimulation({
    scenario: lossy,
    seed: 3,
    onProgress: (p) => days.push(p),
  });
  assert.equal(days.length, lossy.days);
  for (let d = 1; d < days.length; d++) {
    assert.ok(days[d].lostForGood >= days[d - 1].lostForGood);
    assert.ok(days[d].lostForGood <= days[d].unrecoverable);
  }
  assert.ok(r.summary.lostForGood > 0);
  assert.equal(r.summary.lostForGood, days.at(-1)!.lostForGood);
  assert.ok(r.summary.unrecoverableEver >= r.summary.lostForGood);
});
