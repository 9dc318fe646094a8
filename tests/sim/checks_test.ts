import assert from "node:assert/strict";
import {
  MemoryHolderRegistry,
  MemoryReciprocityLedger,
} from "../../lib/memory/mod.ts";
import { planTessera } from "../../lib/codec/mod.ts";
import { ledgerDeficits, placementAudit } from "../../sim/audit.ts";
import {
  durabilityShown,
  evaluateChecks,
  healStats,
  modelDurability,
  poissonUpper95,
  type SimSummary,
} from "../../sim/summary.ts";

const T = "12".repeat(32);
const U = "34".repeat(32);

const ok: SimSummary = {
  scenario: "t",
  seed: "s",
  stack: "port",
  scale: 1,
  nodes: 10,
  nodesEnd: 10,
  virtualDays: 365,
  tesseras: 100,
  healthy: 100,
  degraded: 0,
  unrecoverable: 0,
  lostForGood: 0,
  unrecoverableEver: 0,
  orphaned: 0,
  owners: "stable",
  repairsByOwners: 0,
  repairsByStewards: 0,
  stewardBytes: 0,
  stewardExtraCopies: 0,
  ownerRepeats: 0,
  stewardKeptBytes: 0,
  stewardKeptBytesMax: 0,
  orphanYears: 0,
  orphanDurabilityShownNines: 0,
  freeRiderUnrecoverableEver: 0,
  unavailable: 0,
  subnetViolations: 0,
  peerLossViolations: 0,
  maxDeficitBytes: 100,
  maxFreeRiderDeficitBytes: 900,
  deficitToleranceBytes: 100,
  repairBytes: 0,
  repairFetchBytes: 0,
  stewardRepairBytes: 0,
  probeBytes: 0,
  placementBytes: 0,
  refusedBytes: 0,
  storedBytes: 0,
  surplusBytes: 0,
  repairRatio: 0,
  repairRatioPerYear: 0,
  freeRiderRedundancy: 0.5,
  fairRedundancy: 0.9,
  freeRiderRedundancyMean: 0.6,
  fairRedundancyMean: 0.95,
  tesseraYears: 100,
  durabilityShownNines: 1.523,
  durabilityModelNines: 12,
  healHours: [24],
  healAfterLoss: {
    healed: 3,
    open: 0,
    medianHours: 20,
    p95Hours: 30,
    maxHours: 30,
  },
  departures: 0,
  arrivals: 0,
  absences: 0,
  sweeps: 0,
  placementFailures: 0,
  messages: {},
  lookupRecall: 1,
  events: 0,
  wallSeconds: 0,
};
const all = {
  peerLosses: 2,
  zeroLost: true,
  zeroLostFair: true,
  freeRidersLoseFirst: true,
  healWithinHours: 48,
};

function failing(summary: SimSummary): string[] {
  return evaluateChecks(summary, all).filter((c) => !c.ok).map((c) => c.name);
}

Deno.test("every check passes on a clean summary", () => {
  const checks = evaluateChecks(ok, all);
  assert.deepEqual(checks.map((c) => c.name), [
    "subnet-safety",
    "deficit-tolerance",
    "zero-lost",
    "zero-lost-fair",
    "free-riders-lose-first",
    "peer-losses",
    "heal-time",
  ]);
  assert.deepEqual(failing(ok), []);
  assert.deepEqual(evaluateChecks(ok, {}).map((c) => c.name), [
    "subnet-safety",
    "deficit-tolerance",
  ]);
});

Deno.test("each check fires on its violation", () => {
  assert.deepEqual(failing({ ...ok, subnetViolations: 1 }), ["subnet-safety"]);
  assert.deepEqual(failing({ ...ok, peerLossViolations: 1 }), ["peer-losses"]);
  assert.deepEqual(failing({ ...ok, maxDeficitBytes: 101 }), [
    "deficit-tolerance",
  ]);
  assert.deepEqual(failing({ ...ok, unrecoverableEver: 1 }), [
    "zero-lost",
    "zero-lost-fair",
  ]);
  assert.deepEqual(
    failing({ ...ok, unrecoverableEver: 1, freeRiderUnrecoverableEver: 1 }),
    [
      "zero-lost",
    ],
  );
  assert.deepEqual(
    failing({
      ...ok,
      unrecoverable: 1,
      unrecoverableEver: 1,
      freeRiderUnrecoverableEver: 1,
    }),
    ["zero-lost"],
  );
  // Judged over the run: a tie at the end alone does not fail it, a tie
  // over the run does.
  assert.deepEqual(failing({ ...ok, freeRiderRedundancy: 0.9 }), []);
  assert.deepEqual(failing({ ...ok, freeRiderRedundancyMean: 0.95 }), [
    "free-riders-lose-first",
  ]);
  assert.deepEqual(failing({ ...ok, freeRiderRedundancyMean: null }), [
    "free-riders-lose-first",
  ]);
  assert.deepEqual(failing({ ...ok, healHours: [24, null] }), ["heal-time"]);
  assert.deepEqual(failing({ ...ok, healHours: [49] }), ["heal-time"]);
});

