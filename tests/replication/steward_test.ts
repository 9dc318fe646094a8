import assert from "node:assert/strict";
import type { SweepReport } from "../../lib/replication/mod.ts";
import { stewardOrder } from "../../lib/replication/steward_rank.ts";
import {
  envelopeFor,
  MiniNetwork,
  shardEnvelope,
  testBytes,
  type TestNode,
} from "./test_network.ts";

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const CONFIG = {
  repairIntervalMs: HOUR,
  stewardAfterMs: DAY,
  stewardGraceMs: 0,
  // Rebuild at the first loss (the lazy default has its own test).
  stewardRebuildAtPercent: 0,
};

/**
 * An owner's Medium tessera on 30 nodes, every holder announced; `config`
 * overrides {@linkcode CONFIG}.
 */
async function orphanable(seed: number, config: Partial<typeof CONFIG> = {}) {
  const net = new MiniNetwork({ ...CONFIG, ...config }, { stewards: true });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(5000, seed));
  assert.equal(report.plan.tier, "medium");
  for (const node of net.nodes.values()) await node.service.repairSweep();
  const holders = [...new Set(report.placed.map((p) => p.peerId))].sort();
  return { net, owner, report, holders };
}

/** Every node that is up sweeps once; their reports by id. */
async function sweepAll(net: MiniNetwork): Promise<Map<string, SweepReport>> {
  const out = new Map<string, SweepReport>();
  for (const node of net.nodes.values()) {
    if (node.online) out.set(node.id, await node.service.repairSweep());
  }
  return out;
}

/** Indices of the tessera held by nodes that are up. */
async function liveIndices(net: MiniNetwork, id: string): Promise<Set<number>> {
  const out = new Set<number>();
  for (const node of net.nodes.values()) {
    if (!node.online) continue;
    for (const f of await node.fragments.list(id)) out.add(f.index);
  }
  return out;
}

/** A holder gone for good: shards lost, offline. */
async function lose(node: TestNode, id: string): Promise<void> {
  for (const f of await node.fragments.list(id)) {
    await node.fragments.delete(id, f.index);
  }
  node.online = false;
}

Deno.test("steward order: the same for everyone, closest to the tessera id by XOR first", () => {
  const id = "3c".repeat(32);
  const peers = ["p00", "p01", "p02", "p03", "p04"];
  const order = stewardOrder(id, peers);
  assert.deepEqual(stewardOrder(id, [...peers].reverse()), order);
  assert.deepEqual([...order].sort(), peers);
  // Another tessera orders the same peers differently (not by name).
  const other = stewardOrder("c3".repeat(32), peers);
  assert.notDeepEqual(other, order);
});

Deno.test("stewards wait for the owner's silence, then one steward rebuilds every lost shard without the owner", async () => {
  const { net, owner, report, holders } = await orphanable(21);
  const id = report.tesseraId;
  owner.online = false;
  // Two holders are gone for good, taking their shards with them.
  for (const h of holders.slice(0, 2)) await lose(net.node(h), id);
  const lostBefore = report.plan.shardCount -
    (await liveIndices(net, id)).size;
  assert.ok(lostBefore > 0);
  // Within the owner's silence setting nobody acts.
  await net.clock.advance(DAY / 2);
  for (const r of (await sweepAll(net)).values()) {
    assert.equal(r.stewards?.stewarded, 0);
  }
  // Past it, sweeping hourly as daemons do, the first live holder in the
  // order rebuilds and places what was lost; it audits the others, so
  // none of them steps in.
  await net.clock.advance(DAY / 2);
  const stewards = new Map<string, SweepReport>();
  let seen = false;
  for (let i = 0; i < 6; i++) {
    await net.clock.advance(HOUR);
    for (const [p, r] of await sweepAll(net)) {
      seen ||= r.stewards!.orphans > 0;
      if (r.stewards!.stewarded > 0 && !stewards.has(p)) stewards.set(p, r);
    }
  }
  assert.equal(stewards.size, 1, "one steward, no more");
  const [stewardId, r] = [...stewards][0];
  assert.ok(seen, "holders saw the orphan");
  const alive = holders.filter((h) => net.node(h).online);
  assert.ok(stewardOrder(id, holders).slice(0, 3).includes(stewardId));
  assert.ok(alive.includes(stewardId));
  const repair = r.stewards!.repairs[0];
  assert.equal(repair.source, "network");
  assert.equal(repair.after.kind, "healthy");
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
  assert.ok(r.stewards!.bytesOnBehalf > 0);
  // Placements are on the owner's account at the new holders, not the steward's.
  for (const p of repair.placed) {
    const row = await net.node(p.peerId).ledger.get("owner");
    assert.ok(
      (row?.bytesStoredForThem ?? 0) > 0,
      `${p.peerId} charges the owner`,
    );
  }
  assert.equal(
    (await net.node(stewardId).ledger.get(repair.placed[0].peerId))
      ?.bytesTheyStoreForUs ?? 0,
    0,
  );
  // Every new holder keeps the owner's signed manifest.
  const signed = await owner.manifests.get(id);
  for (const p of repair.placed) {
    assert.deepEqual(await net.node(p.peerId).manifests.get(id), signed);
  }
  // The next sweep: still stewarded (owner silent), nothing more placed.
  await net.clock.advance(HOUR);
  const again = [...(await sweepAll(net)).values()].flatMap((x) =>
    x.stewards!.repairs
  );
  assert.equal(again.length, 1);
  assert.equal(again[0].placed.length, 0);
});

