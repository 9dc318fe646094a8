/**
 * The plain libp2p client pattern against every early refusal and error
 * path: send the whole request, half-close, then read until the stream
 * ends (`stream.send(bytes); await stream.close(); for await (… of
 * stream)`). The client must get the error reply and then the end of the
 * stream promptly. Before the fix, a refusal sent right after protocol
 * negotiation (rate limit, busy) arrived with the server's FIN before the
 * client's `dialProtocol` resolved, and the client's read loop never
 * ended, not even after `stream.abort()`.
 */
import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  ATTEST_PROTOCOL,
  DEFAULT_REPLICATE_RATE_LIMIT,
  FETCH_PROTOCOL,
  Libp2pDhtPort,
  REPLICATE_PROTOCOL,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import { envelopeToWire } from "../../lib/net/protocol/replicate.ts";
import {
  WireAttestRequest,
  WireAttestResponse,
} from "../../lib/net/protocol/pb/attest.ts";
import {
  WireFetchRequest,
  WireFetchResponse,
} from "../../lib/net/protocol/pb/fetch.ts";
import { WireReplicateAck } from "../../lib/net/protocol/pb/replicate.ts";
import {
  smallEnvelope,
  startNode,
  stopAll,
  StubHandlers,
  waitFor,
} from "./helpers.ts";
import { concat, frame, varint } from "./frames.ts";

/** A stream still open after this long has hung: the test fails. */
const SAFETY_MS = 5_000;

/** The payload of the one and only frame in `bytes`. */
function onlyFrame(bytes: Uint8Array): Uint8Array {
  let len = 0;
  let scale = 1;
  let i = 0;
  for (; i < bytes.length; i++) {
    len += (bytes[i] & 0x7f) * scale;
    scale *= 128;
    if (bytes[i] < 0x80) break;
  }
  assert.equal(bytes.length, i + 1 + len, "exactly one complete frame");
  return bytes.subarray(i + 1);
}

interface Exchange {
  /** Every byte the server sent. */
  readonly bytes: Uint8Array;
  /** How the read loop ended. */
  readonly ended: "eof" | "reset";
  /** From just after the dial to the end of the read loop, ms. */
  readonly ms: number;
}

/**
 * The exact client pattern: send, half-close (unless `close: false`), read
 * to the end. Throws instead of hanging when the loop has not ended after
 * `SAFETY_MS`.
 */
