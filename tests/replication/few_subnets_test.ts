/**
 * Placement on a network with too few subnets for the subnet cap
 * (issue 16 §1): more peers of the same subnets rather than fewer, copies
 * where the peers are too few for two losses, and what the tessera
 * survives in numbers and words.
 */
import assert from "node:assert/strict";
import type { PeerInfo } from "../../lib/core/mod.ts";
import { planTessera } from "../../lib/codec/mod.ts";
import {
  checkPlacement,
  describeSafety,
  placementSafety,
  planPlacement,
} from "../../lib/replication/mod.ts";
import { MiniNetwork, TEST_THRESHOLDS, testBytes } from "./test_network.ts";

const MEDIUM = planTessera(20 << 20);
const LARGE = planTessera(300 << 20);
const SMALL = planTessera(100);

const peersIn = (subnets: number, perSubnet: number): PeerInfo[] =>
  Array.from({ length: subnets * perSubnet }, (_, i) => ({
    id: `p${String(i).padStart(3, "0")}`,
    addresses: [],
    ip: `10.1.${i % subnets}.${1 + Math.floor(i / subnets)}`,
  }));

const OPTIONS = { maxPerSubnet: 2, smallReplicas: 7 };

function safetyOf(
  plan: typeof MEDIUM,
  placement: ReturnType<typeof planPlacement>,
) {
  return placementSafety(
    plan,
    placement.assignments.map((a) => ({
      index: a.index,
      peerId: a.peer.id,
      ip: a.peer.ip,
    })),
  );
}

Deno.test("one /24 of five peers: a Medium tessera goes to all five and survives any two losses", () => {
  const placement = planPlacement(MEDIUM, peersIn(1, 5), OPTIONS);
  assert.equal(placement.peers.length, 5);
  assert.deepEqual(placement.unplaced, []);
  const safety = safetyOf(MEDIUM, placement);
  assert.equal(safety.peerLosses >= 2, true);
  assert.equal(safety.subnetLosses, 0);
  assert.equal(safety.subnets, 1);
  assert.equal(safety.shards, 24);
  assert.match(
    describeSafety(safety),
    /^survives any \d+ peer losses; 1 \/24 holds all 24 shards: not safe from a subnet outage$/,
  );
});

