import assert from "node:assert/strict";
import type { DhtPort } from "../../lib/core/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryManifestStore,
  MemoryReciprocityLedger,
} from "../../lib/memory/mod.ts";
import { makeContext } from "../../lib/replication/context.ts";
import { HolderAnnouncer } from "../../lib/replication/steward_announce.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

Deno.test("holders announce what they hold at their sweep; anyone finds them without the owner", async () => {
  // A DHT whose records expire unless announced again.
  const net = new MiniNetwork({}, { refreshProviders: false });
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

/** A DHT that keeps records alive itself (as kad-dht's reprovider does). */
function refreshingDht(selfId: string) {
  const announced: string[] = [];
  const withdrawn: string[] = [];
  const dht = {
    selfId,
    refreshesHolders: true,
    announceHolder(id: string) {
      announced.push(id);
      return Promise.resolve();
    },
    withdrawHolder(id: string) {
      withdrawn.push(id);
      return Promise.resolve();
    },
  } as unknown as DhtPort;
  return { dht, announced, withdrawn };
}

Deno.test("a DHT that refreshes records is told once per tessera, and told to stop once it is dropped", async () => {
  const clock = new ManualClock(0);
  const keyring = new MemoryKeyring();
  const { dht, announced, withdrawn } = refreshingDht("holder");
  const ledger = new MemoryReciprocityLedger({ now: () => clock.now() });
  const fragments = new MemoryFragmentStore({ verifyOnStore: false });
  const manifests = new MemoryManifestStore();
  const ctx = makeContext({
    dht,
    fragments,
    ledger,
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry({ now: () => clock.now() }),
    manifests,
    identity: keyring.identity("holder"),
    clock,
  });
  const [a, b, c] = ["aa", "bb", "cc"].map((x) => x.repeat(32));
  for (const id of [a, b, c]) {
    await fragments.store(
      { tesseraId: id, index: 0, shardCount: 3, checksum: "00".repeat(32) },
      new Uint8Array(10),
    );
  }
  // c has no kept manifest: nothing to steward, nothing announced.
  const signed = { bytes: new Uint8Array([1]), signature: new Uint8Array([2]) };
  await manifests.put(a, signed);
  await manifests.put(b, signed);
  const announcer = new HolderAnnouncer();
  assert.deepEqual(await announcer.announceDue(ctx), {
    announced: 2,
    failed: 0,
    withdrawn: 0,
  });
  assert.deepEqual(announced, [a, b]);
  // Days later: the DHT refreshed them, nothing to announce again.
  await clock.advance(3 * 24 * 3600 * 1000);
  assert.equal((await announcer.announceDue(ctx)).announced, 0);
  assert.deepEqual(announced, [a, b]);
  // a dropped: its refresh stops; held again later, it is announced anew.
  await fragments.delete(a);
  assert.equal((await announcer.announceDue(ctx)).withdrawn, 1);
  assert.deepEqual(withdrawn, [a]);
  await fragments.store(
    { tesseraId: a, index: 1, shardCount: 3, checksum: "00".repeat(32) },
    new Uint8Array(10),
  );
  assert.equal((await announcer.announceDue(ctx)).announced, 1);
  assert.deepEqual(announced, [a, b, a]);
});
