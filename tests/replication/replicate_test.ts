import assert from "node:assert/strict";
import { blake3Hex, outboardOf } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { checkPlacement } from "../../lib/replication/mod.ts";
import { PROBE_BYTES } from "../../lib/replication/probe.ts";
import { envelopeFor, MiniNetwork, testBytes } from "./test_network.ts";

Deno.test("replicate Small: 7 whole copies on 7 distinct diverse peers, ledger credited", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(12);
  const data = testBytes(500);
  const progress: number[] = [];
  const report = await owner.service.putTessera(data, {
    onProgress: (p) => progress.push(p.shardsDone),
  });
  assert.equal(report.tesseraId, blake3Hex(data));
  assert.equal(report.plan.tier, "small");
  assert.equal(report.placed.length, 7);
  assert.equal(new Set(report.placed.map((p) => p.peerId)).size, 7);
  assert.deepEqual(report.unplaced, []);
  assert.equal(report.tolerance, 6);
  assert.equal(report.bytesSent, 3500);
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
  for (const p of report.placed) {
    const holder = net.node(p.peerId);
    assert.deepEqual(await holder.fragments.read(report.tesseraId, 0), data);
    // Before it took our shard on its credit, the holder probed us: we
    // store its probe (probe.ts).
    assert.equal(await holder.ledger.balance("owner"), -500 + PROBE_BYTES);
    assert.equal(await owner.ledger.balance(p.peerId), 500 - PROBE_BYTES);
  }
  const records = await owner.holders.holders(report.tesseraId);
  assert.equal(records.length, 7);
  assert.ok(records.every((r) => r.ip?.startsWith("10.0.")));
  const tracked = await owner.holders.get(report.tesseraId);
  assert.deepEqual(tracked?.checksums, [report.tesseraId]);
});

Deno.test("replicate Medium over 30 peers: one shard per peer, no placement violations", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const data = testBytes(5000, 2);
  const report = await owner.service.putTessera(data);
  assert.equal(report.plan.tier, "medium");
  assert.equal(report.placed.length, 24);
  assert.equal(report.peers, 24);
  assert.equal(report.tolerance, 8);
  const records = await owner.holders.holders(report.tesseraId);
  const violations = checkPlacement(
    report.plan,
    records.map((r) => ({ index: r.index, peer: { id: r.peerId, ip: r.ip } })),
    { maxPerSubnet: 2 },
  );
  assert.deepEqual(violations, []);
});

Deno.test("replicate Large over 9 peers: round-robin, survives 2 losses", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(9);
  const report = await owner.service.putTessera(testBytes(20_000, 3));
  assert.equal(report.plan.tier, "large");
  assert.equal(report.placed.length, 72);
  assert.equal(report.peers, 9);
  assert.equal(report.tolerance, 3); // loads of 8: 3 × 8 = 24 parity
});

Deno.test("subnet cap holds when most peers share one /24", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  for (let i = 0; i < 20; i++) net.add(`rack${i}`, `192.168.7.${i + 1}`);
  net.addMany(8);
  const report = await owner.service.putTessera(testBytes(3000, 4));
  const rack = report.placed.filter((p) => p.peerId.startsWith("rack"));
  assert.equal(new Set(rack.map((p) => p.peerId)).size, 2);
  assert.equal(report.peers, 10);
  assert.ok(report.tolerance >= 2);
});

