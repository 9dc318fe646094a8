import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import { checkPlacement, RepairLoop } from "../../lib/replication/mod.ts";
import { encodeTessera } from "../../lib/codec/mod.ts";
import { PROBE_BYTES } from "../../lib/replication/probe.ts";
import {
  MiniNetwork,
  TEST_THRESHOLDS,
  testBytes,
  type TestNode,
} from "./test_network.ts";

async function setup(size: number, peers: number, config = {}) {
  const net = new MiniNetwork(config);
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(peers);
  const data = testBytes(size, size);
  const report = await owner.service.putTessera(data);
  return { net, owner, report, data, id: report.tesseraId };
}

async function violations(owner: TestNode, id: string) {
  const plan = (await owner.holders.get(id))!.plan;
  const records = await owner.holders.holders(id);
  return checkPlacement(
    plan,
    records.map((r) => ({ index: r.index, peer: { id: r.peerId, ip: r.ip } })),
    { maxPerSubnet: 2 },
  );
}

Deno.test("health: healthy, then offline holders give needs_replication{deficit}", async () => {
  const { net, owner, report, id } = await setup(4000, 30);
  assert.deepEqual(await owner.service.checkTesseraHealth(id), {
    kind: "healthy",
  });
  for (const p of report.placed.slice(0, 3)) net.node(p.peerId).online = false;
  const r = await owner.service.inspectTessera(id);
  assert.deepEqual(r.health, { kind: "needs_replication", deficit: 3 });
  assert.deepEqual(
    r.lostIndices,
    report.placed.slice(0, 3).map((p) => p.index),
  );
  assert.equal(r.verification, "chunk");
  assert.deepEqual(
    r.holders.filter((h) => h.status === "unreachable").map((h) => h.pingable),
    [false, false, false],
  );
  assert.equal(r.tolerance, 5);
  const tracked = await owner.holders.get(id);
  assert.equal(tracked?.lastHealth, "needs_replication");
  assert.equal(tracked?.lastCheckedAt, net.clock.now());
});

Deno.test("health: a holder that answers ping but fails attestation counts as lost", async () => {
  const { net, owner, report, id } = await setup(4000, 30);
  const liar = net.node(report.placed[7].peerId);
  liar.attestBehaviour = () => Promise.reject(new Error("busy"));
  const r = await owner.service.inspectTessera(id);
  const h = r.holders.find((x) => x.peerId === liar.id)!;
  assert.equal(h.status, "failed");
  assert.equal(h.pingable, true);
  assert.deepEqual(r.health, { kind: "needs_replication", deficit: 1 });
});

Deno.test("health: corrupt local shard gives corrupt_local{fragmentIndex}", async () => {
  const { owner, id } = await setup(4000, 30);
  // The owner also holds shard 9 of its own tessera (e.g. pushed back by a peer).
  const enc = await owner.blobs.get(id);
  const f = encodeTessera(enc!, { thresholds: TEST_THRESHOLDS }).fragments[9];
  await owner.fragments.store(f.id, f.data);
  owner.fragments.corrupt(id, 9);
  assert.deepEqual(await owner.service.checkTesseraHealth(id), {
    kind: "corrupt_local",
    fragmentIndex: 9,
  });
  const rep = await owner.service.repairTessera(id);
  assert.deepEqual(rep.deletedLocal, [9]);
  assert.deepEqual(rep.after, { kind: "healthy" });
  assert.deepEqual(await owner.service.checkTesseraHealth(id), {
    kind: "healthy",
  });
});

Deno.test("health: unreachable holders within the grace period are kept", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1", {
    unreachableGraceMs: 3_600_000,
  });
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, 3));
  net.node(report.placed[0].peerId).online = false;
  const r = await owner.service.inspectTessera(report.tesseraId);
  assert.equal(
    r.holders.find((h) => h.peerId === report.placed[0].peerId)?.status,
    "grace",
  );
  assert.deepEqual(r.health, { kind: "healthy" });
  await net.clock.advance(3_600_001);
  assert.deepEqual(await owner.service.checkTesseraHealth(report.tesseraId), {
    kind: "needs_replication",
    deficit: 1,
  });
});