Deno.test("the placement audit: one /24 that can take a tessera, while others had room; too few peer losses", async () => {
  const registry = new MemoryHolderRegistry({ now: () => 0 });
  const plan = planTessera(5 << 20); // 16 + 8: a /24 may hold 8 shards
  const checksums = Array.from({ length: 24 }, () => "00".repeat(32));
  for (const id of [T, U]) await registry.track(id, { plan, checksums });
  const ips = new Map([
    ["a", "10.1.1.1"],
    ["b", "10.1.1.2"],
    ["c", "10.1.2.1"],
    ["d", "10.1.3.1"],
  ]);
  const ipOf = (p: string) => ips.get(p);
  for (let i = 0; i < 24; i++) {
    // T: 12 shards in 10.1.1 (a and b), more than it can lose, and six
    // on each of four peers (it survives one peer loss); U: 8 in each of
    // three /24s on three peers (one peer loss too).
    await registry.addHolder(T, { index: i, peerId: "abcd"[i % 4] });
    await registry.addHolder(U, { index: i, peerId: "acd"[i % 3] });
  }
  assert.deepEqual(
    await placementAudit(registry, { ipOf, roomFor: () => 3, peerLosses: 2 }),
    { subnetUnsafe: [T], peerUnsafe: [T, U] },
  );
  // With too few subnets in the network, crowding one is no fault.
  assert.deepEqual(
    await placementAudit(registry, { ipOf, roomFor: () => 2, peerLosses: 1 }),
    { subnetUnsafe: [], peerUnsafe: [] },
  );
  // A tessera short of shards is mid-repair, not judged; the record's own
  // IP counts when the network does not know the peer.
  const V = "56".repeat(32);
  await registry.track(V, { plan, checksums });
  for (let i = 0; i < 23; i++) {
    await registry.addHolder(V, { index: i, peerId: "a" });
  }
  await registry.addHolder(U, { index: 0, peerId: "e", ip: "10.1.1.9" });
  assert.deepEqual(
    await placementAudit(registry, { ipOf, roomFor: () => 3, peerLosses: 2 }),
    { subnetUnsafe: [T], peerUnsafe: [T, U] },
  );
});

Deno.test("the deficit audit splits fair peers, free riders and departed peers", async () => {
  const ledger = new MemoryReciprocityLedger({ now: () => 0 });
  await ledger.recordStoredForThem("fair1", 500);
  await ledger.recordTheyStoreForUs("fair1", 200);
  await ledger.recordStoredForThem("fr", 900);
  await ledger.recordStoredForThem("gone", 5000);
  await ledger.recordStoredForThem("lib", 7000);
  await ledger.setInstitutional("lib", true);
  await ledger.recordTheyStoreForUs("creditor", 50);
  const kinds: Record<string, "fair" | "freeRider" | "gone"> = {
    fair1: "fair",
    fr: "freeRider",
    gone: "gone",
    lib: "fair",
    creditor: "fair",
  };
  const audit = await ledgerDeficits(ledger, (p) => kinds[p]);
  assert.deepEqual(audit, {
    fairMax: 300,
    freeRiderMax: 900,
    deficits: [300, 900],
  });
});

Deno.test("durability shown: the 95% Poisson bound over the run's tessera-years, 0 for a run too short", () => {
  // P[Poisson(m) <= k] = 0.05: -ln 0.05 for none, the tabulated 4.744
  // and 6.296 for one and two.
  assert.equal(poissonUpper95(0), 2.996);
  assert.equal(poissonUpper95(1), 4.744);
  assert.equal(poissonUpper95(2), 6.296);
  assert.deepEqual(durabilityShown(0, { tesseras: 2000, days: 365 }), {
    tesseraYears: 2000,
    nines: 2.824,
  });
  // Two losses show less than none over the same exposure, more than a
  // point estimate would claim to know.
  assert.deepEqual(durabilityShown(2, { tesseras: 2000, days: 365 }), {
    tesseraYears: 2000,
    nines: 2.502,
  });
  // `quick`: 40 tesseras for 30 days show almost nothing; a 2-day run
  // of 8 shows none at all, however well it went.
  assert.deepEqual(durabilityShown(0, { tesseras: 40, days: 30 }), {
    tesseraYears: 3.288,
    nines: 0.04,
  });
  assert.deepEqual(durabilityShown(0, { tesseras: 8, days: 2 }), {
    tesseraYears: 0.044,
    nines: 0,
  });
  assert.deepEqual(durabilityShown(0, { tesseras: 0, days: 365 }), {
    tesseraYears: 0,
    nines: 0,
  });
});

Deno.test("model durability: more parity or faster repair means more nines", () => {
  const base = { dailyDeparture: 0.0035, windowDays: 2 };
  const small = modelDurability({ ...base, shapes: [[7, 1, 1]] });
  const medium = modelDurability({ ...base, shapes: [[24, 16, 1]] });
  const slow = modelDurability({
    ...base,
    windowDays: 30,
    shapes: [[24, 16, 1]],
  });
  // 7 copies: all 7 must leave in one window: q ≈ 0.007, q^7 ≈ 8e-16 per window
  assert.ok(small > 12 && small < 14, `small ${small}`);
  assert.ok(medium > 11 && medium < 16, `medium ${medium}`);
  assert.ok(slow < medium - 5, `slow ${slow} vs ${medium}`);
  assert.equal(modelDurability({ ...base, shapes: [] }), 30);
  assert.equal(
    modelDurability({ ...base, dailyDeparture: 0, shapes: [[7, 1, 1]] }),
    30,
  );
  assert.equal(
    modelDurability({ ...base, dailyDeparture: 0.9, shapes: [[1, 1, 1]] }),
    0,
  );
});

Deno.test("healStats: median, 95th percentile and longest of the heal times", () => {
  assert.deepEqual(healStats([], 2), {
    healed: 0,
    open: 2,
    medianHours: null,
    p95Hours: null,
    maxHours: null,
  });
  const hours = Array.from({ length: 20 }, (_, i) => 20 - i); // 20 .. 1
  assert.deepEqual(healStats(hours, 0), {
    healed: 20,
    open: 0,
    medianHours: 10,
    p95Hours: 19,
    maxHours: 20,
  });
  assert.deepEqual(healStats([0.12345], 1).medianHours, 0.123);
});
