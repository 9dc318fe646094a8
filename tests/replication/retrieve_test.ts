import assert from "node:assert/strict";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

async function setup(size: number, peers: number, seed = size) {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(peers);
  const stranger = net.add("stranger", "10.98.0.1");
  const data = testBytes(size, seed);
  const report = await owner.service.putTessera(data);
  return { net, owner, stranger, report, data, id: report.tesseraId };
}

Deno.test("retrieve from our own blob without network traffic", async () => {
  const { net, owner, data, id } = await setup(4000, 30);
  const fetches = net.traffic.fetch;
  assert.deepEqual(await owner.service.retrieveTessera(id), data);
  assert.equal(net.traffic.fetch, fetches);
});

Deno.test("retrieve via the registry's holders, fetching only dataShards + hedge", async () => {
  const { net, owner, data, id, report } = await setup(4000, 30);
  const progress: number[] = [];
  const got = await owner.service.retrieveTessera(id, {
    preferLocal: false,
    hedge: 0,
    onProgress: (p) => progress.push(p.shards),
  });
  assert.deepEqual(got, data);
  assert.equal(net.traffic.fetch, 16);
  assert.deepEqual(progress, [...Array(16).keys()].map((i) => i + 1));
  // Lose 8 holders (all of the parity budget): still retrievable.
  for (const p of report.placed.slice(0, 8)) net.node(p.peerId).online = false;
  assert.deepEqual(
    await owner.service.retrieveTessera(id, { preferLocal: false }),
    data,
  );
});

Deno.test("retrieve cancels slow holders once enough verified shards are in", async () => {
  const { net, owner, data, id, report } = await setup(4000, 30);
  // Four holders are slow (real 2 s delay); hedging routes around them.
  const slow = report.placed.slice(0, 4).map((p) => p.peerId);
  for (const s of slow) net.node(s).fetchDelayMs = 2000;
  const t0 = performance.now();
  const got = await owner.service.retrieveTessera(id, {
    preferLocal: false,
    hedge: 8,
  });
  const ms = performance.now() - t0;
  assert.deepEqual(got, data);
  assert.ok(ms < 1000, `took ${ms} ms`);
});

Deno.test("retrieve skips a holder serving bad bytes and uses another", async () => {
  const { net, owner, data, id, report } = await setup(4000, 30);
  for (const p of report.placed.slice(0, 3)) {
    net.node(p.peerId).fragments.corrupt(id, p.index, 5);
  }
  assert.deepEqual(
    await owner.service.retrieveTessera(id, { preferLocal: false, hedge: 0 }),
    data,
  );
});

Deno.test("a node that never saw the tessera retrieves Small, Medium and Large by id", async () => {
  for (
    const [size, peers] of [[700, 12], [5000, 30], [20_000, 80], [
      16 * 1024,
      80,
    ]]
  ) {
    const { stranger, data, id } = await setup(size, peers);
    assert.equal(await stranger.holders.get(id), null);
    assert.deepEqual(
      await stranger.service.retrieveTessera(id),
      data,
      `size ${size}`,
    );
  }
});

Deno.test("a stranger retrieves files ending in zeros (size found by the id)", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const stranger = net.add("stranger", "10.98.0.1");
  const data = new Uint8Array(5000);
  data.set(testBytes(3000, 61));
  const report = await owner.service.putTessera(data);
  const got = await stranger.service.retrieveTessera(report.tesseraId);
  assert.equal(got.length, 5000);
  assert.equal(blake3Hex(got), report.tesseraId);
});

Deno.test("a stranger retrieves after holders vanished and repair moved shards", async () => {
  const { net, owner, stranger, data, id, report } = await setup(5000, 40);
  // The stranger may hold a shard too: only other holders vanish (on the
  // simulator's network a node that is down cannot ask either).
  const holders = report.placed.filter((p) => p.peerId !== stranger.id);
  for (const p of holders.slice(0, 6)) net.node(p.peerId).online = false;
  await owner.service.repairTessera(id);
  for (const p of holders.slice(6, 10)) net.node(p.peerId).online = false;
  assert.deepEqual(await stranger.service.retrieveTessera(id), data);
});

Deno.test("retrieve fails clearly when too few shards survive or nobody has it", async () => {
  const { net, owner, stranger, id, report } = await setup(4000, 30);
  for (const p of report.placed.slice(0, 9)) net.node(p.peerId).online = false;
  await assert.rejects(
    owner.service.retrieveTessera(id, { preferLocal: false }),
    (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
  );
  await assert.rejects(
    stranger.service.retrieveTessera(id),
    (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
  );
  await assert.rejects(
    stranger.service.retrieveTessera("ab".repeat(32)),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
  await assert.rejects(
    stranger.service.retrieveTessera("nope"),
    (e) => isTesserasError(e, "INVALID_ID"),
  );
});

Deno.test("retrieve honours an abort signal", async () => {
  const { net, owner, id, report } = await setup(4000, 30);
  for (const p of report.placed) net.node(p.peerId).fetchDelayMs = 500;
  const ctl = new AbortController();
  const p = owner.service.retrieveTessera(id, {
    preferLocal: false,
    signal: ctl.signal,
  });
  setTimeout(() => ctl.abort(new Error("stop")), 10);
  await assert.rejects(p, /stop/);
});