Deno.test("peers that refuse or are offline are replaced by the next candidates", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(14);
  const closest = await owner.dht.findClosestPeers(
    blake3Hex(testBytes(700, 5)),
    14,
  );
  // The next three refuse (full disk).
  for (const n of closest.slice(2, 5)) {
    net.nodes.delete(n.id);
    net.add(n.id, n.ip, { freeSpace: () => 0 });
  }
  // The two closest peers vanish when we push to them.
  const vanishing = new Set([closest[0].id, closest[1].id]);
  const realReplicate = owner.dht.replicate.bind(owner.dht);
  (owner.dht as { replicate: typeof realReplicate }).replicate = (
    peer,
    ...rest
  ) => {
    if (vanishing.has(peer)) net.node(peer).online = false;
    return realReplicate(peer, ...rest);
  };
  const report = await owner.service.putTessera(testBytes(700, 5));
  assert.equal(report.placed.length, 7);
  assert.deepEqual(report.unplaced, []);
  const codes = report.failures.map((f) => f.code).sort();
  assert.deepEqual(codes, [
    "INSUFFICIENT_SPACE",
    "INSUFFICIENT_SPACE",
    "INSUFFICIENT_SPACE",
    "UNREACHABLE",
    "UNREACHABLE",
  ]);
  for (const p of report.placed) {
    assert.ok(net.node(p.peerId).online);
    assert.notEqual(p.peerId, closest[0].id);
  }
});

Deno.test("Medium with refusals keeps every shard placed, concurrency bounded", async () => {
  const net = new MiniNetwork({ concurrentTransfers: 3 });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(8);
  for (let i = 0; i < 4; i++) {
    net.add(`full${i}`, `10.50.${i}.1`, { freeSpace: () => 0 });
  }
  let inFlight = 0, maxInFlight = 0;
  const realReplicate = owner.dht.replicate.bind(owner.dht);
  (owner.dht as { replicate: typeof realReplicate }).replicate = async (
    ...args
  ) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    try {
      return await realReplicate(...args);
    } finally {
      inFlight--;
    }
  };
  const report = await owner.service.putTessera(testBytes(4000, 6));
  assert.equal(maxInFlight, 3);
  assert.equal(report.placed.length, 24);
  assert.deepEqual(report.unplaced, []);
  assert.ok(report.placed.every((p) => !p.peerId.startsWith("full")));
  assert.ok(report.failures.every((f) => f.code === "INSUFFICIENT_SPACE"));
  assert.equal(report.peers, 8);
  assert.ok(report.tolerance >= 2);
});

Deno.test("no peers: UNREACHABLE, but the tessera stays tracked for repair", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const data = testBytes(100, 7);
  await assert.rejects(
    owner.service.putTessera(data),
    (e) => isTesserasError(e, "UNREACHABLE"),
  );
  assert.notEqual(await owner.holders.get(blake3Hex(data)), null);
  await assert.rejects(
    owner.service.replicateTessera("ab".repeat(32)),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
});

// ---- receiveFragment ----

Deno.test("receiveFragment stores, credits the ledger, acks held indices, is idempotent", async () => {
  const net = new MiniNetwork();
  const holder = net.add("holder", "10.0.0.1");
  const sender = { id: "sender", addresses: [], ip: "10.0.1.1" };
  const data = testBytes(4000, 8);
  const e3 = envelopeFor(data, 3);
  const e5 = envelopeFor(data, 5);
  assert.deepEqual(await holder.service.receiveFragment(e5, sender), {
    accepted: true,
    heldIndices: [5],
  });
  assert.deepEqual(await holder.service.receiveFragment(e3, sender), {
    accepted: true,
    heldIndices: [3, 5],
  });
  assert.deepEqual(await holder.service.receiveFragment(e3, sender), {
    accepted: true,
    heldIndices: [3, 5],
  });
  assert.equal(await holder.ledger.balance("sender"), -2 * e3.data.length);
  assert.equal(await holder.fragments.totalBytes(), 2 * e3.data.length);
});