async function sendCloseRead(
  client: TesserasNode,
  server: TesserasNode,
  protocol: string,
  bytes: Uint8Array,
  options: { close?: boolean } = {},
): Promise<Exchange> {
  const stream = await client.libp2p.dialProtocol(
    server.libp2p.peerId,
    protocol,
  );
  const started = performance.now();
  const chunks: Uint8Array[] = [];
  let ended: Exchange["ended"] = "eof";
  const exchange = (async () => {
    try {
      stream.send(bytes);
      if (options.close ?? true) await stream.close();
      for await (const chunk of stream) chunks.push(chunk.subarray());
    } catch {
      ended = "reset";
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    exchange.then(() => "ended" as const),
    new Promise<"hung">((
      r,
    ) => (timer = setTimeout(() => r("hung"), SAFETY_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === "hung") {
    stream.abort(new Error("hung"));
    throw new Error(
      `${protocol}: read loop still running after ${SAFETY_MS} ms (client stream ${stream.status}, ${stream.readBufferLength} bytes unread)`,
    );
  }
  return { bytes: concat(...chunks), ended, ms: performance.now() - started };
}

/** Streams of `protocol` the server still has open. */
function openServerStreams(server: TesserasNode, protocol: string): number {
  return server.libp2p.getConnections()
    .flatMap((c) => c.streams)
    .filter((s) => s.protocol === protocol && s.status === "open").length;
}

function ackOf(res: Exchange) {
  return WireReplicateAck.decode(onlyFrame(res.bytes));
}

Deno.test("half-closing client: the 33rd rapid replicate gets RATE_LIMITED and the end of the stream", async () => {
  const server = await startNode(64, {
    // The default burst; the refill is slowed so the count is exact on a
    // loaded machine.
    replicateRateLimit: { ...DEFAULT_REPLICATE_RATE_LIMIT, refillPerSecond: 0 },
  });
  const stub = new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(65);
  try {
    await client.connect(server.multiaddrs()[0]);
    const request = frame(
      envelopeToWire(await smallEnvelope(new Uint8Array(64).fill(5)))
        .subarray(),
    );
    const results: Exchange[] = [];
    for (let i = 0; i < 33; i++) {
      results.push(
        await sendCloseRead(client, server, REPLICATE_PROTOCOL, request),
      );
      assert.equal(openServerStreams(server, REPLICATE_PROTOCOL), 0);
    }
    const acks = results.map(ackOf);
    assert.deepEqual(acks.slice(0, 32).map((a) => a.accepted), [
      ...new Array(32).fill(true),
    ]);
    assert.equal(acks[32].accepted, false);
    assert.equal(acks[32].errorCode, "RATE_LIMITED");
    assert.deepEqual(results.map((r) => r.ended), new Array(33).fill("eof"));
    // Well under the 2 s linger: the stream ended on the client's FIN.
    const slowest = Math.max(...results.map((r) => r.ms));
    assert.ok(slowest < 1_000, `slowest exchange took ${slowest} ms`);

    // A refused request larger than the stream window (1 MiB): the server
    // drains it so the client's close() completes, then answers and ends.
    const large = frame(
      envelopeToWire(await smallEnvelope(new Uint8Array(1024 * 1024)))
        .subarray(),
    );
    const big = await sendCloseRead(client, server, REPLICATE_PROTOCOL, large);
    assert.equal(ackOf(big).errorCode, "RATE_LIMITED");
    assert.equal(big.ended, "eof");
    assert.ok(big.ms < 1_000, `large refused request took ${big.ms} ms`);
    assert.equal(openServerStreams(server, REPLICATE_PROTOCOL), 0);

    assert.equal(stub.calls.length, 32);
    assert.equal(server.counters().replicate.inboundRateLimited, 2);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("half-closing client: a busy refusal (concurrency gate) arrives and the stream ends", async () => {
  const server = await startNode(66, {
    limits: { fetch: { maxConcurrent: 1 } },
  });
  const stub = new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(67);
  try {
    await client.connect(server.multiaddrs()[0]);
    stub.delayMs = 500;
    const shard = { tesseraId: "00".repeat(32), index: 0 };
    let slowDone = false;
    // Settled into a value at once, so a failure below is not reported as
    // an unhandled rejection.
    const slow = new Libp2pDhtPort(client).fetch(server.peerId, shard)
      .then((data) => data, (err: unknown) => err)
      .finally(() => (slowDone = true));
    await waitFor(() => stub.calls.length === 1, "the slow fetch to start");
    const busy = await sendCloseRead(
      client,
      server,
      FETCH_PROTOCOL,
      frame(WireFetchRequest.encode(shard)),
    );
    // Answered and ended while the slow request still holds the slot.
    assert.equal(slowDone, false);
    const res = WireFetchResponse.decode(onlyFrame(busy.bytes));
    assert.equal(res.found, false);
    assert.equal(res.errorCode, "RATE_LIMITED");
    assert.match(res.errorMessage, /^busy: 1 fetch requests in progress/);
    assert.equal(busy.ended, "eof");
    assert.ok(busy.ms < 400, `busy refusal took ${busy.ms} ms`);
    const slowOutcome = await slow;
    assert.ok(isTesserasError(slowOutcome, "NOT_FOUND"), String(slowOutcome));
    assert.equal(server.counters().fetch.inboundRateLimited, 1);
    assert.equal(stub.calls.length, 1);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("half-closing client: parse failures, oversize prefixes and truncated frames get their error and the end", async () => {
  const server = await startNode(68);
  const stub = new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(69);
  try {
    await client.connect(server.multiaddrs()[0]);
    const good = await smallEnvelope(new Uint8Array(64).fill(9));
    const badId = envelopeToWire({
      ...good,
      fragment: { ...good.fragment, tesseraId: "../../etc/passwd" },
    }).subarray();
    const cases: Array<[string, Uint8Array, string]> = [
      [REPLICATE_PROTOCOL, frame(badId), "INVALID_ID"],
      [
        REPLICATE_PROTOCOL,
        frame(new Uint8Array([0xff, 0xff, 0xff])),
        "INVALID_INPUT",
      ],
      [
        REPLICATE_PROTOCOL,
        concat(varint(2 ** 40), new Uint8Array(16)),
        "TOO_LARGE",
      ],
      [REPLICATE_PROTOCOL, new Uint8Array(20).fill(0x80), "TOO_LARGE"],
      [
        REPLICATE_PROTOCOL,
        concat(varint(100), new Uint8Array(10)),
        "PROTOCOL_ERROR",
      ],
      [
        ATTEST_PROTOCOL,
        frame(
          WireAttestRequest.encode({
            tesseraId: "a/b",
            nonce: new Uint8Array(32),
            indices: [],
          }),
        ),
        "INVALID_ID",
      ],
      [
        ATTEST_PROTOCOL,
        concat(varint(1024 * 1024), new Uint8Array(8)),
        "TOO_LARGE",
      ],
      [
        FETCH_PROTOCOL,
        frame(WireFetchRequest.encode({ tesseraId: "..", index: 0 })),
        "INVALID_ID",
      ],
      [FETCH_PROTOCOL, new Uint8Array(0), "PROTOCOL_ERROR"],
    ];
    for (const [protocol, bytes, code] of cases) {
      const res = await sendCloseRead(client, server, protocol, bytes);
      const payload = onlyFrame(res.bytes);
      const got = protocol === REPLICATE_PROTOCOL
        ? WireReplicateAck.decode(payload).errorCode
        : protocol === ATTEST_PROTOCOL
        ? WireAttestResponse.decode(payload).errorCode
        : WireFetchResponse.decode(payload).errorCode;
      assert.equal(got, code, `${protocol} ${bytes.length} bytes`);
      assert.equal(res.ended, "eof", `${protocol} ${code}`);
      assert.ok(res.ms < 1_000, `${protocol} ${code} took ${res.ms} ms`);
      assert.equal(openServerStreams(server, protocol), 0);
    }
    assert.equal(stub.calls.length, 0);
  } finally {
    await stopAll([server, client]);
  }
});

Deno.test("a refused peer that keeps sending is reset at once; one that never half-closes, after the linger", async () => {
  const server = await startNode(70, {
    replicateRateLimit: { capacity: 0, refillPerSecond: 0 },
    limits: { replicate: { maxRequestBytes: 64 * 1024, lingerMs: 1_000 } },
  });
  server.setInboundHandlers(new StubHandlers(server.identity));
  const client = await startNode(71);
  try {
    await client.connect(server.multiaddrs()[0]);
    // Three frames' worth without ever half-closing: past the one-frame
    // allowance, reset long before the linger.
    const flood = await sendCloseRead(
      client,
      server,
      REPLICATE_PROTOCOL,
      new Uint8Array(3 * 64 * 1024 + 100),
      { close: false },
    );
    assert.equal(ackOf(flood).errorCode, "RATE_LIMITED");
    assert.equal(flood.ended, "reset");
    assert.ok(flood.ms < 700, `flood reset after ${flood.ms} ms`);
    assert.equal(openServerStreams(server, REPLICATE_PROTOCOL), 0);

    // A few bytes, then silence: the reply, then a reset at the linger.
    const stall = await sendCloseRead(
      client,
      server,
      REPLICATE_PROTOCOL,
      new Uint8Array(10),
      { close: false },
    );
    assert.equal(ackOf(stall).errorCode, "RATE_LIMITED");
    assert.equal(stall.ended, "reset");
    assert.ok(
      stall.ms >= 900 && stall.ms < 2_500,
      `stalled peer reset after ${stall.ms} ms`,
    );
    assert.equal(openServerStreams(server, REPLICATE_PROTOCOL), 0);
  } finally {
    await stopAll([server, client]);
  }
});
