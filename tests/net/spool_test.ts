/**
 * A holder's replicate server writes a large pushed shard to a temp file
 * as it arrives, hashing it on the way (the handler gets `spooled`, not
 * the bytes); frames of older senders (the manifest after the shard) are
 * read the same; a frame cut off inside the shard gets PROTOCOL_ERROR and
 * leaves no file; a small shard still comes in memory. Real libp2p nodes
 * on loopback and real files; the handler (the port) is the test's stub.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { blake3Hex, outboardOf } from "../../lib/codec/mod.ts";
import {
  type FragmentEnvelope,
  isTesserasError,
  type PeerInfo,
  type ReplicateAck,
} from "../../lib/core/mod.ts";
import { Libp2pDhtPort, type TesserasNode } from "../../lib/net/mod.ts";
import { REPLICATE_PROTOCOL } from "../../lib/net/protocol/limits.ts";
import {
  WireFragmentEnvelope,
  WireReplicateAck,
} from "../../lib/net/protocol/pb/replicate.ts";
import { concat, frame, varint } from "./frames.ts";
import {
  smallEnvelope,
  startNode,
  stopAll,
  StubHandlers,
  waitFor,
} from "./helpers.ts";

/** The stub, with temp files to spool to in `dir`. */
class SpoolingStub extends StubHandlers {
  readonly spooledPaths: string[] = [];
  readonly discarded: string[] = [];
  readonly received: FragmentEnvelope[] = [];
  dir = "";
  #n = 0;

  spoolTarget(): Promise<string | null> {
    const path = join(this.dir, `spool-${this.#n++}.tmp`);
    this.spooledPaths.push(path);
    return Promise.resolve(path);
  }

  async discardSpool(path: string): Promise<void> {
    this.discarded.push(path);
    await Deno.remove(path).catch(() => {});
  }

  override async onReplicate(
    envelope: FragmentEnvelope,
    from: PeerInfo,
  ): Promise<ReplicateAck> {
    this.received.push(envelope);
    if (!envelope.spooled) return await super.onReplicate(envelope, from);
    // The handler owns the file: read it back, then remove it.
    const data = await Deno.readFile(envelope.spooled.path);
    await Deno.remove(envelope.spooled.path);
    return await super.onReplicate({ ...envelope, data }, from);
  }
}

function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >> 9)) & 0xff;
  return out;
}

