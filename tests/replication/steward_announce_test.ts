import assert from "node:assert/strict";
import { MiniNetwork, testBytes } from "./test_network.ts";

Deno.test("holders announce what they hold at their sweep; anyone finds them without the owner", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(5000, 11));
  const holders = [...new Set(report.placed.map((p) => p.peerId))].sort();
  const stranger = net.add("stranger", "10.88.0.1");
  // Nobody has swept: no records yet.
  assert.deepEqual(await stranger.dht.findHolders!(report.tesseraId), []);
  for (const node of net.nodes.values()) await node.service.repairSweep();
  const found = (await stranger.dht.findHolders!(report.tesseraId))
    .map((p) => p.id).sort();
  // Every holder, and only holders: the owner keeps no shard of its own.
  assert.deepEqual(found, holders);
  // A second sweep within the gap announces nothing again.
  const lookups = net.traffic.find;
  for (const id of holders) await net.node(id).service.repairSweep();
  const sweepLookups = net.traffic.find - lookups;
  await net.clock.advance(13 * 3600 * 1000);
  const before = net.traffic.find;
  for (const id of holders) await net.node(id).service.repairSweep();
  // After the gap each holder announces once more (one lookup each).
  assert.equal(net.traffic.find - before, sweepLookups + holders.length);
});