Deno.test("health: the grace counts from when a holder was first found silent, not from its last answer", async () => {
  const net = new MiniNetwork();
  const grace = 3_600_000;
  const owner = net.add("owner", "10.99.0.1", { unreachableGraceMs: grace });
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, 3));
  const away = report.placed[0].peerId;
  const status = async () =>
    (await owner.service.inspectTessera(report.tesseraId)).holders.find((h) =>
      h.peerId === away
    )?.status;
  // Last heard when it stored the shard; it leaves later, unseen.
  await net.clock.advance(grace / 2);
  net.node(away).online = false;
  await net.clock.advance(grace / 4);
  assert.equal(await status(), "grace", "first found silent now");
  // Past the grace since its last answer, within it since the first silence.
  await net.clock.advance(grace - 1);
  assert.equal(await status(), "grace");
  await net.clock.advance(2);
  assert.equal(await status(), "unreachable");
  // Back, it answers; a later absence starts its silence anew.
  net.node(away).online = true;
  assert.equal(await status(), "attested");
  net.node(away).online = false;
  await net.clock.advance(grace);
  assert.equal(await status(), "grace");
});

Deno.test("repair Medium after losing 3 holders: rebuilt from the blob onto new diverse peers", async () => {
  const { net, owner, report, id } = await setup(4000, 30);
  const gone = report.placed.slice(0, 3);
  for (const p of gone) net.node(p.peerId).online = false;
  const rep = await owner.service.repairTessera(id);
  assert.deepEqual(rep.before, { kind: "needs_replication", deficit: 3 });
  assert.deepEqual(rep.after, { kind: "healthy" });
  assert.equal(rep.source, "blob");
  assert.deepEqual(rep.rebuilt, gone.map((p) => p.index).sort((a, b) => a - b));
  assert.deepEqual(
    rep.removed.map((r) => r.peerId).sort(),
    gone.map((p) => p.peerId).sort(),
  );
  const holderIds = new Set(report.placed.map((p) => p.peerId));
  for (const p of rep.placed) {
    assert.equal(holderIds.has(p.peerId), false, "a new, distinct peer");
    assert.deepEqual(
      await net.node(p.peerId).fragments.read(id, p.index),
      await net.node(p.peerId).fragments.read(id, p.index),
    );
  }
  assert.equal(rep.tolerance, 8);
  assert.deepEqual(await violations(owner, id), []);
  assert.deepEqual(await owner.service.checkTesseraHealth(id), {
    kind: "healthy",
  });
  // Every shard again on a live distinct peer.
  const records = await owner.holders.holders(id);
  assert.equal(records.length, 24);
  assert.equal(new Set(records.map((r) => r.peerId)).size, 24);
  assert.ok(records.every((r) => net.node(r.peerId).online));
});

Deno.test("repair without the blob fetches dataShards survivors and rebuilds", async () => {
  const { net, owner, report, id } = await setup(20_000, 80);
  assert.equal(report.plan.tier, "large");
  await owner.blobs.delete(id);
  const gone = report.placed.slice(0, 20);
  for (const p of gone) net.node(p.peerId).online = false;
  const before = net.traffic.fetchBytes;
  const rep = await owner.service.repairTessera(id);
  assert.equal(rep.source, "network");
  assert.deepEqual(rep.after, { kind: "healthy" });
  assert.equal(rep.rebuilt.length, 20);
  assert.ok(rep.bytesFetched >= 48 * report.plan.shardSize);
  assert.ok(rep.bytesFetched <= 72 * report.plan.shardSize);
  assert.equal(net.traffic.fetchBytes - before, rep.bytesFetched);
  assert.deepEqual(await violations(owner, id), []);
});

Deno.test("repair Small: copies back to 7 without reusing holders; subnet cap with existing holders", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  // Five peers on one /24, the rest spread.
  for (let i = 0; i < 5; i++) net.add(`rack${i}`, `192.168.5.${i + 1}`);
  net.addMany(12);
  const report = await owner.service.putTessera(testBytes(300, 31));
  const rackHolders = report.placed.filter((p) => p.peerId.startsWith("rack"));
  assert.ok(rackHolders.length <= 2);
  const others = report.placed.filter((p) => !p.peerId.startsWith("rack"));
  for (const p of others.slice(0, 3)) net.node(p.peerId).online = false;
  const rep = await owner.service.repairTessera(report.tesseraId);
  assert.deepEqual(rep.before, { kind: "needs_replication", deficit: 3 });
  assert.deepEqual(rep.after, { kind: "healthy" });
  assert.equal(rep.placed.length, 3);
  assert.deepEqual(await violations(owner, report.tesseraId), []);
});

Deno.test("repair onto too few fresh peers folds shards onto live holders, never over the cap", async () => {
  const { net, owner, report, id } = await setup(4000, 9);
  // 9 holders; 2 vanish, and no fresh peer is left to take their shards.
  const gone = [...new Set(report.placed.map((p) => p.peerId))].slice(0, 2);
  for (const g of gone) net.node(g).online = false;
  const rep = await owner.service.repairTessera(id);
  assert.deepEqual(rep.after, { kind: "healthy" });
  const records = await owner.holders.holders(id);
  assert.equal(new Set(records.map((r) => r.index)).size, 24);
  assert.ok(records.every((r) => !gone.includes(r.peerId)));
  assert.deepEqual(await violations(owner, id), []);
});

