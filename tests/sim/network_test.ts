import assert from "node:assert/strict";
import type {
  Attestation,
  AttestRequest,
  FragmentEnvelope,
  InboundHandlers,
  PeerInfo,
  ReplicateAck,
  ShardRef,
} from "../../lib/core/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { VirtualClock } from "../../sim/clock.ts";
import { SimNetwork } from "../../sim/network.ts";
import { SimRng } from "../../sim/rng.ts";

/** Handlers that record calls (a mock at the port boundary). */
function recorder(log: string[]): InboundHandlers {
  return {
    onReplicate(e: FragmentEnvelope, from: PeerInfo): Promise<ReplicateAck> {
      log.push(`replicate ${e.fragment.index} from ${from.ip}`);
      return Promise.resolve({
        accepted: true,
        heldIndices: [e.fragment.index],
      });
    },
    onAttest(r: AttestRequest, from: PeerInfo): Promise<Attestation> {
      log.push(`attest from ${from.ip}`);
      return Promise.resolve({
        tesseraId: r.tesseraId,
        holder: "h",
        nonce: r.nonce,
        entries: [],
        timestamp: 0,
        signature: new Uint8Array(),
      });
    },
    onFetch(s: ShardRef): Promise<Uint8Array | null> {
      return Promise.resolve(s.index === 0 ? new Uint8Array([1, 2, 3]) : null);
    },
  };
}

const ID = "ab".repeat(32);
const envelope: FragmentEnvelope = {
  fragment: {
    tesseraId: ID,
    index: 4,
    shardCount: 24,
    checksum: "00".repeat(32),
  },
  plan: {
    size: 10,
    tier: "medium",
    dataShards: 16,
    parityShards: 8,
    shardCount: 24,
    shardSize: 1,
  },
  originalSize: 10,
  fragmentSize: 1,
  data: new Uint8Array([9]),
};

function setup(options: { latencyMs?: number; lossRate?: number } = {}) {
  const clock = new VirtualClock({ start: 0 });
  const net = new SimNetwork({ clock, rng: new SimRng("net"), ...options });
  const log: string[] = [];
  const a = net.addNode({ ip: "10.0.0.1" });
  const b = net.addNode({ ip: "10.0.1.1" });
  const c = net.addNode({ ip: "10.0.2.1" });
  for (const i of [a, b, c]) net.attach(i, recorder(log));
  net.fillRoutingTables();
  return { clock, net, log, a, b, c };
}

Deno.test("SimNetwork delivers to the target's handlers with the sender's PeerInfo", async () => {
  const { net, log, a, b } = setup();
  const ack = await net.dht(a).replicate(net.peerId(b), envelope);
  assert.deepEqual(ack, { accepted: true, heldIndices: [4] });
  assert.deepEqual(log, ["replicate 4 from 10.0.0.1"]);
  assert.deepEqual(
    await net.dht(a).fetch(net.peerId(b), { tesseraId: ID, index: 0 }),
    new Uint8Array([1, 2, 3]),
  );
  await assert.rejects(
    net.dht(a).fetch(net.peerId(b), { tesseraId: ID, index: 1 }),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
  assert.equal(net.traffic.replicate.bytes, 1);
  assert.equal(net.traffic.fetch.bytes, 3);
  assert.equal(net.traffic.fetch.failed, 1);
});

Deno.test("SimNetwork: offline peers are UNREACHABLE and not returned by lookups", async () => {
  const { net, a, b, c } = setup();
  const all = await net.dht(a).findClosestPeers(ID, 5);
  assert.deepEqual(
    all.map((p) => p.id).sort(),
    [net.peerId(b), net.peerId(c)].sort(),
  );
  net.setOnline(b, false);
  await assert.rejects(
    net.dht(a).ping(net.peerId(b)),
    (e) => isTesserasError(e, "UNREACHABLE"),
  );
  assert.deepEqual(
    (await net.dht(a).findClosestPeers(ID, 5)).map((p) => p.id),
    [net.peerId(c)],
  );
  net.depart(c);
  assert.equal(net.isDeparted(c), true);
  net.setOnline(c, true);
  assert.equal(net.isOnline(c), false);
  assert.deepEqual(await net.dht(a).findClosestPeers(ID, 5), []);
  net.setOnline(a, false);
  await assert.rejects(
    net.dht(a).findClosestPeers(ID, 5),
    (e) => isTesserasError(e, "UNREACHABLE"),
  );
});

Deno.test("SimNetwork latency runs in virtual time; lost requests time out", async () => {
  const { clock, net, a, b } = setup({ latencyMs: 40 });
  let rtt = -1;
  net.dht(a).ping(net.peerId(b)).then((ms) => rtt = ms);
  await clock.runUntil(79);
  assert.equal(rtt, -1);
  await clock.runUntil(80);
  assert.equal(rtt, 80);

  const lossy = setup({ latencyMs: 10, lossRate: 1 });
  let err: unknown;
  lossy.net.dht(lossy.a).ping(lossy.net.peerId(lossy.b)).catch((e) => err = e);
  await lossy.clock.runUntil(29_999);
  assert.equal(err, undefined);
  await lossy.clock.runUntil(30_000);
  assert.ok(isTesserasError(err, "TIMEOUT"));
});

Deno.test("SimNetwork identities: signatures verify for the signer only", async () => {
  const { net, a, b } = setup();
  const data = new TextEncoder().encode("attestation bytes");
  const sig = await net.identity(a).sign(data);
  assert.equal(sig.length, 16);
  assert.equal(
    await net.identity(b).verify(net.peerId(a), { data, signature: sig }),
    true,
  );
  assert.equal(
    await net.identity(b).verify(net.peerId(b), { data, signature: sig }),
    false,
  );
  const tampered = data.slice();
  tampered[0] ^= 1;
  assert.equal(
    await net.identity(b).verify(net.peerId(a), {
      data: tampered,
      signature: sig,
    }),
    false,
  );
  assert.equal(net.peerInfo(a).ip, "10.0.0.1");
  assert.equal(net.indexOf(net.peerId(b)), b);
});