Deno.test("with nobody at work, a holder waits an interval as candidate and one more per closer holder that is up; one that is gone delays nobody", async () => {
  const { net, owner, report, holders } = await orphanable(22);
  const id = report.tesseraId;
  owner.online = false;
  const order = stewardOrder(id, holders);
  // The primary goes down for good before anyone noticed the owner's
  // silence; its record still stands.
  await lose(net.node(order[0]), id);
  const second = net.node(order[1]), third = net.node(order[2]);
  const stewarded = async (n: TestNode) =>
    (await n.service.repairSweep()).stewards!.stewarded;
  await net.clock.advance(DAY + HOUR / 2);
  // Past the owner's silence both become candidates.
  assert.equal(await stewarded(second), 0);
  assert.equal(await stewarded(third), 0);
  await net.clock.advance(HOUR);
  // One interval on: the second has nobody up before it and acts; the
  // third has the second up before it, and waits one interval more.
  assert.equal(await stewarded(third), 0);
  assert.equal(await stewarded(second), 1);
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
  // The second audited the third: it leaves it the job from now on.
  for (let i = 0; i < 3; i++) {
    await net.clock.advance(HOUR);
    assert.equal(await stewarded(third), 0);
    assert.equal(await stewarded(second), 1);
  }
});

Deno.test("a steward at work keeps the job: a closer holder back from an absence leaves it to the steward that audits it", async () => {
  const { net, owner, report, holders } = await orphanable(29);
  const id = report.tesseraId;
  owner.online = false;
  const order = stewardOrder(id, holders);
  const primary = net.node(order[0]);
  // The primary is away when the owner falls silent: the next one takes over.
  primary.online = false;
  await lose(net.node(order[5]), id);
  await net.clock.advance(DAY + HOUR / 2);
  const acted = new Set<string>();
  for (let i = 0; i < 3; i++) {
    for (const [p, r] of await sweepAll(net)) {
      if (r.stewards!.stewarded > 0) acted.add(p);
    }
    await net.clock.advance(HOUR);
  }
  assert.deepEqual([...acted], [order[1]]);
  // Back, the primary was not audited while away, but it waits as a
  // candidate and the steward at work audits it in that time.
  primary.online = true;
  acted.clear();
  for (let i = 0; i < 4; i++) {
    for (const [p, r] of await sweepAll(net)) {
      if (r.stewards!.stewarded > 0) acted.add(p);
    }
    await net.clock.advance(HOUR);
  }
  assert.deepEqual([...acted], [order[1]]);
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
});