Deno.test("repair reports INSUFFICIENT_SHARDS when too few survive and there is no blob", async () => {
  const { net, owner, report, id } = await setup(4000, 30);
  await owner.blobs.delete(id);
  for (const p of report.placed.slice(0, 9)) net.node(p.peerId).online = false;
  const rep = await owner.service.repairTessera(id);
  assert.equal(rep.error?.code, "INSUFFICIENT_SHARDS");
  assert.deepEqual(rep.after, { kind: "needs_replication", deficit: 9 });
  const sweep = await owner.service.repairSweep();
  assert.equal(sweep.lost, 1);
  assert.equal(sweep.repaired, 0);
});

Deno.test("a holder that lied loses its ledger credit; an unreachable one loses it once its shard lives elsewhere", async () => {
  const { net, owner, report, id } = await setup(4000, 30);
  const [liar, away] = [report.placed[0], report.placed[1]];
  net.node(liar.peerId).fragments.corrupt(id, liar.index);
  net.node(away.peerId).online = false;
  const shard = report.plan.shardSize;
  // Each holder probed us before it took our shard: we store its probe.
  const probe = PROBE_BYTES;
  assert.equal(await owner.ledger.balance(liar.peerId), shard - probe);
  assert.equal(await owner.ledger.balance(away.peerId), shard - probe);
  const repair = await owner.service.repairTessera(id);
  assert.ok(repair.placed.some((p) => p.index === away.index));
  assert.equal(await owner.ledger.balance(liar.peerId), -probe);
  // Issue 16 §2: re-placed, the silent holder's shard no longer counts.
  assert.equal(await owner.ledger.balance(away.peerId), -probe);
});

Deno.test("repairSweep: repairs the most endangered first and drops corrupt held shards", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const nodes = net.addMany(60);
  const a = await owner.service.putTessera(testBytes(4000, 41));
  const b = await owner.service.putTessera(testBytes(4000, 42));
  const c = await owner.service.putTessera(testBytes(300, 43));
  const holding = (r: typeof a) => new Set(r.placed.map((p) => p.peerId));
  const [ha, hb, hc] = [holding(a), holding(b), holding(c)];
  // Placement packs one owner's shards onto the peers that already hold
  // its data while they have room: every holder of a among b's
  // candidates (its 56 closest peers) got a shard of b.
  const near = new Set(
    (await owner.dht.findClosestPeers(b.tesseraId, 56)).map((p) => p.id),
  );
  const shared = [...ha].filter((p) => near.has(p));
  assert.ok(shared.length >= 12);
  assert.deepEqual(shared.filter((p) => !hb.has(p)), []);
  const notC = shared.filter((p) => !hc.has(p));
  assert.ok(notC.length >= 5);
  // One holder of a and b goes away; four more lose b's shard: b has
  // five shards lost, a one.
  net.node(notC[0]).online = false;
  const shardOf = (r: typeof b, peer: string) =>
    r.placed.find((p) => p.peerId === peer)!.index;
  for (const p of notC.slice(1, 5)) {
    net.node(p).fragments.corrupt(b.tesseraId, shardOf(b, p));
  }
  // The owner holds a shard for someone else, and it rots.
  const other = nodes.find((n) => n.online)!;
  const fdata = testBytes(200, 44);
  const fenc = encodeTessera(fdata, { thresholds: TEST_THRESHOLDS });
  const foreign = { tesseraId: fenc.id };
  const ack = await owner.service.receiveFragment({
    fragment: fenc.fragments[0].id,
    plan: fenc.plan,
    originalSize: fenc.plan.size,
    fragmentSize: 200,
    data: fdata,
  }, other.info);
  assert.equal(ack.accepted, true);
  owner.fragments.corrupt(foreign.tesseraId, 0);
  const sweep = await owner.service.repairSweep({ verifyHeld: true });
  assert.deepEqual(sweep.tesseras.map((t) => t.tesseraId), [
    b.tesseraId,
    a.tesseraId,
  ]);
  assert.equal(sweep.healthy, 1);
  assert.equal(sweep.repaired, 2);
  assert.equal(sweep.degraded, 0);
  assert.deepEqual(sweep.heldCorrupt, [{
    tesseraId: foreign.tesseraId,
    index: 0,
  }]);
  assert.deepEqual(await owner.fragments.list(foreign.tesseraId), []);
});

