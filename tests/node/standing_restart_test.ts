/**
 * A real daemon (in process, real SQLite file, real libp2p on loopback)
 * catches a peer that acknowledges its shard and keeps nothing, is
 * stopped, and started again on the same data directory: the ban holds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { cryptoRng, systemClock } from "../../lib/core/mod.ts";
import {
  DroppingStore,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryReciprocityLedger,
} from "../../lib/memory/mod.ts";
import {
  createTesserasNode,
  Libp2pDhtPort,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import {
  type Daemon,
  loadNodeConfig,
  startDaemon,
} from "../../lib/node/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";
import {
  openDatabase,
  SqlitePeerStandingStore,
} from "../../lib/storage/mod.ts";
import { envelopeFor } from "../replication/test_network.ts";

/** A libp2p peer whose replication service acknowledges and drops shards. */
async function dropper(): Promise<TesserasNode> {
  const node = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    listen: ["/ip4/127.0.98.1/tcp/0"],
    peerInfoMapper: "passthrough",
  });
  const ledger = new MemoryReciprocityLedger();
  node.setInboundHandlers(
    new ReplicationService({
      dht: new Libp2pDhtPort(node),
      fragments: new DroppingStore(new MemoryFragmentStore({ ledger })),
      ledger,
      blobs: new MemoryBlobStore(),
      holders: new MemoryHolderRegistry(),
      identity: node.identity,
      clock: systemClock,
      rng: cryptoRng,
    }),
  );
  await node.start();
  return node;
}

async function start(dataDir: string): Promise<Daemon> {
  const config = await loadNodeConfig(dataDir, {
    listen: ["/ip4/127.0.97.1/tcp/0"],
    api: "127.0.0.1:0",
    allowPrivateAddresses: true,
  }, { env: () => undefined });
  return await startDaemon(config);
}

Deno.test("daemon: a peer caught keeping nothing stays banned after the daemon restarts on the same data directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "tesseras-standing-" });
  const dataDir = join(root, "node");
  const client = await dropper();
  let daemon: Daemon | undefined;
  try {
    daemon = await start(dataDir);
    await client.connect(daemon.node.multiaddrs()[0]);
    const first = await daemon.service.putTessera(cryptoRng.bytes(300));
    assert.deepEqual(first.placed, []);
    assert.deepEqual(
      first.failures.map((f) => [f.peerId, f.code]),
      [[client.peerId, "NOT_STORED"]],
    );
    await daemon.stop();
    daemon = undefined;

    const db = await openDatabase(join(dataDir, "db", "tesseras.db"));
    const { liars } = await new SqlitePeerStandingStore(db).load();
    db.close();
    assert.deepEqual(liars.map((l) => [l.peerId, l.lies]), [[
      client.peerId,
      1,
    ]]);

    daemon = await start(dataDir);
    await client.connect(daemon.node.multiaddrs()[0]);
    // Not tried again...
    const second = await daemon.service.putTessera(cryptoRng.bytes(300));
    assert.deepEqual(second.failures, []);
    assert.deepEqual(second.placed, []);
    // ...and extended no credit.
    const ack = await new Libp2pDhtPort(client).replicate(
      daemon.peerId,
      envelopeFor(cryptoRng.bytes(100)),
    );
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.match(ack.reason ?? "", /failed to prove/);
  } finally {
    await daemon?.stop();
    await client.stop();
    await Deno.remove(root, { recursive: true });
  }
});
