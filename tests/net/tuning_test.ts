import assert from "node:assert/strict";
import { generateKeyPair } from "@libp2p/crypto/keys";
import {
  createTesserasNode,
  type DhtTuningOptions,
  Libp2pDhtPort,
  type TesserasNode,
  type TesserasNodeOptions,
} from "../../lib/net/mod.ts";
import { stopAll, waitFor } from "./helpers.ts";

/** The simulator's in-process settings. */
const IN_PROCESS: DhtTuningOptions = {
  alpha: 3,
  disjointPaths: 1,
  backgroundLookups: false,
  verifyNewContacts: false,
  reprocessKnownPeers: false,
};

async function memoryNode(
  options: Partial<TesserasNodeOptions> = {},
): Promise<TesserasNode> {
  const node = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    transport: "memory",
    peerInfoMapper: "passthrough",
    ...options,
  });
  await node.start();
  return node;
}

function known(node: TesserasNode) {
  return { id: node.peerId, addresses: node.multiaddrs() };
}

Deno.test("verifyNewContacts false: known peers enter the table without a dial; default pings them", async () => {
  const [a, b, trusting, checking] = [
    await memoryNode(),
    await memoryNode(),
    await memoryNode({ dht: IN_PROCESS }),
    await memoryNode({ dht: { backgroundLookups: false } }),
  ];
  try {
    assert.equal(
      await trusting.addKnownPeers([
        known(a),
        known(b),
        known(trusting), // self: skipped
        { id: "not-a-peer-id", addresses: [] }, // malformed: skipped
      ]),
      2,
    );
    assert.equal(trusting.routingTableSize(), 2);
    assert.equal(trusting.libp2p.getConnections().length, 0);

    assert.equal(await checking.addKnownPeers([known(a)], { limit: 1 }), 1);
    assert.equal(checking.routingTableSize(), 1);
    assert.deepEqual(checking.connectedPeers().map((p) => p.id), [a.peerId]);
  } finally {
    await stopAll([a, b, trusting, checking]);
  }
});

Deno.test("backgroundLookups false: no self-lookup after start, and lookups do not wait for one", async () => {
  const peer = await memoryNode();
  const quiet = await memoryNode({ dht: IN_PROCESS });
  const busy = await memoryNode({ dht: { verifyNewContacts: false } });
  try {
    await quiet.addKnownPeers([known(peer)]);
    await busy.addKnownPeers([known(peer)]);
    // kad-dht's own self-lookup runs 1 s after start and dials the table.
    await waitFor(
      () => busy.libp2p.getConnections().length > 0,
      "default self-lookup",
      5_000,
    );
    assert.equal(quiet.libp2p.getConnections().length, 0);
    const started = performance.now();
    const found = await new Libp2pDhtPort(quiet).findClosestPeers(
      "7e".repeat(32),
      5,
    );
    // `peer` answers with the one other node it met: `busy`.
    assert.deepEqual(
      new Set(found.map((p) => p.id)),
      new Set([peer.peerId, busy.peerId]),
    );
    assert.ok(performance.now() - started < 2_000);
  } finally {
    await stopAll([peer, quiet, busy]);
  }
});

Deno.test("reprocessKnownPeers false: a peer already in the table is not rediscovered by later answers", async () => {
  const discoveries = async (dht: DhtTuningOptions): Promise<number> => {
    const far = await memoryNode({ dht: IN_PROCESS });
    const middle = await memoryNode({ dht: IN_PROCESS });
    const asker = await memoryNode({ dht });
    try {
      await middle.addKnownPeers([known(far)]);
      await asker.addKnownPeers([known(middle)]);
      let seen = 0;
      // kad-dht's peer-discovery event: one per peer named in an answer.
      const dht = asker.libp2p.services.dht as unknown as EventTarget;
      dht.addEventListener("peer", (evt) => {
        const id = (evt as CustomEvent<{ id: { toString(): string } }>)
          .detail.id;
        if (id.toString() === far.peerId) seen++;
      });
      const port = new Libp2pDhtPort(asker);
      await port.findClosestPeers("3c".repeat(32), 5);
      await waitFor(() => asker.routingTableSize() === 2, "far peer added");
      await port.findClosestPeers("c3".repeat(32), 5);
      return seen;
    } finally {
      await stopAll([far, middle, asker]);
    }
  };
  assert.equal(await discoveries(IN_PROCESS), 1);
  assert.ok(
    await discoveries({ ...IN_PROCESS, reprocessKnownPeers: true }) >= 2,
  );
});

Deno.test("rereadPeerInfo false: an answering node reads each peer it names once, and names it with its address", async () => {
  const reads = async (dht: DhtTuningOptions): Promise<number> => {
    const far = await memoryNode({ dht: IN_PROCESS });
    const middle = await memoryNode({ dht });
    const asker = await memoryNode({ dht: IN_PROCESS });
    try {
      await middle.addKnownPeers([known(far)]);
      await asker.addKnownPeers([known(middle)]);
      const store = middle.libp2p.peerStore;
      const getInfo = store.getInfo.bind(store);
      let read = 0;
      store.getInfo = (id, options) => {
        if (id.toString() === far.peerId) read++;
        return getInfo(id, options);
      };
      const port = new Libp2pDhtPort(asker);
      for (const key of ["3c".repeat(32), "c3".repeat(32)]) {
        const found = await port.findClosestPeers(key, 5);
        const named = found.find((p) => p.id === far.peerId);
        assert.ok(named, `${key}: far named`);
        assert.deepEqual(
          named.addresses,
          far.multiaddrs().map((a) => a.replace(/\/p2p\/[^/]+$/, "")),
        );
      }
      return read;
    } finally {
      await stopAll([far, middle, asker]);
    }
  };
  assert.equal(await reads({ ...IN_PROCESS, rereadPeerInfo: false }), 1);
  assert.ok(await reads(IN_PROCESS) >= 2);
});

Deno.test("keepAlive false drops libp2p's connection monitor; default keeps it", async () => {
  const monitored = await memoryNode();
  const unmonitored = await memoryNode({ connections: { keepAlive: false } });
  const monitor = (n: TesserasNode) => {
    const components = (n.libp2p as unknown as {
      components: Record<string, unknown>;
    }).components;
    try {
      return components.connectionMonitor; // throws when not configured
    } catch {
      return undefined;
    }
  };
  try {
    assert.notEqual(monitor(monitored), undefined);
    assert.equal(monitor(unmonitored), undefined);
    await unmonitored.connect(monitored.multiaddrs()[0]);
    const rtt = await new Libp2pDhtPort(unmonitored).ping(monitored.peerId);
    assert.ok(rtt >= 0);
  } finally {
    await stopAll([monitored, unmonitored]);
  }
});

Deno.test("libp2p's loggers are one shared silent logger unless DEBUG is set", async () => {
  const node = await memoryNode();
  try {
    const logger = node.libp2p.logger;
    const a = logger.forComponent("libp2p:a");
    if ((Deno.env.get("DEBUG") ?? "") !== "") return; // the user asked for them
    assert.equal(a, logger.forComponent("libp2p:b"));
    assert.equal(a.newScope("x"), a);
    assert.equal(a.enabled, false);
    a("nothing %s", "printed");
    a.error("nor %s", "this");
  } finally {
    await node.stop();
  }
});
