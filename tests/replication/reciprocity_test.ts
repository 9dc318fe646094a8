/**
 * The owner's memory of its peers' conduct (standing.ts) at work between
 * real services: refusals backed off, liars caught by the spot check or
 * by a sweep and then neither used nor credited, acknowledged bytes not
 * trusted before they are proven, and a wider search when the closest
 * peers refuse.
 */
import assert from "node:assert/strict";
import { TesserasError } from "../../lib/core/mod.ts";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { envelopeFor, MiniNetwork, testBytes } from "./test_network.ts";

const DAY = 24 * 3_600_000;

Deno.test("a peer that refused is not pushed to again with shards as large until its back-off ends", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.add("full", "10.0.50.1", { freeSpace: () => 0 });
  net.addMany(6);
  const codesOf = (
    r: { failures: readonly { peerId: string; code: string }[] },
  ) => r.failures.filter((f) => f.peerId === "full").map((f) => f.code);
  const first = await owner.service.putTessera(testBytes(300, 1));
  assert.deepEqual(codesOf(first), ["INSUFFICIENT_SPACE"]);
  assert.equal(first.placed.length, 6);
  const pushes = net.traffic.replicate;
  const second = await owner.service.putTessera(testBytes(300, 2));
  assert.deepEqual(codesOf(second), []);
  assert.equal(second.placed.length, 6);
  assert.equal(net.traffic.replicate - pushes, 6);
  // A smaller shard may still fit: it is tried.
  const small = await owner.service.putTessera(testBytes(200, 3));
  assert.deepEqual(codesOf(small), ["INSUFFICIENT_SPACE"]);
  // Two refusals in a row: two intervals.
  await net.clock.advance(DAY);
  const third = await owner.service.putTessera(testBytes(300, 4));
  assert.deepEqual(codesOf(third), []);
  await net.clock.advance(DAY);
  const fourth = await owner.service.putTessera(testBytes(300, 5));
  assert.deepEqual(codesOf(fourth), ["INSUFFICIENT_SPACE"]);
});

Deno.test("a peer that refused to store for us gets no free credit from us while its back-off stands", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const full = net.add("full", "10.0.50.1", { freeSpace: () => 0 });
  const fair = net.addMany(6);
  const report = await owner.service.putTessera(testBytes(300, 10));
  assert.deepEqual(
    report.failures.map((f) => [f.peerId, f.code]),
    [["full", "INSUFFICIENT_SPACE"]],
  );
  const env = envelopeFor(testBytes(100, 11));
  const ack = await full.dht.replicate("owner", env);
  assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
  assert.match(ack.reason!, /refused to store for us/);
  assert.equal((await fair[0].dht.replicate("owner", env)).accepted, true);
  await net.clock.advance(DAY);
  assert.equal((await full.dht.replicate("owner", env)).accepted, true);
});

Deno.test("a holder that acknowledges and keeps nothing is caught at once: no record, no credit, no use, no credit of ours", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const dropper = net.add("dropper", "10.0.60.1", { drop: true });
  const fair = net.addMany(26);
  // It holds a little of our data, so placement tries it first.
  await owner.ledger.recordTheyStoreForUs("dropper", 1);
  const report = await owner.service.putTessera(testBytes(4000, 5));
  assert.deepEqual(
    report.failures.filter((f) => f.peerId === "dropper").map((f) => f.code),
    ["NOT_STORED"],
  );
  assert.equal(report.placed.some((p) => p.peerId === "dropper"), false);
  assert.equal(new Set(report.placed.map((p) => p.index)).size, 24);
  assert.deepEqual(report.unplaced, []);
  assert.equal(report.bytesSent, 24 * report.plan.shardSize);
  const records = await owner.holders.holders(report.tesseraId);
  assert.equal(records.length, 24);
  assert.equal(records.some((r) => r.peerId === "dropper"), false);
  // The credit its acknowledgement earned is taken back.
  assert.equal((await owner.ledger.get("dropper"))!.bytesTheyStoreForUs, 1);
  // Not used again...
  const next = await owner.service.putTessera(testBytes(4000, 6));
  assert.equal(next.failures.some((f) => f.peerId === "dropper"), false);
  assert.equal(next.placed.some((p) => p.peerId === "dropper"), false);
  // ...and extended no credit: even a small push of its is refused,
  // while a fair peer's is taken.
  const env = envelopeFor(testBytes(100, 7));
  const ack = await dropper.dht.replicate("owner", env);
  assert.equal(ack.accepted, false);
  assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
  assert.match(ack.reason!, /failed to prove/);
  assert.equal((await fair[0].dht.replicate("owner", env)).accepted, true);
  // The ban ends after 90 intervals; before any credit again, the owner
  // probes it (probe.ts): it drops the probe too and is banned again.
  await net.clock.advance(90 * DAY);
  const later = await dropper.dht.replicate(
    "owner",
    envelopeFor(testBytes(100, 8)),
  );
  assert.equal(later.accepted, false);
  assert.match(later.reason!, /failed to prove/);
});

