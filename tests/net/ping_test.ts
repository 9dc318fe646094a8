/**
 * The ping a node answers: the pinger's 32 bytes already buffered when
 * the handler starts and its FIN arriving before the next microtask (as
 * happened at the simulator's full-stack level, where the pinger then
 * waited its whole 10 s timeout for a live peer) must still be echoed.
 * `@libp2p/ping`'s own handler closed without an echo here.
 */
import assert from "node:assert/strict";
import type { Stream, StreamHandler } from "@libp2p/interface";
import { streamPair } from "@libp2p/utils";
import { createTesserasNode, Libp2pDhtPort } from "../../lib/net/mod.ts";
import { PING_PROTOCOL } from "../../lib/net/protocol/ping.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { stopAll, waitFor } from "./helpers.ts";

async function memoryNode(name: string) {
  const node = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    transport: "memory",
    listen: [`/memory/ping-test-${crypto.randomUUID()}-${name}`],
    peerInfoMapper: "passthrough",
    connections: { keepAlive: false },
  });
  await node.start();
  return node;
}

/** Every byte `stream` receives within `ms`. */
function received(stream: Stream, ms: number): Promise<number> {
  let bytes = 0;
  stream.addEventListener("message", (e) => bytes += e.data.byteLength);
  return new Promise((resolve) => setTimeout(() => resolve(bytes), ms));
}

Deno.test("a node echoes a ping whose bytes and FIN came before its handler ran", async () => {
  const node = await memoryNode("a");
  try {
    // deno-lint-ignore no-explicit-any
    const registrar = (node.libp2p as any).components.registrar;
    const handler: StreamHandler = registrar.getHandler(PING_PROTOCOL).handler;
    const [pinger, answerer] = await streamPair();
    const echoed = received(pinger, 300);
    pinger.send(new Uint8Array(32).fill(7));
    await waitFor(() => answerer.readBufferLength === 32, "buffered ping");
    // The handler starts with the bytes buffered; the FIN lands before
    // the next microtask, as libp2p delivered it.
    // deno-lint-ignore no-explicit-any
    const done = handler(answerer, {} as any);
    (answerer as unknown as { onRemoteCloseWrite(): void })
      .onRemoteCloseWrite();
    assert.equal(await echoed, 32);
    await done;
  } finally {
    await node.stop();
  }
});

Deno.test("pings between two memory-transport nodes answer at once", async () => {
  const a = await memoryNode("a");
  const b = await memoryNode("b");
  try {
    await a.addKnownPeers([{ id: b.peerId, addresses: b.multiaddrs() }]);
    const dht = new Libp2pDhtPort(a, { pingTimeoutMs: 2_000 });
    const rtts = await Promise.all(
      Array.from({ length: 8 }, () => dht.ping(b.peerId)),
    );
    for (const rtt of rtts) assert.ok(rtt < 2_000);
    for (let i = 0; i < 5; i++) assert.ok(await dht.ping(b.peerId) < 2_000);
  } finally {
    await stopAll([a, b]);
  }
});
