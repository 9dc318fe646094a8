/**
 * Hostile input over real streams: truncated frames, random bytes, an
 * oversize length prefix, an endless length prefix, a stalled sender and
 * well-formed protobuf with absurd values. The node must answer each with
 * an error reply (or reset the stream), never call the handlers with bad
 * input, and keep answering honest requests.
 */
import assert from "node:assert/strict";
import type { TesserasNode } from "../../lib/net/mod.ts";
import {
  ATTEST_PROTOCOL,
  FETCH_PROTOCOL,
  Libp2pDhtPort,
  REPLICATE_PROTOCOL,
} from "../../lib/net/mod.ts";
import {
  WireAttestRequest,
  WireAttestResponse,
} from "../../lib/net/protocol/pb/attest.ts";
import {
  WireFetchRequest,
  WireFetchResponse,
} from "../../lib/net/protocol/pb/fetch.ts";
import {
  WireFragmentEnvelope,
  WireReplicateAck,
} from "../../lib/net/protocol/pb/replicate.ts";
import { smallEnvelope, startNode, stopAll, StubHandlers } from "./helpers.ts";
import { concat, frame, varint } from "./frames.ts";

interface RawResult {
  /** Every byte the server sent back. */
  readonly bytes: Uint8Array;
  /** How the stream ended. */
  readonly ended: "eof" | "reset";
}

/** Send raw bytes on a fresh stream; collect whatever comes back. */
async function raw(
  client: TesserasNode,
  server: TesserasNode,
  protocol: string,
  bytes: Uint8Array,
  options: { closeWrite?: boolean } = {},
): Promise<RawResult> {
  const stream = await client.libp2p.dialProtocol(
    server.libp2p.peerId,
    protocol,
  );
  const chunks: Uint8Array[] = [];
  let ended: RawResult["ended"] = "eof";
  try {
    if (bytes.length > 0) stream.send(bytes);
    if (options.closeWrite ?? true) await stream.close();
    for await (const chunk of stream) chunks.push(chunk.subarray());
  } catch {
    // The server may reset a hostile stream at any point.
    ended = "reset";
  }
  if (stream.status === "open") await stream.close().catch(() => {});
  return { bytes: concat(...chunks), ended };
}

/** The error code in a reply of `protocol`, or null when none was sent. */
function replyCode(protocol: string, bytes: Uint8Array): string | null {
  if (bytes.length === 0) return null;
  let len = 0;
  let scale = 1;
  let i = 0;
  for (; i < bytes.length; i++) {
    len += (bytes[i] & 0x7f) * scale;
    scale *= 128;
    if (bytes[i] < 0x80) break;
  }
  const payload = bytes.subarray(i + 1, i + 1 + len);
  assert.equal(payload.length, len, "reply frame is complete");
  switch (protocol) {
    case REPLICATE_PROTOCOL: {
      const ack = WireReplicateAck.decode(payload);
      assert.equal(ack.accepted, false);
      return ack.errorCode;
    }
    case ATTEST_PROTOCOL: {
      const res = WireAttestResponse.decode(payload);
      assert.equal(res.attestation, undefined);
      return res.errorCode;
    }
    default: {
      const res = WireFetchResponse.decode(payload);
      assert.equal(res.found, false);
      return res.errorCode;
    }
  }
}

const PROTOCOLS = [REPLICATE_PROTOCOL, ATTEST_PROTOCOL, FETCH_PROTOCOL];

async function setup() {
  const server = await startNode(61, {
    // A peer that never half-closes is reset this long after its reply.
    limits: {
      replicate: { readTimeoutMs: 300, lingerMs: 300 },
      attest: { readTimeoutMs: 300, lingerMs: 300 },
      fetch: { readTimeoutMs: 300, lingerMs: 300 },
    },
    replicateRateLimit: false,
  });
  const stub = new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(62);
  await client.connect(server.multiaddrs()[0]);
  return { server, client, stub };
}

/** The server still does honest work. */
async function assertStillAnswers(
  client: TesserasNode,
  server: TesserasNode,
): Promise<void> {
  const dht = new Libp2pDhtPort(client);
  const envelope = await smallEnvelope(new Uint8Array([1, 2, 3, 4]));
  const ack = await dht.replicate(server.peerId, envelope);
  assert.deepEqual(ack, { accepted: true, heldIndices: [0] });
  assert.deepEqual(
    await dht.fetch(server.peerId, {
      tesseraId: envelope.fragment.tesseraId,
      index: 0,
    }),
    new Uint8Array([1, 2, 3, 4]),
  );
}

