import assert from "node:assert/strict";
import { multiaddr } from "@multiformats/multiaddr";
import { Uint8ArrayList } from "uint8arraylist";
import {
  DEFAULT_NET_LIMITS,
  firstIp,
  ipOfMultiaddr,
  MAX_SHARD_BYTES,
  MAX_SHARD_COUNT,
  netLimits,
  NetMetrics,
  PeerRateLimiter,
  toPeerInfo,
} from "../../lib/net/mod.ts";
import {
  frameOptions,
  plainBytes,
  wireErrorCode,
  wireErrorMessage,
} from "../../lib/net/protocol/exchange.ts";

Deno.test("token bucket: burst, refill, per peer", () => {
  let now = 0;
  const limiter = new PeerRateLimiter({ capacity: 2, refillPerSecond: 4 }, {
    now: () => now,
  });
  assert.deepEqual(
    [limiter.take("a"), limiter.take("a"), limiter.take("a")],
    [true, true, false],
  );
  assert.equal(limiter.take("b"), true);
  now += 250; // one token back
  assert.deepEqual([limiter.take("a"), limiter.take("a")], [true, false]);
  now += 10_000; // refills up to capacity only
  assert.deepEqual(
    [limiter.take("a"), limiter.take("a"), limiter.take("a")],
    [true, true, false],
  );
  assert.equal(limiter.size, 2);
});

Deno.test("peer info: observed IP first, then the first IP of the addresses", () => {
  assert.equal(
    ipOfMultiaddr(multiaddr("/ip4/127.0.3.1/tcp/4001")),
    "127.0.3.1",
  );
  assert.equal(ipOfMultiaddr(multiaddr("/ip6/::1/tcp/4001")), "::1");
  assert.equal(ipOfMultiaddr(multiaddr("/dns4/example.org/tcp/1")), undefined);
  assert.equal(ipOfMultiaddr(multiaddr("/memory/x")), undefined);
  const addrs = [multiaddr("/memory/x"), multiaddr("/ip4/10.1.2.3/tcp/1")];
  assert.equal(firstIp(addrs), "10.1.2.3");
  assert.equal(
    firstIp(addrs, multiaddr("/ip4/198.51.100.7/tcp/9")),
    "198.51.100.7",
  );
  assert.deepEqual(toPeerInfo("p", addrs), {
    id: "p",
    addresses: ["/memory/x", "/ip4/10.1.2.3/tcp/1"],
    ip: "10.1.2.3",
  });
  assert.deepEqual(toPeerInfo("q", []), { id: "q", addresses: [] });
  assert.deepEqual(
    toPeerInfo("r", addrs, { observed: multiaddr("/ip4/198.51.100.7/tcp/9") }),
    {
      id: "r",
      addresses: ["/memory/x", "/ip4/10.1.2.3/tcp/1"],
      ip: "198.51.100.7",
    },
  );
});

Deno.test("limits: a whole Large shard fits a replicate frame and a fetch reply", () => {
  assert.equal(MAX_SHARD_COUNT, 72);
  assert.equal(MAX_SHARD_BYTES, 22_369_622);
  assert.ok(DEFAULT_NET_LIMITS.replicate.maxRequestBytes >= 32 * 1024 * 1024);
  assert.ok(DEFAULT_NET_LIMITS.fetch.maxResponseBytes >= 32 * 1024 * 1024);
  assert.equal(DEFAULT_NET_LIMITS.attest.maxRequestBytes, 4096);
  const tuned = netLimits({ fetch: { readTimeoutMs: 5 } });
  assert.equal(tuned.fetch.readTimeoutMs, 5);
  assert.equal(
    tuned.fetch.maxResponseBytes,
    DEFAULT_NET_LIMITS.fetch.maxResponseBytes,
  );
  assert.deepEqual(tuned.replicate, DEFAULT_NET_LIMITS.replicate);
});

Deno.test("length prefix decoder: complete, incomplete, too long", () => {
  const opts = frameOptions(4096); // 2-byte varints at most
  assert.equal(opts.maxLengthLength, 2);
  assert.equal(opts.lengthDecoder(new Uint8ArrayList(new Uint8Array([5]))), 5);
  assert.equal(
    opts.lengthDecoder(new Uint8ArrayList(new Uint8Array([0x80, 0x20]))),
    4096,
  );
  assert.throws(
    () => opts.lengthDecoder(new Uint8ArrayList(new Uint8Array([0x80]))),
    RangeError,
  );
  assert.throws(
    () => opts.lengthDecoder(new Uint8ArrayList(new Uint8Array([0x80, 0x80]))),
    (e: Error) => e.name === "InvalidDataLengthLengthError",
  );
});

Deno.test("wire error codes and messages are sanitised", () => {
  assert.equal(wireErrorCode("DEFICIT_EXCEEDED"), "DEFICIT_EXCEEDED");
  assert.equal(wireErrorCode("rm -rf"), "PROTOCOL_ERROR");
  assert.equal(wireErrorMessage("a\nb\u0007c"), "a?b?c");
  assert.equal(wireErrorMessage("x".repeat(1000)).length, 500);
  const view = plainBytes(new Uint8Array([1, 2, 3]).subarray(1));
  assert.equal(view.constructor, Uint8Array);
  assert.deepEqual(view, new Uint8Array([2, 3]));
});

Deno.test("metrics count per protocol and snapshot copies", () => {
  const m = new NetMetrics();
  m.count("replicate", "inbound");
  m.count("replicate", "inbound");
  m.count("ping", "outboundErrors");
  const snap = m.snapshot();
  assert.equal(snap.replicate.inbound, 2);
  assert.equal(snap.ping.outboundErrors, 1);
  assert.equal(snap.fetch.inbound, 0);
  snap.replicate.inbound = 99;
  assert.equal(m.snapshot().replicate.inbound, 2);
});
