import assert from "node:assert/strict";
import { withBytesField } from "../../lib/net/protocol/exchange.ts";
import {
  envelopeFromWire,
  envelopeToWire,
} from "../../lib/net/protocol/replicate.ts";
import { WireFetchResponse } from "../../lib/net/protocol/pb/fetch.ts";
import { WireFragmentEnvelope } from "../../lib/net/protocol/pb/replicate.ts";
import { Libp2pDhtPort } from "../../lib/net/mod.ts";
import { smallEnvelope, startNode, stopAll, StubHandlers } from "./helpers.ts";

/** Sizes around every varint length boundary of the bytes field. */
const SIZES = [0, 1, 127, 128, 16_383, 16_384, 300_000, 2_097_151, 2_097_152];

function bytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

Deno.test("a replicate frame in parts is byte for byte the generated encoding, and decodes back", async () => {
  for (const n of SIZES) {
    const envelope = await smallEnvelope(bytes(n));
    const parts = envelopeToWire(envelope);
    const whole = WireFragmentEnvelope.encode({
      fragment: { ...envelope.fragment },
      plan: { ...envelope.plan },
      originalSize: envelope.originalSize,
      fragmentSize: envelope.fragmentSize,
      data: bytes(n),
      manifest: new Uint8Array(0),
      manifestSignature: new Uint8Array(0),
    });
    assert.deepEqual(parts.subarray(), whole, `${n} bytes`);
    assert.deepEqual(envelopeFromWire(parts), envelope, `${n} bytes`);
  }
});

Deno.test("a replicate frame carries the owner's manifest in its head and back; an oversized one is refused", async () => {
  const envelope = {
    ...(await smallEnvelope(bytes(300))),
    manifest: { bytes: bytes(900), signature: bytes(64) },
  };
  const back = envelopeFromWire(envelopeToWire(envelope).subarray());
  assert.deepEqual(back.manifest, envelope.manifest);
  assert.deepEqual(back.data, envelope.data);
  const huge = {
    ...envelope,
    manifest: { bytes: bytes(20_000), signature: bytes(64) },
  };
  assert.throws(
    () => envelopeFromWire(envelopeToWire(huge).subarray()),
    /manifest of 20000 bytes/,
  );
});

Deno.test("a found fetch answer in parts is byte for byte the generated encoding; the shard is not copied", () => {
  const head = WireFetchResponse.encode({
    found: true,
    data: new Uint8Array(0),
    errorCode: "",
    errorMessage: "",
  });
  for (const n of SIZES) {
    const shard = bytes(n);
    const parts = withBytesField(head, 2, shard);
    const whole = WireFetchResponse.encode({
      found: true,
      data: shard,
      errorCode: "",
      errorMessage: "",
    });
    assert.deepEqual(parts.subarray(), whole, `${n} bytes`);
    assert.deepEqual(WireFetchResponse.decode(parts).data, shard);
    // The shard is one of the parts, as it was given.
    if (n > 0) assert.ok([...parts].some((p) => p.buffer === shard.buffer));
  }
});

Deno.test("a large fetch answer is sent whole even when it outlasts the linger", async () => {
  // The linger (time for the peer to half-close after our reply) starts
  // once the reply is queued; a 16 MiB answer still crossing the network
  // then was cut short after lingerMs (seen at 12-21 of 22 MiB on a busy
  // machine). With a 1 ms linger every answer would be cut without the
  // wait for our own bytes to leave.
  const server = await startNode(72, { limits: { fetch: { lingerMs: 1 } } });
  const client = await startNode(73);
  try {
    const stub = new StubHandlers(server.identity);
    server.setInboundHandlers(stub);
    const shard = bytes(16 << 20);
    const tesseraId = "ab".repeat(32);
    stub.shards.set(`${tesseraId}/0`, shard);
    await client.connect(server.multiaddrs()[0]);
    const dht = new Libp2pDhtPort(client);
    for (let i = 0; i < 3; i++) {
      const got = await dht.fetch(server.peerId, { tesseraId, index: 0 });
      assert.equal(got.length, shard.length);
      assert.deepEqual(got, shard);
    }
  } finally {
    await stopAll([client, server]);
  }
});
