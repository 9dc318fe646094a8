/**
 * The sweeps' audit schedule (lib/replication/audit_schedule.ts) on the
 * real service over the simulator's network: new holders are challenged
 * at every sweep, holders with a long proven record about once per
 * `auditMaxGapIntervals` sweeps; a holder that drops its shards after
 * earning that record is still caught within twice that; one-off
 * checks (`inspectTessera`) challenge everyone; `auditMaxGapIntervals: 1`
 * is the old schedule.
 */
import assert from "node:assert/strict";
import { AUDIT_MAX_GAP_INTERVALS } from "../../lib/replication/audit_schedule.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

const DAY = 86_400_000;

async function placed(config = {}) {
  const net = new MiniNetwork({
    repairIntervalMs: DAY,
    repairJitterMs: 0,
    ...config,
  });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, 3));
  const holders = [...new Set(report.placed.map((p) => p.peerId))];
  return { net, owner, id: report.tesseraId, holders };
}

/** One sweep a day later; how many holders it challenged. */
async function sweep(
  net: MiniNetwork,
  owner: ReturnType<MiniNetwork["add"]>,
): Promise<{ challenged: number; lost: number }> {
  await net.clock.advance(DAY);
  const before = net.traffic.attest;
  const report = await owner.service.repairSweep();
  const t = report.tesseras[0];
  return {
    challenged: net.traffic.attest - before,
    lost: t ? t.lostIndices.length : 0,
  };
}

Deno.test("audit schedule: new holders every sweep, a long proven record about once per auditMaxGapIntervals sweeps", async () => {
  const { net, owner, id, holders } = await placed();
  const perSweep: number[] = [];
  for (let day = 0; day < 60; day++) {
    perSweep.push((await sweep(net, owner)).challenged);
  }
  // The first sweeps challenge every holder (no record yet).
  assert.deepEqual(perSweep.slice(0, 2), [holders.length, holders.length]);
  // Later, a quarter on average (the record caps the gap at 4 sweeps).
  const late = perSweep.slice(30);
  const mean = late.reduce((a, b) => a + b, 0) / late.length;
  const expected = holders.length / AUDIT_MAX_GAP_INTERVALS;
  assert.ok(
    mean > expected * 0.6 && mean < expected * 1.6,
    `mean ${mean} per sweep, expected about ${expected}`,
  );
  // A one-off check still challenges every holder.
  const before = net.traffic.attest;
  const report = await owner.service.inspectTessera(id);
  assert.equal(net.traffic.attest - before, holders.length);
  assert.equal(report.holders.filter((h) => h.status === "trusted").length, 0);
});

Deno.test("audit schedule: a holder that drops its shards after a long proven record is caught within 2 × auditMaxGapIntervals sweeps", async () => {
  const worst: number[] = [];
  for (let trial = 0; trial < 4; trial++) {
    const { net, owner, id, holders } = await placed();
    for (let day = 0; day < 20 + trial * 3; day++) await sweep(net, owner);
    const liar = net.node(holders[trial]);
    await liar.fragments.delete(id);
    let sweeps = 0;
    for (;;) {
      sweeps++;
      const { lost } = await sweep(net, owner);
      if (lost > 0) break;
      assert.ok(
        sweeps <= 2 * AUDIT_MAX_GAP_INTERVALS,
        `not caught in ${sweeps}`,
      );
    }
    worst.push(sweeps);
  }
  assert.ok(Math.max(...worst) <= 2 * AUDIT_MAX_GAP_INTERVALS, `${worst}`);
});

Deno.test("audit schedule: auditMaxGapIntervals 1 challenges every holder at every sweep", async () => {
  const { net, owner, holders } = await placed({ auditMaxGapIntervals: 1 });
  for (let day = 0; day < 20; day++) {
    assert.equal((await sweep(net, owner)).challenged, holders.length);
  }
});

Deno.test("audit schedule: a holder that leaves is found at the next sweep by its ping, though not due for a proof; one ping per peer per sweep", async () => {
  const { net, owner, id, holders } = await placed();
  for (let day = 0; day < 30; day++) await sweep(net, owner);
  // A second tessera on the same peers: their pings are shared.
  const second = await owner.service.putTessera(testBytes(4000, 4));
  for (let day = 0; day < 30; day++) await sweep(net, owner);
  const peers = new Set([
    ...holders,
    ...second.placed.map((p) => p.peerId),
  ]);
  await net.clock.advance(DAY);
  const pings = net.traffic.ping, attests = net.traffic.attest;
  await owner.service.repairSweep();
  const challenged = net.traffic.attest - attests;
  // Every peer not challenged in this sweep answered one ping at most.
  assert.ok(
    net.traffic.ping - pings <= peers.size,
    `${net.traffic.ping - pings} pings for ${peers.size} peers`,
  );
  assert.ok(challenged < peers.size, `${challenged} challenged`);
  // One holder leaves; the next sweep drops it, audit due or not.
  const gone = holders[0];
  net.node(gone).online = false;
  await net.clock.advance(DAY);
  const found = await owner.service.repairSweep();
  const t = found.tesseras.find((r) => r.tesseraId === id);
  assert.ok(t, "the sweep repaired the tessera");
  assert.ok(t.removed.some((r) => r.peerId === gone));
  assert.equal(t.after.kind, "healthy");
});
