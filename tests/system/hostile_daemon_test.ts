/**
 * A real daemon under hostile traffic: generated garbage, truncated frames,
 * huge length prefixes and well-formed messages with path characters in
 * ids, on every wire protocol. The daemon answers or resets each stream,
 * writes nothing outside its data directory, and `/health` still answers.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import {
  ATTEST_PROTOCOL,
  createTesserasNode,
  FETCH_PROTOCOL,
  REPLICATE_PROTOCOL,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import { WireAttestRequest } from "../../lib/net/protocol/pb/attest.ts";
import { WireFetchRequest } from "../../lib/net/protocol/pb/fetch.ts";
import { WireFragmentEnvelope } from "../../lib/net/protocol/pb/replicate.ts";
import { apiGet, startDaemon } from "./daemon_process.ts";
import { frame, varint } from "../net/frames.ts";

const FRAMES_PER_PROTOCOL = 800;

/**
 * Send bytes on a fresh stream, half-close and read to the end, as a plain
 * libp2p client does: "answered" if any reply came back. The daemon must
 * end every stream itself (EOF or reset); one still open after a generous
 * limit fails the test.
 */
async function send(
  client: TesserasNode,
  target: string,
  protocol: string,
  bytes: Uint8Array,
): Promise<"answered" | "reset"> {
  const hangMs = 10_000;
  const stream = await client.libp2p.dialProtocol(
    peerIdFromString(target),
    protocol,
    { signal: AbortSignal.timeout(5_000) },
  );
  let got = 0;
  const exchange = (async () => {
    try {
      if (bytes.length > 0) stream.send(bytes);
      await stream.close();
      for await (const chunk of stream) got += chunk.byteLength;
    } catch {
      // The daemon may reset a hostile stream.
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    exchange.then(() => "ended" as const),
    new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), hangMs))),
  ]);
  clearTimeout(timer);
  if (outcome === "hung") {
    stream.abort(new Error("hung"));
    throw new Error(
      `${protocol}: the daemon neither ended nor reset the stream within ${hangMs} ms (${bytes.length} bytes sent, ${got} received)`,
    );
  }
  return got > 0 ? "answered" : "reset";
}

const hostileId = fc.constantFrom(
  "../../../../tmp/pwned",
  "/etc/passwd",
  "..",
  "00".repeat(32) + "/../x",
  "AB".repeat(32),
  "",
  "a\u0000b",
);

function listTree(dir: string): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory) out.push(...listTree(p));
  }
  return out;
}

Deno.test({
  name:
    `hostile peer: ${FRAMES_PER_PROTOCOL} generated frames per protocol against a real daemon`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sandbox = await Deno.makeTempDir({ prefix: "tesseras-hostile-" });
    const dataDir = join(sandbox, "node");
    const daemon = await startDaemon(dataDir, [
      "--listen",
      "/ip4/127.0.95.1/tcp/0",
    ]);
    const client = await createTesserasNode({
      privateKey: await generateKeyPair("Ed25519"),
      listen: ["/ip4/127.0.96.1/tcp/0"],
      peerInfoMapper: "passthrough",
    });
    await client.start();
    try {
      const addr = (await apiGet<{ addresses: string[] }>(daemon, "/v1/id"))
        .addresses[0];
      await client.connect(addr);
      const garbage = fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }).map(frame),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) =>
          frame(b).subarray(0, 1 + (b.length >> 1))
        ),
        fc.constantFrom(
          varint(2 ** 40),
          varint(64 * 1024 * 1024),
          new Uint8Array(20).fill(0x80),
        ),
      );
      const envelopes = fc.tuple(hostileId, fc.integer(), fc.integer()).map((
        [tesseraId, index, size],
      ) =>
        frame(WireFragmentEnvelope.encode({
          fragment: { tesseraId, index, shardCount: 1, checksum: tesseraId },
          plan: {
            size,
            tier: "small",
            dataShards: 1,
            parityShards: 0,
            shardCount: 1,
            shardSize: size,
          },
          originalSize: size,
          fragmentSize: 4,
          data: new Uint8Array([1, 2, 3, 4]),
        }))
      );
      const fetches = fc.tuple(hostileId, fc.integer()).map((
        [tesseraId, index],
      ) => frame(WireFetchRequest.encode({ tesseraId, index })));
      const attests = fc.tuple(hostileId, fc.uint8Array({ maxLength: 40 })).map(
        (
          [tesseraId, nonce],
        ) =>
          frame(
            WireAttestRequest.encode({
              tesseraId,
              nonce: nonce as Uint8Array<ArrayBuffer>,
              indices: [],
            }),
          ),
      );
      const plan: [string, fc.Arbitrary<Uint8Array>][] = [
        [REPLICATE_PROTOCOL, fc.oneof(garbage, envelopes)],
        [FETCH_PROTOCOL, fc.oneof(garbage, fetches)],
        [ATTEST_PROTOCOL, fc.oneof(garbage, attests)],
      ];
      for (const [protocol, arb] of plan) {
        const frames = fc.sample(arb, {
          numRuns: FRAMES_PER_PROTOCOL,
          seed: 11,
        });
        let answered = 0;
        for (const bytes of frames) {
          const r = await send(client, daemon.peerId, protocol, bytes);
          if (r === "answered") {
            answered++;
          }
        }
        // Most hostile frames get an error reply rather than a bare reset.
        assert.ok(answered > 0, `${protocol}: no error replies at all`);
      }
      const health = await (await fetch(`${daemon.url}/health`)).json();
      assert.equal(health.status, "OK");
      const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
      assert.match(
        metrics,
        /tesseras_protocol_errors_total\{protocol="replicate",direction="inbound"\} [1-9]/,
      );
      // Nothing was written outside the data directory, and no fragment
      // was accepted from garbage.
      assert.deepEqual(
        [...Deno.readDirSync(sandbox)].map((e) => e.name),
        ["node"],
      );
      assert.ok(
        !listTree(join(dataDir, "fragments")).some((p) => p.endsWith(".shard")),
      );
    } finally {
      await client.stop();
      const status = await daemon.stop();
      assert.equal(status.code, 0);
      await Deno.remove(sandbox, { recursive: true });
    }
  },
});
