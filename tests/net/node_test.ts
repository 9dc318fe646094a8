import assert from "node:assert/strict";
import { toHex } from "../../lib/core/mod.ts";
import {
  ATTEST_PROTOCOL,
  FETCH_PROTOCOL,
  KAD_PROTOCOL,
  Libp2pDhtPort,
  REPLICATE_PROTOCOL,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import { loopback, startNode, stopAll, waitFor } from "./helpers.ts";

/** The true k closest of `ids` to `key` under kad's metric. */
async function trueClosest(
  node: TesserasNode,
  key: string,
  ids: string[],
  k: number,
): Promise<string[]> {
  const sha = async (b: Uint8Array) =>
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>),
    );
  const target = await sha(
    new Uint8Array(key.match(/../g)!.map((h) => parseInt(h, 16))),
  );
  const { peerIdFromString } = await import("@libp2p/peer-id");
  const scored = await Promise.all(ids.map(async (id) => {
    const d = await sha(peerIdFromString(id).toMultihash().bytes);
    for (let i = 0; i < d.length; i++) d[i] ^= target[i];
    return { id, d: toHex(d) };
  }));
  void node;
  return scored.sort((a, b) => a.d < b.d ? -1 : 1).slice(0, k).map((s) => s.id);
}

Deno.test("two nodes: connect, identify, ping, closest peers, peer callbacks", async () => {
  const seenByA: Array<[string, string, string]> = [];
  const a = await startNode(11, {
    onPeerSeen: (id, addr, info) => {
      seenByA.push([id, addr, info.source]);
    },
  });
  const b = await startNode(12);
  try {
    const addrA = a.multiaddrs();
    assert.equal(addrA.length, 1);
    assert.match(
      addrA[0],
      new RegExp(`^/ip4/127\\.0\\.11\\.1/tcp/\\d+/p2p/${a.peerId}$`),
    );

    await b.connect(addrA[0]);
    await waitFor(
      async () =>
        (await b.libp2p.peerStore.get(a.libp2p.peerId)).protocols.includes(
          REPLICATE_PROTOCOL,
        ),
      "identify",
    );
    const protocols = (await b.libp2p.peerStore.get(a.libp2p.peerId))
      .protocols;
    for (
      const p of [
        REPLICATE_PROTOCOL,
        ATTEST_PROTOCOL,
        FETCH_PROTOCOL,
        KAD_PROTOCOL,
        "/ipfs/ping/1.0.0",
        "/ipfs/id/1.0.0",
      ]
    ) {
      assert.ok(protocols.includes(p), `identify lists ${p}`);
    }

    // A sees B's connection from B's own loopback address (bound dials).
    assert.deepEqual(a.connectedPeers().map((p) => [p.id, p.ip]), [[
      b.peerId,
      loopback(12),
    ]]);
    await waitFor(
      () => seenByA.some(([, , s]) => s === "identify"),
      "identify callback",
    );
    assert.ok(
      seenByA.some(([id, addr, s]) =>
        id === b.peerId && s === "inbound" &&
        addr.startsWith("/ip4/127.0.12.1/tcp/")
      ),
    );
    assert.ok(
      seenByA.some(([id, addr, s]) =>
        id === b.peerId && s === "identify" &&
        b.multiaddrs()[0].startsWith(addr)
      ),
    );

    const dhtB = new Libp2pDhtPort(b);
    assert.equal(dhtB.selfId, b.peerId);
    const rtt = await dhtB.ping(a.peerId);
    assert.ok(Number.isFinite(rtt) && rtt >= 0);
    assert.equal(b.counters().ping.outbound, 1);
    assert.equal(b.counters().ping.outboundErrors, 0);

    await waitFor(
      () => a.routingTableSize() === 1 && b.routingTableSize() === 1,
      "routing tables",
    );
    const key = "ab".repeat(32);
    const closest = await dhtB.findClosestPeers(key, 7);
    assert.deepEqual(closest.map((p) => [p.id, p.ip]), [[
      a.peerId,
      loopback(11),
    ]]);
    assert.deepEqual(closest[0].addresses, [
      addrA[0].replace(/\/p2p\/.*$/, ""),
    ]);
    const stats = b.stats();
    assert.deepEqual(
      [stats.peerId, stats.connections, stats.connectedPeers],
      [b.peerId, 1, 1],
    );
    assert.equal(stats.routingTableSize, 1);
    assert.deepEqual(stats.multiaddrs, b.multiaddrs());
    assert.equal(stats.protocols.ping.outbound, 1);
  } finally {
    await stopAll([a, b]);
  }
  assert.equal(a.running, false);
  // Stopping twice is harmless.
  await a.stop();
});