Deno.test("the owner takes its tessera back: once it audits again, stewards stop", async () => {
  const { net, owner, report, holders } = await orphanable(23);
  const id = report.tesseraId;
  owner.online = false;
  await lose(net.node(holders[0]), id);
  await net.clock.advance(DAY + HOUR);
  // Candidates for an interval, then the first live one acts.
  await sweepAll(net);
  await net.clock.advance(HOUR);
  let reports = await sweepAll(net);
  assert.equal(
    [...reports.values()].filter((r) => r.stewards!.stewarded > 0).length,
    1,
  );
  owner.online = true;
  await owner.service.repairSweep();
  await net.clock.advance(HOUR);
  reports = await sweepAll(net);
  for (const [p, r] of reports) {
    if (p === "owner") continue;
    assert.equal(r.stewards!.stewarded, 0, `${p} stopped`);
  }
});

/** The owner away past its silence; one steward rebuilds holder 0's loss. */
async function stewardedWhileAway(seed: number) {
  const o = await orphanable(seed);
  const id = o.report.tesseraId;
  o.owner.online = false;
  await lose(o.net.node(o.holders[0]), id);
  await o.net.clock.advance(DAY + HOUR);
  await sweepAll(o.net);
  await o.net.clock.advance(HOUR);
  const placed = [...(await sweepAll(o.net)).values()].flatMap((r) =>
    r.stewards!.repairs.flatMap((x) => x.placed)
  );
  assert.ok(placed.length > 0, "a steward placed the lost shards");
  return { ...o, placed };
}

Deno.test("the owner back adopts the holders its stewards placed, proven first: it places nothing again", async () => {
  const { net, owner, report, placed } = await stewardedWhileAway(23);
  const id = report.tesseraId;
  owner.online = true;
  const sweep = await owner.service.repairSweep();
  const mine = sweep.tesseras.filter((r) => r.tesseraId === id);
  assert.deepEqual(mine.flatMap((r) => r.placed), [], "nothing placed again");
  assert.equal(mine[0].after.kind, "healthy");
  // Its registry names the steward's holders now, each proven.
  const records = await owner.holders.holders(id);
  for (const p of placed) {
    assert.ok(
      records.some((r) => r.index === p.index && r.peerId === p.peerId),
      `${p.peerId} holds shard ${p.index} in the owner's registry`,
    );
  }
  assert.equal(
    new Set(records.map((r) => r.index)).size,
    report.plan.shardCount,
  );
  // And they store it for the owner in its ledger, as they charge it.
  const row = await owner.ledger.get(placed[0].peerId);
  assert.ok((row?.bytesTheyStoreForUs ?? 0) >= report.plan.shardSize);
  // The next sweep audits them like any holder: still nothing to place.
  await net.clock.advance(HOUR);
  const again = await owner.service.repairSweep();
  assert.deepEqual(
    again.tesseras.filter((r) => r.tesseraId === id).flatMap((r) => r.placed),
    [],
  );
});

Deno.test("the owner back does not adopt a holder record its peer cannot back: it is a liar, the shard is placed", async () => {
  const { net, owner, report, placed } = await stewardedWhileAway(26);
  const id = report.tesseraId;
  const liar = net.add("liar", "10.77.9.1");
  await liar.dht.announceHolder!(id);
  // A holder the steward placed loses its shards too, while the owner is away.
  const gone = placed[0].peerId;
  await lose(net.node(gone), id);
  owner.online = true;
  const sweep = await owner.service.repairSweep();
  const mine = sweep.tesseras.filter((r) => r.tesseraId === id);
  const again = mine.flatMap((r) => r.placed);
  // Exactly what nobody holds is placed again: the shards `gone` lost.
  assert.deepEqual(
    [...new Set(again.map((p) => p.index))].sort((a, b) => a - b),
    placed.filter((p) => p.peerId === gone).map((p) => p.index).sort((a, b) =>
      a - b
    ),
  );
  // The liar is recorded for no shard but what the owner just placed on it.
  const onLiar = new Set(
    again.filter((p) => p.peerId === "liar").map((p) => p.index),
  );
  for (const r of await owner.holders.holders(id)) {
    if (r.peerId === "liar") assert.ok(onLiar.has(r.index), "not adopted");
  }
  // It is counted a liar: the owner extends it no credit.
  const ack = await liar.dht.replicate(
    owner.id,
    envelopeFor(testBytes(64, 70)),
  );
  assert.equal(ack.accepted, false);
  assert.match(ack.reason ?? "", /failed to prove/);
});

