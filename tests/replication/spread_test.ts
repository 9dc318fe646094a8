/**
 * Issue 16: a tessera placed while its holders had one /24 is spread by
 * the repair sweep once the network gains /24s, so one subnet outage no
 * longer takes it; on a network that has no other /24 the sweep pushes
 * nothing.
 */
import assert from "node:assert/strict";
import { subnetKey } from "../../lib/replication/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

Deno.test("repair sweep spreads a one-/24 tessera over /24s that appear later, once", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "192.168.7.1");
  for (let i = 0; i < 5; i++) net.add(`h${i}`, `192.168.7.${10 + i}`);
  const put = await owner.service.putTessera(testBytes(6_000, 9)); // Medium
  assert.equal(put.plan.tier, "medium");
  assert.equal(put.safety.subnets, 1);
  assert.equal(put.safety.subnetLosses, 0);

  // Only one /24 on the network: nothing to spread to, nothing pushed.
  const before = net.traffic.replicate;
  const alone = await owner.service.repairSweep();
  assert.equal(alone.healthy, 1);
  assert.deepEqual(alone.tesseras, []);
  assert.equal(net.traffic.replicate, before);

  // Three /24s join, two peers each.
  for (let s = 0; s < 3; s++) {
    for (let h = 0; h < 2; h++) net.add(`n${s}${h}`, `10.5.${s}.${1 + h}`);
  }
  const sweep = await owner.service.repairSweep();
  assert.equal(sweep.tesseras.length, 1);
  const spread = sweep.tesseras[0];
  assert.equal(spread.before.kind, "healthy");
  assert.equal(spread.after.kind, "healthy");
  assert.equal(spread.source, "blob");
  // The copies went to the new /24s only, enough to survive the old one's
  // outage: 16 shards (dataShards) outside 192.168.7.
  assert.equal(spread.placed.length, put.plan.dataShards);
  for (const p of spread.placed) {
    assert.match(net.nodes.get(p.peerId)!.info.ip!, /^10\.5\./);
  }
  assert.ok(spread.safety!.subnetLosses >= 1, JSON.stringify(spread.safety));
  const health = await owner.service.inspectTessera(put.tesseraId);
  assert.equal(health.health.kind, "healthy");
  assert.ok(health.safety.subnetLosses >= 1);
  assert.equal(
    new Set(
      (await owner.holders.holders(put.tesseraId)).map((h) => subnetKey(h.ip)),
    ).size,
    4,
  );
  // The old /24 goes dark: a stranger still reads the tessera.
  for (let i = 0; i < 5; i++) net.nodes.get(`h${i}`)!.online = false;
  owner.online = false;
  const stranger = net.add("stranger", "10.9.0.1");
  const back = await stranger.service.retrieveTessera(put.tesseraId);
  assert.deepEqual(back, testBytes(6_000, 9));
  owner.online = true;
  for (let i = 0; i < 5; i++) net.nodes.get(`h${i}`)!.online = true;

  // Spread once: the next sweep places nothing.
  const again = await owner.service.repairSweep();
  assert.deepEqual(again.tesseras, []);
});

Deno.test("repair sweep: new /24s whose peers refuse every shard leave the tessera as it was, and no report", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "192.168.7.1");
  for (let i = 0; i < 5; i++) net.add(`h${i}`, `192.168.7.${10 + i}`);
  const put = await owner.service.putTessera(testBytes(6_000, 10));
  for (let s = 0; s < 3; s++) {
    net.add(`full${s}`, `10.6.${s}.1`, { freeSpace: () => 0 });
  }
  const before = net.traffic.replicate;
  const sweep = await owner.service.repairSweep();
  assert.deepEqual(sweep.tesseras, []);
  assert.ok(net.traffic.replicate > before, "the new peers were asked");
  const health = await owner.service.inspectTessera(put.tesseraId);
  assert.equal(health.health.kind, "healthy");
  assert.equal(health.safety.subnetLosses, 0);
});