Deno.test("receiveFragment refuses tampered, mis-sized, over-size and malformed fragments", async () => {
  const net = new MiniNetwork();
  const holder = net.add("holder", "10.0.0.1");
  const sender = { id: "sender", addresses: [] };
  const e = envelopeFor(testBytes(4000, 9), 1);
  const tampered = e.data.slice();
  tampered[0] ^= 1;
  const cases: [unknown, string][] = [
    [{ ...e, data: tampered }, "CHECKSUM_MISMATCH"],
    [{ ...e, fragmentSize: e.fragmentSize - 1 }, "CHECKSUM_MISMATCH"],
    [
      { ...e, data: e.data.subarray(1), fragmentSize: e.fragmentSize - 1 },
      "CHECKSUM_MISMATCH",
    ],
    [{
      ...e,
      data: new Uint8Array(e.data.length + 1),
      fragmentSize: e.data.length + 1,
    }, "TOO_LARGE"],
    [
      { ...e, plan: { ...e.plan, size: 2 ** 31 }, originalSize: 2 ** 31 },
      "TOO_LARGE",
    ],
    [
      { ...e, plan: { ...e.plan, shardSize: e.plan.shardSize + 1 } },
      "INVALID_INPUT",
    ],
    [{ ...e, fragment: { ...e.fragment, index: 24 } }, "INVALID_INPUT"],
    [{ ...e, fragment: { ...e.fragment, tesseraId: "../x" } }, "INVALID_ID"],
    [{ ...e, data: "nope" }, "INVALID_INPUT"],
  ];
  for (const [env, code] of cases) {
    const ack = await holder.service.receiveFragment(env as typeof e, sender);
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, code, JSON.stringify(ack));
  }
  assert.equal(await holder.fragments.totalBytes(), 0);
  assert.equal(await holder.ledger.get("sender"), null);
});

Deno.test("receiveFragment: deficit tolerance (institutional exempt), per-peer limit, free space", async () => {
  const net = new MiniNetwork({
    deficitToleranceBytes: 1000,
    perPeerStorageLimitBytes: 1500,
    minFreeSpaceBytes: 100,
  });
  let free = 10_000;
  const holder = net.add("holder", "10.0.0.1", { freeSpace: () => free });
  const sender = { id: "sender", addresses: [] };
  const data = testBytes(8000, 10); // Medium: 500-byte shards
  const env = (i: number) => envelopeFor(data, i);
  assert.equal(env(0).data.length, 500);
  assert.equal(
    (await holder.service.receiveFragment(env(0), sender)).accepted,
    true,
  );
  assert.equal(
    (await holder.service.receiveFragment(env(1), sender)).accepted,
    true,
  );
  const refused = await holder.service.receiveFragment(env(2), sender);
  assert.deepEqual(
    [refused.accepted, refused.errorCode, refused.heldIndices],
    [false, "DEFICIT_EXCEEDED", [0, 1]],
  );
  // Once the sender stores for us, its deficit shrinks and it may push again.
  await holder.ledger.recordTheyStoreForUs("sender", 500);
  assert.equal(
    (await holder.service.receiveFragment(env(2), sender)).accepted,
    true,
  );
  // 1500 stored: the per-peer limit binds even with a good balance.
  await holder.ledger.recordTheyStoreForUs("sender", 5000);
  assert.equal(
    (await holder.service.receiveFragment(env(3), sender)).errorCode,
    "PEER_LIMIT_EXCEEDED",
  );
  // Institutional peers skip the deficit rule, not the per-peer limit.
  const inst = { id: "library", addresses: [] };
  await holder.ledger.setInstitutional("library", true);
  assert.equal(
    (await holder.service.receiveFragment(env(4), inst)).accepted,
    true,
  );
  assert.equal(
    (await holder.service.receiveFragment(env(5), inst)).accepted,
    true,
  );
  assert.equal(
    (await holder.service.receiveFragment(env(6), inst)).accepted,
    true,
  );
  assert.equal(
    (await holder.service.receiveFragment(env(7), inst)).errorCode,
    "PEER_LIMIT_EXCEEDED",
  );
  free = 550;
  const other = { id: "other", addresses: [] };
  assert.equal(
    (await holder.service.receiveFragment(env(8), other)).errorCode,
    "INSUFFICIENT_SPACE",
  );
  free = 600;
  assert.equal(
    (await holder.service.receiveFragment(env(8), other)).accepted,
    true,
  );
});