Deno.test("a holder record that its peer cannot back is refuted and costs the peer its standing", async () => {
  const { net, owner, report, holders } = await orphanable(24);
  const id = report.tesseraId;
  owner.online = false;
  await lose(net.node(holders[0]), id);
  // Liars announce holding the tessera; they hold nothing.
  const liars = ["liar0", "liar1", "liar2"].map((n, i) =>
    net.add(n, `10.77.${i}.1`)
  );
  for (const l of liars) await l.dht.announceHolder!(id);
  await net.clock.advance(DAY + HOUR);
  // Liars closer than a holder delay it an interval each: enough sweeps
  // for the first real holder's turn.
  const refuters = new Set<string>();
  let refuted = 0;
  for (let i = 0; i < 5; i++) {
    for (const [p, r] of await sweepAll(net)) {
      refuted += r.stewards?.refuted ?? 0;
      if ((r.stewards?.refuted ?? 0) > 0) refuters.add(p);
    }
    await net.clock.advance(HOUR);
  }
  assert.equal(refuted, liars.length, "each false record refuted once");
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
  // The refuter extends a liar no credit: its pushes are refused.
  for (const p of refuters) {
    const ack = await liars[0].dht.replicate(p, envelopeFor(testBytes(64, 5)));
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.match(ack.reason ?? "", /failed to prove/);
  }
});

Deno.test("concurrent stewards: after a long silence every holder's turn has come, yet backups defer to a closer holder that is up", async () => {
  const { net, owner, report, holders } = await orphanable(25);
  const id = report.tesseraId;
  owner.online = false;
  for (const h of holders.slice(0, 2)) await lose(net.node(h), id);
  const lost = report.plan.shardCount - (await liveIndices(net, id)).size;
  // One jump past every wait: nobody has audited anybody; every holder
  // became a candidate at the same sweep.
  await net.clock.advance(DAY + 8 * HOUR);
  await sweepAll(net);
  await net.clock.advance(8 * HOUR);
  const reports = await sweepAll(net);
  const acted = [...reports.values()].filter((r) => r.stewards!.stewarded > 0);
  const placed = acted.flatMap((r) => r.stewards!.repairs)
    .reduce((n, r) => n + r.placed.length, 0);
  assert.equal(acted.length, 1);
  assert.equal(placed, lost, "no extra copy");
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
});

Deno.test("a steward pushing a shard that does not match the owner's manifest is refused and loses its standing", async () => {
  const { net, report, holders } = await orphanable(26);
  const id = report.tesseraId;
  const holder = net.node(holders[0]);
  const signed = await holder.manifests.get(id);
  const held = (await holder.fragments.list(id)).map((f) => f.index);
  const index = [...Array(report.plan.shardCount).keys()].find((i) =>
    !held.includes(i)
  )!;
  const data = testBytes(report.plan.shardSize, 77);
  const rogue = net.node("p29");
  const ack = await rogue.dht.replicate(holder.id, {
    ...shardEnvelope(report, { index, data }),
    manifest: signed!,
  });
  assert.equal(ack.accepted, false);
  assert.equal(ack.errorCode, "CHECKSUM_MISMATCH");
  assert.equal((await holder.fragments.list(id)).length, held.length);
  // Counted against it: a valid push of its own is refused now.
  const next = await rogue.dht.replicate(
    holder.id,
    envelopeFor(testBytes(64, 6)),
  );
  assert.equal(next.accepted, false);
  assert.match(next.reason ?? "", /failed to prove/);
});

Deno.test("an owner that answers a ping is in charge though it audits nobody: no steward acts", async () => {
  const { net, report, holders } = await orphanable(27);
  const id = report.tesseraId;
  await lose(net.node(holders[0]), id);
  for (let i = 0; i < 4; i++) {
    await net.clock.advance(DAY);
    // Holders only: the owner is up but never sweeps.
    for (const h of holders) {
      const node = net.node(h);
      if (!node.online) continue;
      const r = (await node.service.repairSweep()).stewards!;
      assert.equal(r.orphans, 0);
      assert.equal(r.stewarded, 0);
    }
  }
});