Deno.test("repairSweep on an untracked id reports NOT_FOUND without throwing", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const sweep = await owner.service.repairSweep({ ids: ["ab".repeat(32)] });
  assert.equal(sweep.tesseras[0].error?.code, "NOT_FOUND");
  await assert.rejects(
    owner.service.repairTessera("ab".repeat(32)),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
});

Deno.test("RepairLoop sweeps every interval + jitter on the clock port and stops cleanly", async () => {
  const HOUR = 3_600_000;
  const net = new MiniNetwork({
    repairIntervalMs: 24 * HOUR,
    repairJitterMs: 2 * HOUR,
  });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, 51));
  const times: number[] = [];
  const t0 = net.clock.now();
  const loop = new RepairLoop(owner.service, {
    clock: net.clock,
    rng: { next: () => 0.5, bytes: (n) => new Uint8Array(n) },
    onSweep: () => times.push(net.clock.now() - t0),
  });
  loop.start();
  loop.start(); // idempotent
  assert.equal(loop.running, true);
  await net.clock.advance(HOUR - 1);
  assert.deepEqual(times, []);
  await net.clock.advance(1);
  await net.clock.advance(0);
  assert.deepEqual(times, [HOUR]);
  net.node(report.placed[0].peerId).online = false;
  await net.clock.advance(25 * HOUR);
  assert.deepEqual(times, [HOUR, 26 * HOUR]);
  assert.equal(loop.sweeps, 2);
  assert.deepEqual(await owner.service.checkTesseraHealth(report.tesseraId), {
    kind: "healthy",
  });
  await loop.stop();
  assert.equal(loop.running, false);
  assert.equal(net.clock.pending, 0);
  await net.clock.advance(48 * HOUR);
  assert.equal(loop.sweeps, 2);
});

Deno.test("RepairLoop stops on an external AbortSignal", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const ctl = new AbortController();
  const loop = new RepairLoop(owner.service, {
    clock: net.clock,
    signal: ctl.signal,
    initialDelayMs: 10,
  });
  loop.start();
  ctl.abort();
  await loop.done;
  assert.equal(loop.running, false);
  assert.equal(net.clock.pending, 0);
});

Deno.test("free riders lose redundancy first; what others hold for them is never deleted", async () => {
  // Shards of 250 bytes; each peer tolerates a 300-byte deficit.
  const net = new MiniNetwork({ deficitToleranceBytes: 300 });
  // The rider passes the peers' probes (probe.ts), then stores nothing
  // for anyone (no free space to offer).
  let room = true;
  const rider = net.add("rider", "10.98.0.1", {
    freeSpace: () => room ? 2 ** 40 : 0,
  });
  const fair = net.add("fair", "10.97.0.1");
  const peers = net.addMany(30);
  const r1 = await rider.service.putTessera(testBytes(4000, 71));
  // A second tessera: each peer takes one shard of the rider's, no more.
  const r2 = await rider.service.putTessera(testBytes(4000, 73));
  room = false;
  assert.equal(r1.placed.length, 24);
  assert.equal(r2.placed.length, 7); // 30 peers and the fair owner: 31
  assert.ok(r2.failures.every((f) => f.code === "DEFICIT_EXCEEDED"));
  const f1 = await fair.service.putTessera(testBytes(4000, 72));
  // The fair owner stores for everyone in return; the rider never does.
  for (const p of peers) {
    await p.ledger.recordTheyStoreForUs("fair", 10_000);
    await fair.ledger.recordStoredForThem(p.id, 10_000);
  }
  const riderHolders = new Set(r1.placed.map((p) => p.peerId));
  const fairHolders = new Set(f1.placed.map((p) => p.peerId));
  // Holders of both vanish.
  const gone = [...riderHolders].filter((p) => fairHolders.has(p)).slice(0, 6);
  for (const g of gone) net.node(g).online = false;
  const lostR = r1.placed.filter((p) => gone.includes(p.peerId)).length;
  const lostF = f1.placed.filter((p) => gone.includes(p.peerId)).length;
  // Peers already holding one of the rider's shards refuse a second.
  const rr = await rider.service.repairTessera(r1.tesseraId);
  const fr = await fair.service.repairTessera(f1.tesseraId);
  assert.deepEqual(fr.after, { kind: "healthy" });
  assert.equal(fr.placed.length, lostF);
  assert.equal(lostR, 6);
  assert.deepEqual(rr.placed, []);
  assert.deepEqual(rr.after, { kind: "needs_replication", deficit: 6 });
  // Sweeps on the holders keep the rider's shards.
  for (const h of riderHolders) {
    if (gone.includes(h)) continue;
    await net.node(h).service.repairSweep();
    assert.equal((await net.node(h).fragments.list(r1.tesseraId)).length, 1);
  }
});