async function withServer(
  fn: (
    nodes: { server: TesserasNode; client: TesserasNode },
    stub: SpoolingStub,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_spool_" });
  const server = await startNode(81);
  const client = await startNode(82);
  const stub = new SpoolingStub(server.identity);
  stub.dir = dir;
  server.setInboundHandlers(stub);
  try {
    await client.connect(server.multiaddrs()[0]);
    await fn({ server, client }, stub);
  } finally {
    await stopAll([client, server]);
    await Deno.remove(dir, { recursive: true });
  }
}

/** The generated encoding: fields in order, so 6 and 7 after the data. */
function generatedEncoding(envelope: FragmentEnvelope): Uint8Array {
  return WireFragmentEnvelope.encode({
    fragment: { ...envelope.fragment },
    plan: { ...envelope.plan },
    originalSize: envelope.originalSize,
    fragmentSize: envelope.fragmentSize,
    data: new Uint8Array(envelope.data),
    manifest: new Uint8Array(envelope.manifest?.bytes ?? []),
    manifestSignature: new Uint8Array(envelope.manifest?.signature ?? []),
  });
}

/** Send `bytes` on a fresh replicate stream, half-close, read the ack. */
async function sendRaw(
  nodes: { server: TesserasNode; client: TesserasNode },
  bytes: Uint8Array,
): Promise<{ errorCode: string; accepted: boolean }> {
  const stream = await nodes.client.libp2p.dialProtocol(
    nodes.server.libp2p.peerId,
    REPLICATE_PROTOCOL,
  );
  const chunks: Uint8Array[] = [];
  stream.send(bytes);
  await stream.close();
  for await (const chunk of stream) chunks.push(chunk.subarray());
  const reply = concat(...chunks);
  // One varint length prefix, then the ack.
  let at = 0;
  while (reply[at] >= 0x80) at++;
  return WireReplicateAck.decode(reply.subarray(at + 1));
}

Deno.test("a large pushed shard is spooled to a file as it arrives, hashed on the way", async () => {
  await withServer(async (nodes, stub) => {
    const data = bytes(1_000_000, 1);
    const envelope = await smallEnvelope(data);
    const dht = new Libp2pDhtPort(nodes.client);
    const ack = await dht.replicate(nodes.server.peerId, envelope);
    assert.equal(ack.accepted, true);
    const got = stub.received[0];
    assert.ok(got.spooled, "spooled");
    assert.equal(got.data.length, 0);
    assert.equal(got.spooled.size, data.length);
    assert.equal(got.spooled.checksum, blake3Hex(data));
    assert.deepEqual(got.spooled.outboard, outboardOf(data).outboard);
    assert.deepEqual(
      stub.shards.get(`${envelope.fragment.tesseraId}/0`),
      data,
    );
    assert.deepEqual(stub.discarded, []);
  });
});

Deno.test("an older sender's frame (manifest after the shard) is spooled and its manifest read", async () => {
  await withServer(async (nodes, stub) => {
    const data = bytes(600_000, 2);
    const envelope = await smallEnvelope(data);
    const manifest = { bytes: bytes(500, 3), signature: bytes(64, 4) };
    const whole = generatedEncoding({ ...envelope, manifest });
    const ack = await sendRaw(nodes, frame(whole));
    assert.equal(ack.accepted, true);
    const got = stub.received[0];
    assert.equal(got.spooled?.checksum, blake3Hex(data));
    assert.deepEqual(got.manifest, manifest);
  });
});

Deno.test("a frame cut off inside the shard: PROTOCOL_ERROR, the file removed, no handler call", async () => {
  await withServer(async (nodes, stub) => {
    const data = bytes(1_000_000, 5);
    const envelope = await smallEnvelope(data);
    const whole = generatedEncoding(envelope);
    const cut = concat(varint(whole.length), whole.subarray(0, 600_000));
    const ack = await sendRaw(nodes, cut);
    assert.equal(ack.errorCode, "PROTOCOL_ERROR");
    assert.equal(stub.received.length, 0);
    assert.equal(stub.spooledPaths.length, 1);
    assert.deepEqual(stub.discarded, stub.spooledPaths);
    await assert.rejects(Deno.stat(stub.spooledPaths[0]), Deno.errors.NotFound);
  });
});

Deno.test("a small shard still comes in memory", async () => {
  await withServer(async (nodes, stub) => {
    const data = bytes(50_000, 6);
    const envelope = await smallEnvelope(data);
    const dht = new Libp2pDhtPort(nodes.client);
    assert.equal(
      (await dht.replicate(nodes.server.peerId, envelope)).accepted,
      true,
    );
    assert.equal(stub.received[0].spooled, undefined);
    assert.deepEqual(stub.received[0].data, data);
    assert.deepEqual(stub.spooledPaths, []);
  });
});

Deno.test("a pushed shard read in parts as it is sent arrives whole; a failed read fails the push and leaves no file", async () => {
  await withServer(async (nodes, stub) => {
    const data = bytes(3_500_000, 7);
    const envelope = await smallEnvelope(data);
    let largest = 0;
    const parts = {
      read(offset: number, length: number) {
        largest = Math.max(largest, length);
        return Promise.resolve(data.slice(offset, offset + length));
      },
    };
    const dht = new Libp2pDhtPort(nodes.client);
    assert.equal(dht.sendsShardParts, true);
    const ack = await dht.replicate(nodes.server.peerId, {
      ...envelope,
      data: new Uint8Array(0),
      parts,
    });
    assert.equal(ack.accepted, true);
    assert.equal(largest, 1 << 20);
    assert.equal(stub.received[0].spooled?.checksum, blake3Hex(data));
    assert.deepEqual(
      stub.shards.get(`${envelope.fragment.tesseraId}/0`),
      data,
    );
    const failing = {
      read(offset: number, length: number) {
        return offset >= 2 << 20
          ? Promise.reject(new Error("disk gone"))
          : Promise.resolve(data.slice(offset, offset + length));
      },
    };
    await assert.rejects(
      dht.replicate(nodes.server.peerId, {
        ...envelope,
        data: new Uint8Array(0),
        parts: failing,
      }),
      (e) => isTesserasError(e, "STORAGE_ERROR"),
    );
    await waitFor(
      () => stub.discarded.length === 1,
      "the cut-off shard's file removed",
    );
    assert.equal(stub.received.length, 1);
  });
});