Deno.test("a steward's push is on the owner's account: charged to the owner, refused once the owner's deficit passes the tolerance", async () => {
  const { net, report, holders } = await orphanable(28);
  const id = report.tesseraId;
  const steward = net.node(holders[0]);
  const [f] = await steward.fragments.list(id);
  const data = (await steward.fragments.read(id, f.index))!;
  const envelope = {
    ...shardEnvelope(report, { index: f.index, data }),
    manifest: (await steward.manifests.get(id))!,
  };
  const strangers = [...net.nodes.values()].filter((n) =>
    n.id !== "owner" && !holders.includes(n.id)
  );
  // A fair owner's orphan: taken, and the owner is charged, not the steward.
  const fair = strangers[0];
  const ack = await steward.dht.replicate(fair.id, envelope);
  assert.equal(ack.accepted, true, ack.reason);
  assert.equal(
    (await fair.ledger.get("owner"))?.bytesStoredForThem,
    data.length,
  );
  assert.equal((await fair.ledger.get(steward.id))?.bytesStoredForThem ?? 0, 0);
  // A free rider's orphan: refused where the owner is in debt already.
  const creditor = strangers[1];
  await creditor.ledger.recordStoredForThem(
    "owner",
    creditor.service.config.deficitToleranceBytes,
  );
  const refused = await steward.dht.replicate(creditor.id, envelope);
  assert.equal(refused.accepted, false);
  assert.equal(refused.errorCode, "DEFICIT_EXCEEDED");
});

Deno.test("a steward looks after a free rider's orphans after everyone else's", async () => {
  const net = new MiniNetwork(CONFIG, { stewards: true });
  const owner = net.add("owner", "10.99.0.1");
  const rider = net.add("rider", "10.98.0.1");
  net.addMany(30);
  const ofOwner = await owner.service.putTessera(testBytes(5000, 31));
  const ofRider = await rider.service.putTessera(testBytes(5000, 32));
  for (const node of net.nodes.values()) await node.service.repairSweep();
  const both = ofOwner.placed.map((p) => p.peerId).filter((p) =>
    ofRider.placed.some((q) => q.peerId === p)
  );
  const h = net.node(both[0]);
  // The free rider is the owner of the smaller id, so that the order
  // asked for is not the ids' own. We store much for it, it stores
  // nothing for us.
  const [a, b] = [ofOwner, ofRider].sort((x, y) =>
    x.tesseraId < y.tesseraId ? -1 : 1
  );
  const riderId = a === ofOwner ? "owner" : "rider";
  await h.ledger.recordStoredForThem(riderId, 1_000_000);
  // Everyone else is down: h's turn has come for both (and it cannot
  // rebuild either alone: the order is what this test reads).
  for (const n of net.nodes.values()) if (n !== h) n.online = false;
  await net.clock.advance(DAY + 8 * HOUR);
  await h.service.repairSweep();
  await net.clock.advance(HOUR);
  const r = (await h.service.repairSweep()).stewards!;
  assert.equal(r.orphans, 2);
  assert.deepEqual(r.repairs.map((x) => x.tesseraId), [
    b.tesseraId,
    a.tesseraId,
  ]);
});