Deno.test("concurrent pushes from one sender cannot overshoot the deficit tolerance", async () => {
  const net = new MiniNetwork({ deficitToleranceBytes: 1000 });
  const holder = net.add("holder", "10.0.0.1");
  const sender = { id: "sender", addresses: [] };
  const data = testBytes(8000, 11);
  const acks = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) => holder.service.receiveFragment(envelopeFor(data, i), sender),
    ),
  );
  assert.equal(acks.filter((a) => a.accepted).length, 2);
  assert.equal(await holder.ledger.balance("sender"), -1000);
});

Deno.test("onFetch returns held shards, null otherwise, and rejects bad ids", async () => {
  const net = new MiniNetwork();
  const holder = net.add("holder", "10.0.0.1");
  const e = envelopeFor(testBytes(300, 12));
  await holder.service.receiveFragment(e, { id: "s", addresses: [] });
  const from = { id: "x", addresses: [] };
  assert.deepEqual(
    await holder.service.onFetch(
      { tesseraId: e.fragment.tesseraId, index: 0 },
      from,
    ),
    e.data,
  );
  assert.equal(
    await holder.service.onFetch(
      { tesseraId: e.fragment.tesseraId, index: 1 },
      from,
    ),
    null,
  );
  await assert.rejects(
    holder.service.onFetch({ tesseraId: "zz", index: 0 }, from),
    (err) => isTesserasError(err, "INVALID_ID"),
  );
});

Deno.test("onVerifiedFetch serves a held shard with the outboard kept beside it and its recorded checksum", async () => {
  const net = new MiniNetwork();
  const holder = net.add("holder", "10.0.0.1");
  // Large enough for shards of several 8 KiB groups (an outboard).
  const e = envelopeFor(testBytes(2_000_000, 14));
  assert.ok(e.data.length > 2 * 8192, `${e.data.length}-byte shard`);
  await holder.service.receiveFragment(e, { id: "s", addresses: [] });
  const from = { id: "x", addresses: [] };
  const ref = { tesseraId: e.fragment.tesseraId, index: 0 };
  const served = await holder.service.onVerifiedFetch(ref, from);
  assert.ok(served);
  assert.deepEqual(served.data, e.data);
  assert.equal(served.checksum, e.fragment.checksum);
  assert.deepEqual(
    served.outboard,
    await holder.fragments.readOutboard(ref.tesseraId, 0),
  );
  assert.deepEqual(served.outboard, outboardOf(e.data).outboard);
  // The stored outboard, not one built from the bytes served: bytes that
  // rotted since still go out under the outboard they were stored with.
  holder.fragments.corrupt(ref.tesseraId, 0, 9000);
  const rotten = await holder.service.onVerifiedFetch(ref, from);
  assert.deepEqual(rotten?.outboard, served.outboard);
  assert.notDeepEqual(rotten?.outboard, outboardOf(rotten!.data).outboard);
  assert.equal(
    await holder.service.onVerifiedFetch({ ...ref, index: 1 }, from),
    null,
  );
  await assert.rejects(
    holder.service.onVerifiedFetch({ tesseraId: "zz", index: 0 }, from),
    (err) => isTesserasError(err, "INVALID_ID"),
  );
});

Deno.test("concurrent duplicate pushes of one shard are stored and credited once", async () => {
  const net = new MiniNetwork();
  const holder = net.add("holder", "10.0.0.1");
  const sender = { id: "sender", addresses: [] };
  const e = envelopeFor(testBytes(4000, 13), 2);
  const acks = await Promise.all(
    [1, 2, 3].map(() => holder.service.receiveFragment(e, sender)),
  );
  assert.deepEqual(acks.map((a) => a.accepted), [true, true, true]);
  assert.equal(await holder.ledger.balance("sender"), -e.data.length);
});