Deno.test("truncated frames get PROTOCOL_ERROR on every protocol", async () => {
  const { server, client, stub } = await setup();
  try {
    for (const protocol of PROTOCOLS) {
      const truncated = concat(varint(100), new Uint8Array(10).fill(7));
      const res = await raw(client, server, protocol, truncated);
      assert.equal(replyCode(protocol, res.bytes), "PROTOCOL_ERROR", protocol);
      // A stream closed before any byte is a truncated frame too.
      const empty = await raw(client, server, protocol, new Uint8Array(0));
      assert.equal(replyCode(protocol, empty.bytes), "PROTOCOL_ERROR");
    }
    assert.equal(stub.calls.length, 0);
    const c = server.counters();
    assert.deepEqual(
      [
        c.replicate.inboundErrors,
        c.attest.inboundErrors,
        c.fetch.inboundErrors,
      ],
      [2, 2, 2],
    );
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("oversize and endless length prefixes get TOO_LARGE without reading the body", async () => {
  const { server, client, stub } = await setup();
  try {
    for (const protocol of PROTOCOLS) {
      // 100 MiB declared, only a few bytes sent: refused on the prefix.
      const huge = concat(varint(100 * 1024 * 1024), new Uint8Array(16));
      const res = await raw(client, server, protocol, huge, {
        closeWrite: false,
      });
      assert.equal(replyCode(protocol, res.bytes), "TOO_LARGE", protocol);
      // It never half-closed: reset after the linger.
      assert.equal(res.ended, "reset");
      // 0x80 forever: a varint that never ends.
      const endless = new Uint8Array(4096).fill(0x80);
      const res2 = await raw(client, server, protocol, endless, {
        closeWrite: false,
      });
      assert.equal(replyCode(protocol, res2.bytes), "TOO_LARGE", protocol);
      assert.equal(res2.ended, "reset");
      // The same with a half-close: the reply, then a clean end.
      const res3 = await raw(client, server, protocol, huge);
      assert.equal(replyCode(protocol, res3.bytes), "TOO_LARGE", protocol);
      assert.equal(res3.ended, "eof");
    }
    // attest and fetch requests are small: 1 MiB is already too much.
    for (const protocol of [ATTEST_PROTOCOL, FETCH_PROTOCOL]) {
      const res = await raw(
        client,
        server,
        protocol,
        concat(varint(1024 * 1024), new Uint8Array(8)),
        { closeWrite: false },
      );
      assert.equal(replyCode(protocol, res.bytes), "TOO_LARGE");
    }
    assert.equal(stub.calls.length, 0);
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a stalled sender gets TIMEOUT after the read limit", async () => {
  const { server, client, stub } = await setup();
  try {
    for (const protocol of PROTOCOLS) {
      const started = performance.now();
      const res = await raw(
        client,
        server,
        protocol,
        concat(varint(50), new Uint8Array(5)),
        { closeWrite: false },
      );
      const took = performance.now() - started;
      assert.equal(replyCode(protocol, res.bytes), "TIMEOUT", protocol);
      // The read limit, then the linger: the stalled peer is reset.
      assert.equal(res.ended, "reset");
      assert.ok(took >= 550 && took < 2_500, `ended after ${took} ms`);
    }
    assert.equal(stub.calls.length, 0);
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("well-formed protobuf with absurd values is refused before the handlers", async () => {
  const { server, client, stub } = await setup();
  try {
    const good = await smallEnvelope(new Uint8Array(64).fill(9));
    const wire = (e: typeof good) => ({
      fragment: { ...e.fragment },
      plan: { ...e.plan },
      originalSize: e.originalSize,
      fragmentSize: e.fragmentSize,
      data: e.data as Uint8Array<ArrayBuffer>,
    });
    const base = wire(good);
    const replicateCases: Array<
      [string, Parameters<typeof WireFragmentEnvelope.encode>[0]]
    > = [
      ["INVALID_ID", {
        ...base,
        fragment: { ...base.fragment, tesseraId: "../../etc/passwd" },
      }],
      ["INVALID_ID", {
        ...base,
        fragment: { ...base.fragment, tesseraId: "AB".repeat(32) },
      }],
      ["INVALID_INPUT", { ...base, fragment: { ...base.fragment, index: 1 } }],
      ["INVALID_INPUT", { ...base, fragment: { ...base.fragment, index: -1 } }],
      ["INVALID_INPUT", {
        ...base,
        fragment: { ...base.fragment, shardCount: 24 },
      }],
      ["INVALID_INPUT", { ...base, plan: { ...base.plan, size: -5 } }],
      ["TOO_LARGE", { ...base, plan: { ...base.plan, size: 2 ** 40 } }],
      ["INVALID_INPUT", { ...base, plan: { ...base.plan, tier: "huge" } }],
      ["INVALID_INPUT", { ...base, plan: { ...base.plan, tier: "__proto__" } }],
      ["INVALID_INPUT", { ...base, plan: { ...base.plan, dataShards: 0 } }],
      ["INVALID_INPUT", { ...base, plan: { ...base.plan, shardSize: 1 } }],
      ["INVALID_INPUT", { ...base, originalSize: 65 }],
      ["INVALID_INPUT", { ...base, fragmentSize: -64 }],
      ["INVALID_INPUT", { ...base, fragmentSize: 2 ** 52 }],
      ["INVALID_INPUT", { ...base, data: new Uint8Array(63) }],
      ["INVALID_INPUT", { ...base, fragment: undefined }],
      ["INVALID_INPUT", {
        ...base,
        fragment: { ...base.fragment, checksum: "x" },
      }],
    ];
    // int64 fields beyond 2^53, hand-encoded (the encoder refuses them):
    // the last occurrence of a scalar field wins.
    const hugeVarint = new Uint8Array([
      0x20, // field 4 (fragment_size), varint
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x7f,
    ]);
    const withHugeSize = concat(
      WireFragmentEnvelope.encode(base),
      hugeVarint,
    );
    const hugeRes = await raw(
      client,
      server,
      REPLICATE_PROTOCOL,
      frame(withHugeSize),
    );
    assert.equal(replyCode(REPLICATE_PROTOCOL, hugeRes.bytes), "INVALID_INPUT");
    for (const [code, msg] of replicateCases) {
      const res = await raw(
        client,
        server,
        REPLICATE_PROTOCOL,
        frame(WireFragmentEnvelope.encode(msg)),
      );
      assert.equal(
        replyCode(REPLICATE_PROTOCOL, res.bytes),
        code,
        JSON.stringify(msg, (_k, v) => v instanceof Uint8Array ? v.length : v),
      );
    }
    const attestCases: Array<
      [string, Parameters<typeof WireAttestRequest.encode>[0]]
    > = [
      ["INVALID_ID", { tesseraId: "a/b", nonce: new Uint8Array(32) }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(0),
      }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(33),
      }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(32),
        indices: [72],
      }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(32),
        indices: [-3],
      }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(32),
        indices: [1, 1],
      }],
      ["INVALID_INPUT", {
        tesseraId: "00".repeat(32),
        nonce: new Uint8Array(32),
        indices: Array.from({ length: 200 }, (_, i) => i),
      }],
    ];
    for (const [code, msg] of attestCases) {
      const res = await raw(
        client,
        server,
        ATTEST_PROTOCOL,
        frame(WireAttestRequest.encode(msg)),
      );
      assert.equal(replyCode(ATTEST_PROTOCOL, res.bytes), code);
    }
    const fetchCases: Array<
      [string, Parameters<typeof WireFetchRequest.encode>[0]]
    > = [
      ["INVALID_ID", { tesseraId: "..", index: 0 }],
      ["INVALID_ID", { tesseraId: "", index: 0 }],
      ["INVALID_INPUT", { tesseraId: "00".repeat(32), index: -1 }],
      ["INVALID_INPUT", { tesseraId: "00".repeat(32), index: 2 ** 31 - 1 }],
    ];
    for (const [code, msg] of fetchCases) {
      const res = await raw(
        client,
        server,
        FETCH_PROTOCOL,
        frame(WireFetchRequest.encode(msg)),
      );
      assert.equal(replyCode(FETCH_PROTOCOL, res.bytes), code);
    }
    assert.equal(stub.calls.length, 0);
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("random bytes on every protocol: error replies or resets, never a crash", async () => {
  const { server, client, stub } = await setup();
  try {
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const outcomes = new Map<string, number>();
    for (const protocol of PROTOCOLS) {
      let batch = [];
      for (let i = 0; i < 60; i++) {
        // Stay within the per-connection stream limit (4 for replicate), so
        // every frame reaches the parser instead of being refused by libp2p.
        if (batch.length === 4) {
          await Promise.all(batch);
          batch = [];
        }
        const bytes = new Uint8Array(1 + (next() % 300));
        for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
        // A short, honest-looking length prefix half of the time, so the
        // payload reaches the protobuf decoder.
        if (i % 2 === 0) bytes[0] = Math.min(bytes.length - 1, 127);
        batch.push(
          raw(client, server, protocol, bytes).then((res) => {
            const code = res.bytes.length === 0
              ? `reset:${res.ended}`
              : replyCode(protocol, res.bytes) ?? "none";
            outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
          }),
        );
      }
      await Promise.all(batch);
    }
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 180);
    for (const code of outcomes.keys()) {
      assert.ok(
        [
          "INVALID_INPUT",
          "INVALID_ID",
          "PROTOCOL_ERROR",
          "TOO_LARGE",
          "TIMEOUT",
        ]
          .includes(code),
        `unexpected outcome ${code}`,
      );
    }
    assert.equal(stub.calls.length, 0);
    const c = server.counters();
    assert.equal(
      c.replicate.inboundErrors + c.attest.inboundErrors +
        c.fetch.inboundErrors,
      180,
    );
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a peer vanishing in the middle of a large transfer leaves the server intact", async () => {
  const { server, client, stub } = await setup();
  const other = await startNode(63);
  try {
    const envelope = await smallEnvelope(new Uint8Array(4 * 1024 * 1024 - 1));
    await other.connect(server.multiaddrs()[0]);
    const sending = new Libp2pDhtPort(other).replicate(server.peerId, envelope)
      .then(() => "sent", (e) => (e as { code?: string }).code ?? String(e));
    await new Promise((r) => setTimeout(r, 15));
    await other.stop();
    const outcome = await sending;
    assert.ok(
      ["PROTOCOL_ERROR", "UNREACHABLE", "TIMEOUT", "sent"].includes(outcome),
      outcome,
    );
    // Also: a raw stream reset after half a frame.
    const stream = await client.libp2p.dialProtocol(
      server.libp2p.peerId,
      REPLICATE_PROTOCOL,
    );
    stream.send(concat(varint(1_000_000), new Uint8Array(500_000)));
    await new Promise((r) => setTimeout(r, 20));
    stream.abort(new Error("gone"));
    await assertStillAnswers(client, server);
    // The two honest calls, plus the vanished one if it got through.
    assert.ok(stub.calls.length === 2 || stub.calls.length === 3);
  } finally {
    await stopAll([server, client, other]);
  }
});

Deno.test("streams past the per-connection limit are reset by libp2p", async () => {
  const { server, client, stub } = await setup();
  try {
    // Replicate allows 4 inbound streams per connection; open 7 that stall.
    const stalled = concat(varint(50), new Uint8Array(5));
    const results = await Promise.all(
      Array.from(
        { length: 7 },
        () =>
          raw(client, server, REPLICATE_PROTOCOL, stalled, {
            closeWrite: false,
          }).catch(() => ({ bytes: new Uint8Array(0), ended: "reset" })),
      ),
    );
    const codes = results.map((r) =>
      r.bytes.length === 0 ? "reset" : replyCode(REPLICATE_PROTOCOL, r.bytes)
    ).sort();
    assert.deepEqual(codes, [
      "TIMEOUT",
      "TIMEOUT",
      "TIMEOUT",
      "TIMEOUT",
      "reset",
      "reset",
      "reset",
    ]);
    assert.equal(server.counters().replicate.inbound, 4);
    assert.equal(stub.calls.length, 0);
    await assertStillAnswers(client, server);
  } finally {
    await stopAll([server, client]);
  }
});
