/**
 * `transfersPerHolder`: a push keeps up to that many shards in flight to
 * each holder (more than `concurrentTransfers` in all), never more to one
 * holder; without it, `concurrentTransfers` stays the cap (SPEC §6). The
 * network is the replication tests' in-process one (real services and
 * memory stores); only the owner's replicate call is counted.
 */
import assert from "node:assert/strict";
import type { ReplicationConfig } from "../../lib/core/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

async function putCounting(config: Partial<ReplicationConfig>) {
  const net = new MiniNetwork(config);
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(8);
  const perPeer = new Map<string, number>();
  let inFlight = 0, maxInFlight = 0, maxPerPeer = 0;
  const real = owner.dht.replicate.bind(owner.dht);
  (owner.dht as { replicate: typeof real }).replicate = async (
    peer,
    ...rest
  ) => {
    inFlight++;
    perPeer.set(peer, (perPeer.get(peer) ?? 0) + 1);
    maxInFlight = Math.max(maxInFlight, inFlight);
    maxPerPeer = Math.max(maxPerPeer, perPeer.get(peer)!);
    await new Promise((r) => setTimeout(r, 2));
    try {
      return await real(peer, ...rest);
    } finally {
      inFlight--;
      perPeer.set(peer, perPeer.get(peer)! - 1);
    }
  };
  const report = await owner.service.putTessera(testBytes(4000, 9));
  return { report, maxInFlight, maxPerPeer };
}

Deno.test("transfersPerHolder 2: two shards in flight per holder, more than concurrentTransfers in all, every shard placed", async () => {
  const { report, maxInFlight, maxPerPeer } = await putCounting({
    concurrentTransfers: 4,
    transfersPerHolder: 2,
  });
  assert.equal(report.placed.length, 24);
  assert.deepEqual(report.unplaced, []);
  assert.equal(maxPerPeer, 2);
  assert.ok(maxInFlight > 4, `max in flight ${maxInFlight}`);
  assert.ok(maxInFlight <= 2 * report.peers, `max in flight ${maxInFlight}`);
});

Deno.test("transfersPerHolder 0 (default): concurrentTransfers caps the pushes in flight", async () => {
  const { report, maxInFlight } = await putCounting({ concurrentTransfers: 4 });
  assert.equal(report.placed.length, 24);
  assert.equal(maxInFlight, 4);
});