Deno.test("a steward keeps the shards its rebuild fetched: the next loss is rebuilt with nothing fetched; it lets them go once the owner is back", async () => {
  const { net, owner, report, holders } = await orphanable(33);
  const id = report.tesseraId;
  owner.online = false;
  await lose(net.node(holders[0]), id);
  await net.clock.advance(DAY + HOUR);
  let steward: string | undefined;
  let reported = 0;
  const wire = net.traffic.fetchBytes;
  for (let i = 0; i < 3 && !steward; i++) {
    await net.clock.advance(HOUR);
    for (const [p, r] of await sweepAll(net)) {
      if (r.stewards!.repairs.some((x) => x.placed.length > 0)) steward = p;
      for (const x of r.stewards!.repairs) reported += x.bytesFetched;
    }
  }
  assert.ok(steward, "a steward rebuilt the lost shards");
  // What the repair reports fetched is what crossed the wire: its own
  // shards came from its store.
  assert.ok(reported > 0);
  assert.equal(reported, net.traffic.fetchBytes - wire);
  const node = net.node(steward);
  const fetches = () => net.traffic.fetch;
  // Another holder goes for good: the steward rebuilds from what it kept.
  const other = holders.find((h) => h !== steward && net.node(h).online)!;
  await lose(net.node(other), id);
  const before = fetches();
  await net.clock.advance(HOUR);
  const r = (await node.service.repairSweep()).stewards!;
  assert.equal(fetches(), before, "no shard fetched");
  const repair = r.repairs[0];
  assert.ok(repair.placed.length > 0);
  assert.equal(repair.bytesFetched, 0);
  assert.ok(r.keptBytes >= report.plan.dataShards * report.plan.shardSize);
  assert.equal((await liveIndices(net, id)).size, report.plan.shardCount);
  // The owner is back and audits: the steward stops and frees its copy.
  owner.online = true;
  await owner.service.repairSweep();
  await net.clock.advance(HOUR);
  const after = (await node.service.repairSweep()).stewards!;
  assert.equal(after.stewarded, 0);
  assert.equal(after.keptBytes, 0);
});

Deno.test("a steward with no copy waits until half the parity shards are lost, then rebuilds them all in one fetch; with its copy it repairs each loss at once", async () => {
  const { net, owner, report, holders: placed } = await orphanable(31, {
    stewardRebuildAtPercent: 50,
  });
  const id = report.tesseraId;
  const { parityShards, shardCount } = report.plan;
  const holders = stewardOrder(id, placed);
  owner.online = false;
  // Holders far down the order leave, one shard at a time.
  const far = holders.slice(-parityShards);
  const wait = parityShards / 2;
  const stewardRuns = async () => {
    await net.clock.advance(HOUR);
    return [...(await sweepAll(net)).values()].flatMap((r) =>
      r.stewards!.repairs
    );
  };
  await lose(net.node(far[0]), id);
  await net.clock.advance(DAY);
  for (let i = 0; i < 3; i++) {
    const runs = await stewardRuns();
    assert.deepEqual(runs.flatMap((r) => r.placed), [], "one loss: it waits");
  }
  for (const h of far.slice(1, wait - 1)) await lose(net.node(h), id);
  assert.deepEqual((await stewardRuns()).flatMap((r) => r.placed), []);
  assert.equal((await liveIndices(net, id)).size, shardCount - (wait - 1));
  // The loss that reaches half the parity: every lost shard rebuilt at once.
  await lose(net.node(far[wait - 1]), id);
  const runs = (await stewardRuns()).filter((r) => r.placed.length > 0);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].source, "network");
  assert.equal(runs[0].placed.length, wait);
  assert.equal((await liveIndices(net, id)).size, shardCount);
  // Now it keeps a copy: the next loss is repaired at once, nothing fetched.
  await lose(net.node(far[wait]), id);
  const next = (await stewardRuns()).filter((r) => r.placed.length > 0);
  assert.equal(next.length, 1);
  assert.equal(next[0].placed.length, 1);
  assert.equal(next[0].bytesFetched, 0);
  assert.equal((await liveIndices(net, id)).size, shardCount);
});

