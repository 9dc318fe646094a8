import assert from "node:assert/strict";
import {
  type FragmentEnvelope,
  isTesserasError,
  TesserasError,
} from "../../lib/core/mod.ts";
import {
  Libp2pDhtPort,
  MAX_SHARD_BYTES,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import {
  loopback,
  smallEnvelope,
  startNode,
  stopAll,
  StubHandlers,
} from "./helpers.ts";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

async function pair(
  serverOptions: Parameters<typeof startNode>[1] = {},
): Promise<{
  server: TesserasNode;
  client: TesserasNode;
  stub: StubHandlers;
  dht: Libp2pDhtPort;
}> {
  const server = await startNode(51, serverOptions);
  const stub = new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(52);
  await client.connect(server.multiaddrs()[0]);
  return { server, client, stub, dht: new Libp2pDhtPort(client) };
}

Deno.test("replicate, attest and fetch: valid exchanges through the handlers", async () => {
  const { server, client, stub, dht } = await pair();
  try {
    const data = randomBytes(10_000);
    const envelope = await smallEnvelope(data);
    const tesseraId = envelope.fragment.tesseraId;

    const ack = await dht.replicate(server.peerId, envelope);
    assert.deepEqual(ack, { accepted: true, heldIndices: [0] });
    assert.deepEqual(stub.shards.get(`${tesseraId}/0`), data);
    assert.equal(stub.calls[0].from.id, client.peerId);
    assert.equal(stub.calls[0].from.ip, loopback(52));

    const nonce = randomBytes(32);
    const attestation = await dht.requestAttestation(server.peerId, {
      tesseraId,
      nonce,
    });
    assert.equal(attestation.holder, server.peerId);
    assert.equal(attestation.tesseraId, tesseraId);
    assert.deepEqual(attestation.nonce, nonce);
    assert.deepEqual(attestation.entries.map((e) => e.index), [0]);
    assert.equal(attestation.entries[0].checksum, envelope.fragment.checksum);
    assert.equal(attestation.timestamp, 1_700_000_000_000);
    assert.equal(
      await client.identity.verify(server.peerId, {
        data: (await import("../../lib/core/mod.ts")).attestationSigningBytes(
          attestation,
        ),
        signature: attestation.signature,
      }),
      true,
    );

    const fetched = await dht.fetch(server.peerId, { tesseraId, index: 0 });
    assert.deepEqual(fetched, data);

    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: "cd".repeat(32), index: 0 }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    await assert.rejects(
      dht.requestAttestation(server.peerId, {
        tesseraId: "cd".repeat(32),
        nonce,
      }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );

    const c = client.counters();
    assert.deepEqual(
      [c.replicate.outbound, c.attest.outbound, c.fetch.outbound],
      [1, 2, 2],
    );
    assert.deepEqual(
      [
        c.replicate.outboundErrors,
        c.attest.outboundErrors,
        c.fetch.outboundErrors,
      ],
      [0, 1, 0],
    );
    const s = server.counters();
    assert.deepEqual(
      [s.replicate.inbound, s.attest.inbound, s.fetch.inbound],
      [1, 2, 2],
    );
    assert.deepEqual(
      [
        s.replicate.inboundErrors,
        s.attest.inboundErrors,
        s.fetch.inboundErrors,
      ],
      [0, 1, 1],
    );
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a Large-tier shard of the maximum size crosses replicate and fetch", async () => {
  const { server, client, stub, dht } = await pair();
  try {
    const data = randomBytes(MAX_SHARD_BYTES);
    assert.equal(data.length, 22_369_622);
    const envelope: FragmentEnvelope = {
      fragment: {
        tesseraId: "e1".repeat(32),
        index: 71,
        shardCount: 72,
        checksum: "f0".repeat(32),
      },
      plan: {
        size: 1_073_741_824,
        tier: "large",
        dataShards: 48,
        parityShards: 24,
        shardCount: 72,
        shardSize: MAX_SHARD_BYTES,
      },
      originalSize: 1_073_741_824,
      fragmentSize: MAX_SHARD_BYTES,
      data,
    };
    const ack = await dht.replicate(server.peerId, envelope);
    assert.deepEqual(ack, { accepted: true, heldIndices: [71] });
    assert.equal(
      stub.shards.get(`${"e1".repeat(32)}/71`)?.length,
      MAX_SHARD_BYTES,
    );
    const back = await dht.fetch(server.peerId, {
      tesseraId: "e1".repeat(32),
      index: 71,
    });
    assert.equal(back.length, MAX_SHARD_BYTES);
    assert.deepEqual(back.subarray(0, 1000), data.subarray(0, 1000));
    assert.deepEqual(back.subarray(-1000), data.subarray(-1000));
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("handler errors become coded replies; the client sees the code", async () => {
  const { server, client, stub, dht } = await pair();
  try {
    const envelope = await smallEnvelope(randomBytes(100));
    stub.failWith = new TesserasError(
      "DEFICIT_EXCEEDED",
      "you owe us 300 MB; store our data first",
    );
    assert.deepEqual(await dht.replicate(server.peerId, envelope), {
      accepted: false,
      heldIndices: [],
      errorCode: "DEFICIT_EXCEEDED",
      reason: "you owe us 300 MB; store our data first",
    });
    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: "00".repeat(32), index: 1 }),
      (e) =>
        isTesserasError(e, "DEFICIT_EXCEEDED") &&
        e.message.includes("you owe us 300 MB"),
    );
    // Unexpected errors do not leak their message.
    stub.failWith = new Error("disk path /secret/x exploded");
    await assert.rejects(
      dht.requestAttestation(server.peerId, {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(32),
      }),
      (e) => isTesserasError(e, "INTERNAL") && !e.message.includes("secret"),
    );
    stub.failWith = undefined;
    assert.equal(
      (await dht.replicate(server.peerId, envelope)).accepted,
      true,
    );
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("without handlers a node answers NOT_RUNNING", async () => {
  const server = await startNode(53);
  const client = await startNode(54);
  try {
    await client.connect(server.multiaddrs()[0]);
    await assert.rejects(
      new Libp2pDhtPort(client).fetch(server.peerId, {
        tesseraId: "00".repeat(32),
        index: 0,
      }),
      (e) => isTesserasError(e, "NOT_RUNNING"),
    );
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("the client refuses to send malformed requests", async () => {
  const { server, client, dht } = await pair();
  try {
    const good = await smallEnvelope(randomBytes(64));
    const cases: Array<[FragmentEnvelope, string]> = [
      [{ ...good, fragmentSize: 65 }, "INVALID_INPUT"],
      [{ ...good, fragment: { ...good.fragment, index: 1 } }, "INVALID_INPUT"],
      [
        { ...good, fragment: { ...good.fragment, tesseraId: "../x" } },
        "INVALID_ID",
      ],
      [{ ...good, plan: { ...good.plan, shardSize: 63 } }, "INVALID_INPUT"],
    ];
    for (const [envelope, code] of cases) {
      await assert.rejects(
        dht.replicate(server.peerId, envelope),
        (e) => isTesserasError(e) && e.code === code,
      );
    }
    await assert.rejects(
      dht.requestAttestation(server.peerId, {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(8),
      }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: "00".repeat(32), index: 72 }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    // Nothing reached the server.
    assert.equal(server.counters().replicate.inbound, 0);
    assert.equal(client.counters().replicate.outbound, 0);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a replicate flood is throttled per peer with RATE_LIMITED", async () => {
  const { server, client, dht } = await pair({
    replicateRateLimit: { capacity: 3, refillPerSecond: 0.001 },
  });
  try {
    const envelope = await smallEnvelope(randomBytes(1000));
    const acks = [];
    for (let i = 0; i < 5; i++) {
      acks.push(await dht.replicate(server.peerId, envelope));
    }
    assert.deepEqual(acks.map((a) => a.accepted), [
      true,
      true,
      true,
      false,
      false,
    ]);
    assert.equal(acks[4].errorCode, "RATE_LIMITED");
    assert.equal(server.counters().replicate.inboundRateLimited, 2);
    // Another peer is not affected.
    const other = await startNode(55);
    try {
      await other.connect(server.multiaddrs()[0]);
      const ack = await new Libp2pDhtPort(other).replicate(
        server.peerId,
        envelope,
      );
      assert.equal(ack.accepted, true);
    } finally {
      await other.stop();
    }
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a caller's abort rejects with its reason; timeouts with TIMEOUT", async () => {
  const { server, client, stub, dht } = await pair();
  try {
    stub.delayMs = 400;
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: "00".repeat(32), index: 0 }, {
        signal: controller.signal,
      }),
      (e) => e === reason,
    );
    const impatient = await startNode(56, {
      limits: { fetch: { requestTimeoutMs: 100 } },
    });
    try {
      await impatient.connect(server.multiaddrs()[0]);
      await assert.rejects(
        new Libp2pDhtPort(impatient).fetch(server.peerId, {
          tesseraId: "00".repeat(32),
          index: 0,
        }),
        (e) => isTesserasError(e, "TIMEOUT"),
      );
    } finally {
      await impatient.stop();
    }
    // Let the slow handlers finish before the nodes stop.
    await new Promise((r) => setTimeout(r, 450));
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("inbound requests past maxConcurrent are refused RATE_LIMITED (busy)", async () => {
  const { server, client, stub, dht } = await pair({
    limits: { fetch: { maxConcurrent: 1 } },
  });
  try {
    stub.delayMs = 300;
    const shard = { tesseraId: "00".repeat(32), index: 0 };
    const [slow, busy] = await Promise.allSettled([
      dht.fetch(server.peerId, shard),
      new Promise((r) => setTimeout(r, 50)).then(() =>
        dht.fetch(server.peerId, shard)
      ),
    ]);
    assert.equal(slow.status, "rejected");
    assert.ok(
      isTesserasError((slow as PromiseRejectedResult).reason, "NOT_FOUND"),
    );
    assert.equal(busy.status, "rejected");
    const reason = (busy as PromiseRejectedResult).reason;
    assert.ok(isTesserasError(reason, "RATE_LIMITED"), String(reason));
    assert.equal(server.counters().fetch.inboundRateLimited, 1);
    assert.equal(stub.calls.length, 1);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("the memory transport carries the same protocols (simulator full-stack mode)", async () => {
  const { createTesserasNode } = await import("../../lib/net/mod.ts");
  const { generateKeyPair } = await import("@libp2p/crypto/keys");
  const a = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    transport: "memory",
    listen: ["/memory/tesseras-test-a"],
    peerInfoMapper: "passthrough",
  });
  const b = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    transport: "memory",
    peerInfoMapper: "passthrough",
  });
  await a.start();
  await b.start();
  try {
    const stub = new StubHandlers(a.identity);
    a.setInboundHandlers(stub);
    assert.match(
      a.multiaddrs()[0],
      /^\/memory\/tesseras-test-a\/p2p\/12D3KooW/,
    );
    await b.connect(a.multiaddrs()[0]);
    const dht = new Libp2pDhtPort(b);
    const envelope = await smallEnvelope(randomBytes(2048));
    assert.equal((await dht.replicate(a.peerId, envelope)).accepted, true);
    const peers = b.connectedPeers();
    assert.deepEqual(peers.map((p) => [p.id, p.ip]), [[a.peerId, undefined]]);
    // The simulator gives memory nodes virtual IPs.
    const virtual = new Libp2pDhtPort(b, {
      ipOf: (id) => id === a.peerId ? "10.0.7.1" : undefined,
    });
    const closest = await virtual.findClosestPeers("42".repeat(32), 3);
    assert.deepEqual(closest.map((p) => [p.id, p.ip]), [[
      a.peerId,
      "10.0.7.1",
    ]]);
  } finally {
    await stopAll([a, b]);
  }
});

Deno.test("a handler that never answers gets TIMEOUT and keeps its concurrency slot", async () => {
  const { server, client, stub, dht } = await pair({
    limits: { fetch: { handlerTimeoutMs: 200, maxConcurrent: 1 } },
  });
  try {
    let release = () => {};
    const hung = new Promise<void>((r) => release = r);
    stub.onFetch = async () => {
      await hung;
      return null;
    };
    const shard = { tesseraId: "00".repeat(32), index: 0 };
    await assert.rejects(
      dht.fetch(server.peerId, shard),
      (e) => isTesserasError(e, "TIMEOUT") && e.message.includes("200 ms"),
    );
    // The hung handler still holds the only slot.
    await assert.rejects(
      dht.fetch(server.peerId, shard),
      (e) => isTesserasError(e, "RATE_LIMITED"),
    );
    // Once it settles the slot is free again.
    release();
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(
      dht.fetch(server.peerId, shard),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
  } finally {
    await stopAll([server, client]);
  }
});