Deno.test("ping of an unknown peer rejects UNREACHABLE; bad ids INVALID_INPUT", async () => {
  const a = await startNode(13, { connections: { dialTimeoutMs: 2_000 } });
  const b = await startNode(14);
  const bId = b.peerId;
  // No peers at all: an empty answer, immediately.
  assert.deepEqual(
    await new Libp2pDhtPort(a).findClosestPeers("00".repeat(32), 3),
    [],
  );
  await a.connect(b.multiaddrs()[0]);
  await b.stop();
  try {
    const dht = new Libp2pDhtPort(a, { pingTimeoutMs: 3_000 });
    // A knows B's address, but nothing listens there any more.
    await assert.rejects(
      dht.ping(bId),
      (e: Error & { code?: string }) => e.code === "UNREACHABLE",
    );
    await assert.rejects(
      dht.ping("nonsense"),
      (e: Error & { code?: string }) => e.code === "INVALID_INPUT",
    );
    await assert.rejects(
      dht.findClosestPeers("../etc", 3),
      (e: Error & { code?: string }) => e.code === "INVALID_ID",
    );
    assert.equal(a.counters().ping.outboundErrors, 2);
  } finally {
    await a.stop();
  }
  await assert.rejects(
    new Libp2pDhtPort(a).ping(bId),
    (e: Error & { code?: string }) => e.code === "NOT_RUNNING",
  );
});

Deno.test("ten nodes: DHT closest peers match the true closest, each with its own /24", async () => {
  const nodes: TesserasNode[] = [];
  try {
    for (let i = 0; i < 10; i++) nodes.push(await startNode(21 + i));
    const hub = nodes[0];
    // Everyone knows only the hub; the DHT must do the rest.
    await Promise.all(
      nodes.slice(1).map((n) => n.connect(hub.multiaddrs()[0])),
    );
    await waitFor(() => hub.routingTableSize() === 9, "hub routing table");
    const asker = nodes[9];
    const dht = new Libp2pDhtPort(asker);
    const key = "5a".repeat(32);
    await waitFor(
      async () => {
        const peers = await dht.findClosestPeers(key, 9);
        return peers.length === 9;
      },
      "lookup finds all nine peers",
      15_000,
    );
    const found = await dht.findClosestPeers(key, 5);
    const others = nodes.filter((n) => n !== asker).map((n) => n.peerId);
    assert.deepEqual(
      found.map((p) => p.id),
      await trueClosest(asker, key, others, 5),
    );
    const ipOf = new Map(nodes.map((n, i) => [n.peerId, loopback(21 + i)]));
    for (const p of found) assert.equal(p.ip, ipOf.get(p.id));
    assert.equal(new Set(found.map((p) => p.ip)).size, 5);
    assert.ok(asker.routingTableSize() >= 5);
  } finally {
    await stopAll(nodes);
  }
});

Deno.test("known peers are preloaded into the routing table at start", async () => {
  const a = await startNode(41);
  const b = await startNode(42, {
    knownPeers: [{ id: a.peerId, addresses: a.multiaddrs() }],
  });
  try {
    await waitFor(() => b.routingTableSize() === 1, "preloaded peer");
    const peers = await new Libp2pDhtPort(b).findClosestPeers(
      "11".repeat(32),
      3,
    );
    assert.equal(peers[0].id, a.peerId);
    assert.equal(peers[0].ip, loopback(41));
  } finally {
    await stopAll([a, b]);
  }
});

Deno.test("bootstrap multiaddrs are dialled at start", async () => {
  const boot = await startNode(43);
  const joiner = await startNode(44, { bootstrap: boot.multiaddrs() });
  try {
    await waitFor(
      () => joiner.connectedPeers().some((p) => p.id === boot.peerId),
      "bootstrap connection",
    );
    await waitFor(() => joiner.routingTableSize() === 1, "routing table");
  } finally {
    await stopAll([boot, joiner]);
  }
});