Deno.test("a steward waiting for more losses does not take the orphan for suspect: its sweeps challenge only the holders the audit schedule makes due", async () => {
  const { net, owner, report, holders: placed } = await orphanable(37, {
    stewardRebuildAtPercent: 50,
  });
  const id = report.tesseraId;
  const holders = stewardOrder(id, placed);
  assert.ok(report.plan.parityShards >= 4, "a loss it waits on");
  owner.online = false;
  await lose(net.node(holders.at(-1)!), id);
  await net.clock.advance(DAY);
  const round = async () => {
    await net.clock.advance(HOUR);
    const runs = [...(await sweepAll(net)).values()].flatMap((r) =>
      r.stewards!.repairs
    );
    assert.deepEqual(runs.flatMap((r) => r.placed), [], "one loss: it waits");
    return runs.length;
  };
  // A day of sweeps: the steward takes over, proves every holder, and its
  // holders build a proven record.
  for (let i = 0; i < 24; i++) await round();
  const live = holders.length - 1;
  const before = net.traffic.attest;
  let stewarded = 0;
  for (let i = 0; i < 6; i++) stewarded += await round();
  const attests = net.traffic.attest - before;
  assert.equal(stewarded, 6, "one steward at work at every sweep");
  // Suspect, it would challenge all `live` holders at each of 6 sweeps.
  assert.ok(
    attests < 6 * live / 2,
    `${attests} challenges in 6 sweeps of ${live} holders`,
  );
});

Deno.test("a holder whose steward audits it on the schedule asks the DHT for the orphan's holders at most once while that audit holds", async () => {
  // Owner silence 4 h, audits up to 14 h apart: most holders go longer
  // than the silence without an audit from the steward at work.
  const { net, owner, holders } = await orphanable(41, {
    stewardAfterMs: 4 * HOUR,
  });
  owner.online = false;
  const stewarding = async (hours: number) => {
    const at = new Set<string>();
    for (let i = 0; i < hours; i++) {
      await net.clock.advance(HOUR);
      for (const [p, r] of await sweepAll(net)) {
        if (r.stewards!.stewarded > 0) at.add(p);
      }
    }
    return at;
  };
  // A day for the steward to take over and its holders to earn a record.
  await net.clock.advance(4 * HOUR);
  assert.equal((await stewarding(24)).size, 1, "one steward at work");
  const before = net.traffic.find;
  const stewards = await stewarding(24);
  const lookups = net.traffic.find - before;
  assert.equal(stewards.size, 1, "still one steward");
  // The steward asks once a sweep; each other holder at most once.
  assert.ok(
    lookups <= 24 + holders.length - 1,
    `${lookups} lookups in 24 sweeps by ${holders.length} holders`,
  );
});

Deno.test("a tessera that arrives after the holders' first sweep is watched: its owner's silence is seen without a look at every held tessera", async () => {
  const net = new MiniNetwork(CONFIG, { stewards: true });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  // Every holder sweeps before it holds anything: its watch starts empty.
  for (const r of (await sweepAll(net)).values()) {
    assert.equal(r.stewards?.orphans, 0);
  }
  const report = await owner.service.putTessera(testBytes(5000, 41));
  // Gone at once: no audit after the put tells a holder whose tessera it is.
  owner.online = false;
  const holders = [...new Set(report.placed.map((p) => p.peerId))];
  await net.clock.advance(DAY / 2);
  for (const r of (await sweepAll(net)).values()) {
    assert.equal(r.stewards?.orphans, 0, "within the silence setting");
  }
  await net.clock.advance(DAY / 2 + HOUR);
  const orphaned = new Set<string>();
  for (const [p, r] of await sweepAll(net)) {
    if (r.stewards!.orphans > 0) orphaned.add(p);
  }
  // Every holder that is up found the orphan it received after its first sweep.
  assert.deepEqual([...orphaned].sort(), holders.sort());
  // A shard pushed with the manifest and never challenged (a steward's
  // placement) is watched from its receipt alone.
  const fresh = net.add("fresh", "10.98.0.1");
  assert.equal((await fresh.service.repairSweep()).stewards!.orphans, 0);
  const from = net.node(holders[0]);
  const [f] = await from.fragments.list(report.tesseraId);
  const data = (await from.fragments.read(report.tesseraId, f.index))!;
  const ack = await from.dht.replicate("fresh", {
    ...shardEnvelope(report, { index: f.index, data }),
    manifest: (await from.manifests.get(report.tesseraId))!,
  });
  assert.equal(ack.accepted, true, ack.reason);
  await net.clock.advance(DAY / 2);
  assert.equal((await fresh.service.repairSweep()).stewards!.orphans, 0);
  await net.clock.advance(DAY / 2 + HOUR);
  assert.equal((await fresh.service.repairSweep()).stewards!.orphans, 1);
});
