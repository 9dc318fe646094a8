/**
 * `/tesseras/fetch/2.0.0` between two real libp2p nodes over TCP: an
 * honest holder's shard arrives whole and checked; a holder serving a
 * shard with one wrong byte in its second group is refused at the first
 * piece, before the rest of the shard is read; a wrong announced size,
 * a wrong checksum on our record and a shard not held are refused with
 * their codes. The handlers are a stub at the port boundary.
 */
import assert from "node:assert/strict";
import {
  isTesserasError,
  type PeerInfo,
  type ShardRef,
  toHex,
} from "../../lib/core/mod.ts";
import { blake3, outboardOf } from "../../lib/codec/mod.ts";
import {
  ConcurrencyGate,
  type InboundSpec,
  serveInbound,
} from "../../lib/net/protocol/exchange.ts";
import { requestFromWire } from "../../lib/net/protocol/fetch.ts";
import { VERIFIED_FETCH_PROTOCOL } from "../../lib/net/protocol/limits.ts";
import { Libp2pDhtPort, type TesserasNode } from "../../lib/net/mod.ts";
import {
  encodeFetchPiece,
  encodeVerifiedFetchHeader,
  MAX_FETCH_PIECE,
  sendVerifiedFetch,
} from "../../lib/net/protocol/verified_fetch.ts";
import { startNode, stopAll, StubHandlers } from "./helpers.ts";

const TESSERA = "ab".repeat(32);

/** Serves every shard with one byte flipped at `at`. */
class LyingHandlers extends StubHandlers {
  at = 9000;
  override async onFetch(shard: ShardRef, from: PeerInfo) {
    const real = await super.onFetch(shard, from);
    if (real === null) return null;
    const bad = real.slice();
    bad[this.at] ^= 0x01;
    return bad;
  }
}

async function pair(lying = false) {
  const server = await startNode(61);
  const stub = lying
    ? new LyingHandlers(server.identity)
    : new StubHandlers(server.identity);
  server.setInboundHandlers(stub);
  const client = await startNode(62);
  await client.connect(server.multiaddrs()[0]);
  return { server, client, stub, dht: new Libp2pDhtPort(client) };
}

function shard(size: number): { data: Uint8Array; checksum: string } {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
  }
  return { data, checksum: toHex(blake3(data)) };
}

Deno.test("verified fetch: an honest holder's shard arrives whole, checked group by group", async () => {
  const nodes: TesserasNode[] = [];
  try {
    const { server, client, stub, dht } = await pair();
    nodes.push(server, client);
    const { data, checksum } = shard(300_001);
    stub.shards.set(`${TESSERA}/0`, data);
    const got = await dht.fetch(
      server.peerId,
      { tesseraId: TESSERA, index: 0 },
      {
        checksum,
        size: data.length,
      },
    );
    assert.deepEqual(got, data);
    // Without a checksum the old one-frame fetch is used, same bytes.
    assert.deepEqual(
      await dht.fetch(server.peerId, { tesseraId: TESSERA, index: 0 }),
      data,
    );
    // One group, no outboard.
    const small = shard(400);
    stub.shards.set(`${TESSERA}/1`, small.data);
    assert.deepEqual(
      await dht.fetch(server.peerId, { tesseraId: TESSERA, index: 1 }, {
        checksum: small.checksum,
      }),
      small.data,
    );
  } finally {
    await stopAll(nodes);
  }
});

Deno.test("verified fetch: a holder whose bytes differ is refused at its header", async () => {
  const nodes: TesserasNode[] = [];
  try {
    const { server, client, stub, dht } = await pair(true);
    nodes.push(server, client);
    const { data, checksum } = shard(1 << 20);
    stub.shards.set(`${TESSERA}/0`, data);
    const seen: number[] = [];
    await assert.rejects(
      sendVerifiedFetch(client.libp2p, server.peerId, {
        tesseraId: TESSERA,
        index: 0,
      }, {
        checksum,
        size: data.length,
        limits: client.limits.fetch,
        metrics: client.metrics,
        onPiece: (n) => seen.push(n),
      }),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    // Our server builds the outboard from the bytes it serves, so this
    // liar's outboard does not match the checksum: refused at the header,
    // before any shard byte.
    assert.deepEqual(seen, []);
    // Through the port, the same refusal.
    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: TESSERA, index: 0 }, { checksum }),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
  } finally {
    await stopAll(nodes);
  }
});

Deno.test("verified fetch: a holder sending the true outboard and one wrong byte in group 1 is refused at the first piece", async () => {
  const nodes: TesserasNode[] = [];
  try {
    const { server, client } = await pair();
    nodes.push(server, client);
    const { data, checksum } = shard(1 << 20);
    const bad = data.slice();
    bad[9000] ^= 0x01;
    // A cleverer liar than our server: the right outboard, wrong bytes.
    await server.libp2p.unhandle(VERIFIED_FETCH_PROTOCOL);
    const spec: InboundSpec<ShardRef> = {
      name: "fetch",
      limits: server.limits.fetch,
      gate: new ConcurrencyGate(4),
      parse: requestFromWire,
      handle: () => {
        const frames = [encodeVerifiedFetchHeader({
          size: data.length,
          checksum,
          outboard: outboardOf(data).outboard,
        })];
        for (let at = 0; at < bad.length; at += MAX_FETCH_PIECE) {
          frames.push(encodeFetchPiece(bad.subarray(at, at + MAX_FETCH_PIECE)));
        }
        return Promise.resolve(frames);
      },
      errorReply: (code, message) =>
        encodeVerifiedFetchHeader({ error: { code, message } }),
    };
    await server.libp2p.handle(
      VERIFIED_FETCH_PROTOCOL,
      (stream, connection) =>
        serveInbound(stream, connection, spec, server.metrics),
    );
    const seen: number[] = [];
    await assert.rejects(
      sendVerifiedFetch(client.libp2p, server.peerId, {
        tesseraId: TESSERA,
        index: 0,
      }, {
        checksum,
        size: data.length,
        limits: client.limits.fetch,
        metrics: client.metrics,
        onPiece: (n) => seen.push(n),
      }),
      (e) =>
        isTesserasError(e, "CHECKSUM_MISMATCH") &&
        /mismatch|group/i.test(e.message),
    );
    // Refused inside the first 64 KiB piece: of 16, nothing after it taken.
    assert.deepEqual(seen, [MAX_FETCH_PIECE]);
  } finally {
    await stopAll(nodes);
  }
});

Deno.test("verified fetch: a wrong size, a checksum that is not the shard's, a shard not held", async () => {
  const nodes: TesserasNode[] = [];
  try {
    const { server, client, stub, dht } = await pair();
    nodes.push(server, client);
    const { data, checksum } = shard(50_000);
    stub.shards.set(`${TESSERA}/0`, data);
    const ref = { tesseraId: TESSERA, index: 0 };
    await assert.rejects(
      dht.fetch(server.peerId, ref, { checksum, size: 49_999 }),
      (e) =>
        isTesserasError(e, "CHECKSUM_MISMATCH") && /plan says/.test(e.message),
    );
    await assert.rejects(
      dht.fetch(server.peerId, ref, { checksum: "cd".repeat(32) }),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    await assert.rejects(
      dht.fetch(server.peerId, { tesseraId: TESSERA, index: 5 }, { checksum }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    // The node still serves after the refusals.
    assert.deepEqual(await dht.fetch(server.peerId, ref, { checksum }), data);
  } finally {
    await stopAll(nodes);
  }
});