Deno.test("few subnets: Large over twelve peers of two /24s survives more peer losses than over four", () => {
  const placement = planPlacement(LARGE, peersIn(2, 6), OPTIONS);
  assert.equal(placement.peers.length, 12);
  const safety = safetyOf(LARGE, placement);
  assert.equal(safety.peerLosses >= 2, true);
  // Subnets taken in turn: both hold about half.
  const bySubnet = new Map<string, number>();
  for (const a of placement.assignments) {
    const key = a.peer.ip!.split(".").slice(0, 3).join(".");
    bySubnet.set(key, (bySubnet.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...bySubnet.values()].sort(), [
    placement.assignments.length / 2,
    placement.assignments.length / 2,
  ]);
});

Deno.test("enough subnets: at most two peers per /24 and no /24 holds more than the parity count", () => {
  for (const [subnets, per] of [[3, 10], [12, 4], [40, 3]]) {
    const placement = planPlacement(MEDIUM, peersIn(subnets, per), OPTIONS);
    const holders = placement.assignments.map((a) => ({
      index: a.index,
      peer: a.peer,
    }));
    assert.deepEqual(
      checkPlacement(MEDIUM, holders, { maxPerSubnet: 2, minTolerance: 2 }),
      [],
      `${subnets} subnets of ${per}`,
    );
    const safety = safetyOf(MEDIUM, placement);
    assert.equal(safety.subnetLosses >= 1, true, `${subnets} subnets`);
    assert.match(describeSafety(safety), /and the outage of any \d+ \/24/);
  }
});

Deno.test("Small on one /24: a copy on every peer, not two", () => {
  const placement = planPlacement(SMALL, peersIn(1, 5), OPTIONS);
  assert.equal(placement.peers.length, 5);
  assert.deepEqual(placement.unplaced, [0, 0]);
  // Enough subnets: seven copies, two per /24 at most.
  const wide = planPlacement(SMALL, peersIn(7, 2), OPTIONS);
  assert.equal(wide.peers.length, 7);
});

Deno.test("placementSafety: an unrecoverable placement and subnet losses counted by /24", () => {
  const none = placementSafety(MEDIUM, [{ index: 0, peerId: "a" }]);
  assert.equal(none.peerLosses, -1);
  assert.match(describeSafety(none), /^not recoverable/);
  const two = placementSafety(SMALL, [
    { index: 0, peerId: "a", ip: "10.0.0.1" },
    { index: 0, peerId: "b", ip: "10.0.1.1" },
    { index: 0, peerId: "c", ip: "10.0.1.2" },
  ]);
  assert.equal(two.peerLosses, 2);
  assert.equal(two.subnetLosses, 1);
  assert.equal(two.subnets, 2);
  assert.equal(
    describeSafety(two),
    "survives any 2 peer losses and the outage of any 1 /24",
  );
});

Deno.test("service on one /24: put reports what it survives, two holders lost, a stranger still reads it; a short Small repair says why", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "192.168.7.1");
  const peers = Array.from(
    { length: 5 },
    (_, i) => net.add(`h${i}`, `192.168.7.${10 + i}`),
  );
  const stranger = net.add("stranger", "192.168.8.1");
  stranger.online = false; // not a holder
  const data = testBytes(20_000, 5); // Large at the test thresholds
  const report = await owner.service.putTessera(data);
  assert.equal(report.plan.tier, "large");
  assert.equal(report.peers, 5);
  assert.equal(report.safety.peerLosses >= 2, true);
  assert.equal(report.tolerance, report.safety.peerLosses);
  assert.equal(report.safety.subnets, 1);
  const health = await owner.service.inspectTessera(report.tesseraId);
  assert.deepEqual(health.safety, report.safety);
  // Any two holders down, the owner offline too: a stranger reads it.
  stranger.online = true;
  for (const [a, b] of [[0, 1], [1, 3], [2, 4]]) {
    peers[a].online = false;
    peers[b].online = false;
    owner.online = false;
    const back = await stranger.service.retrieveTessera(report.tesseraId);
    assert.deepEqual(back, data);
    peers[a].online = true;
    peers[b].online = true;
    owner.online = true;
  }
  // A Small tessera: five copies, seven wanted; the repair says why.
  stranger.online = false;
  const small = await owner.service.putTessera(testBytes(500, 6));
  assert.equal(small.plan.tier, "small");
  assert.equal(small.peers, 5);
  const repair = await owner.service.repairTessera(small.tesseraId);
  assert.equal(repair.after.kind, "needs_replication");
  assert.match(
    repair.shortBecause ?? "",
    /7 copies are wanted but only 5 peers hold one/,
  );
  assert.equal(TEST_THRESHOLDS.mediumFrom, 1024);
});

Deno.test("a stranger's failed get of a Medium tessera names the Medium shortfall, not the Large one tried last", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.60.0.1");
  net.addMany(30);
  const stranger = net.add("stranger", "10.61.0.1");
  const put = await owner.service.putTessera(testBytes(5000, 12)); // Medium
  assert.equal(put.plan.tier, "medium");
  // Nine of the 24 holders go: 15 shards left, one short of 16.
  const holders = [...new Set(put.placed.map((p) => p.peerId))];
  for (const p of holders.slice(0, 9)) net.node(p).online = false;
  owner.online = false;
  await assert.rejects(
    stranger.service.retrieveTessera(put.tesseraId),
    (e: Error) => /only 15 of the 16 shards/.test(e.message),
  );
});

Deno.test("checkPlacement: more than the cap in a /24 breaks the rule only while other subnets had room", () => {
  const placement = planPlacement(MEDIUM, peersIn(1, 5), OPTIONS);
  const holders = placement.assignments.map((a) => ({
    index: a.index,
    peer: a.peer,
  }));
  const cap = (availableSubnets?: number) =>
    checkPlacement(MEDIUM, holders, {
      maxPerSubnet: 2,
      minTolerance: 0,
      ...(availableSubnets !== undefined ? { availableSubnets } : {}),
    }).filter((v) => v.kind === "subnet_cap").length;
  assert.equal(cap(), 1); // absolute, as before
  assert.equal(cap(1), 0); // the network had one /24: rightly used
  assert.equal(cap(3), 1); // two other /24s had room
});