Deno.test("a holder that fails a sweep's challenge is banned from placement and extended no credit", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(26);
  const first = await owner.service.putTessera(testBytes(4000, 40));
  const [liar, away] = [first.placed[0], first.placed[1]];
  net.node(liar.peerId).fragments.corrupt(first.tesseraId, liar.index);
  net.node(away.peerId).online = false;
  const repair = await owner.service.repairTessera(first.tesseraId);
  assert.deepEqual(repair.after, { kind: "healthy" });
  assert.equal(repair.placed.some((p) => p.peerId === liar.peerId), false);
  // 25 peers online, one of them the liar: the next tessera takes the
  // other 24, and the liar is not even tried.
  const second = await owner.service.putTessera(testBytes(4000, 41));
  assert.equal(second.placed.length, 24);
  assert.deepEqual(second.failures, []);
  assert.equal(second.placed.some((p) => p.peerId === liar.peerId), false);
  const ack = await net.node(liar.peerId).dht.replicate(
    "owner",
    envelopeFor(testBytes(100, 42)),
  );
  assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
  // The one that was merely away is not banned.
  net.node(away.peerId).online = true;
  const back = await net.node(away.peerId).dht.replicate(
    "owner",
    envelopeFor(testBytes(100, 43)),
  );
  assert.equal(back.accepted, true);
});

Deno.test("acknowledged bytes count for the holder's balance with us only once a check proves them", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1", {
    config: { deficitToleranceBytes: 500 },
  });
  const holder = net.add("holder", "10.0.1.1");
  // The holder takes our shard but cannot be reached right after.
  holder.attestBehaviour = () =>
    Promise.reject(new TesserasError("UNREACHABLE", "gone for a moment"));
  const placed = await owner.service.putTessera(testBytes(600, 50));
  assert.deepEqual(placed.placed.map((p) => p.peerId), ["holder"]);
  assert.equal((await owner.ledger.get("holder"))!.bytesTheyStoreForUs, 600);
  // 900 bytes with 600 of ours unproven: 900 > 500.
  const env = envelopeFor(testBytes(900, 51));
  const refused = await holder.dht.replicate("owner", env);
  assert.equal(refused.errorCode, "DEFICIT_EXCEEDED");
  // A sweep proves our shard: 900 - 600 = 300 <= 500.
  holder.attestBehaviour = undefined;
  const sweep = await owner.service.repairSweep();
  assert.equal(sweep.tesseras.length, 1); // still short of 7 copies
  assert.equal((await holder.dht.replicate("owner", env)).accepted, true);
  assert.equal((await owner.ledger.get("holder"))!.bytesTheyStoreForUs, 600);
});

Deno.test("when the closest peers refuse, the owner asks farther ones", async () => {
  const data = testBytes(300, 60);
  const id = blake3Hex(data);
  const ids = Array.from({ length: 12 }, (_, i) => `q${i}`);
  const probe = new MiniNetwork();
  const asker = probe.add("owner", "10.99.0.1");
  ids.forEach((p, i) => probe.add(p, `10.0.${i}.1`));
  const closest = new Set(
    (await asker.dht.findClosestPeers(id, 8)).map((p) => p.id),
  );
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1", { candidateCount: 8 });
  ids.forEach((p, i) =>
    net.add(
      p,
      `10.0.${i}.1`,
      closest.has(p) ? { freeSpace: () => 0 } : {},
    )
  );
  const report = await owner.service.putTessera(data);
  assert.equal(report.tesseraId, id);
  assert.deepEqual(
    report.placed.map((p) => p.peerId).sort(),
    ids.filter((p) => !closest.has(p)).sort(),
  );
  assert.deepEqual(report.unplaced, [0, 0, 0]);
  assert.deepEqual(
    [...new Set(report.failures.map((f) => f.code))],
    ["INSUFFICIENT_SPACE"],
  );
  assert.equal(net.traffic.find, 2);
});
