/**
 * One peer of `scripts/bench_nat.ts`: a tesseras libp2p node (with the
 * daemon's NAT parts) that sinks bulk bytes on `/tesseras/bench/1.0.0` and,
 * told so on standard input, sends bulk bytes to another peer and reports
 * the time. One JSON object per line on standard output.
 *
 * Usage: `deno run -A scripts/bench_nat_peer.ts '{"listen": "/ip4/0.0.0.0/tcp/4001"}'`
 *
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Connection } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { byteStream } from "@libp2p/utils";
import { multiaddr } from "@multiformats/multiaddr";
import { createTesserasNode, type TesserasNode } from "../lib/net/mod.ts";

/** The bulk protocol. */
export const BENCH_PROTOCOL = "/tesseras/bench/1.0.0";
const CHUNK = 64 * 1024;

/** How a peer is started (argv[0] as JSON). */
export interface PeerSetup {
  readonly listen: string;
  readonly bootstrap?: string[];
  readonly relay?: boolean;
  readonly reservations?: number;
  readonly upnp?: boolean;
}

/** A command on standard input. */
export interface PeerCommand {
  /**
   * `send`: bulk to `target`; `wait`: until we hold a relay reservation
   * (with `public`: until AutoNAT says public), then print our addresses.
   */
  readonly op: "send" | "wait" | "exit";
  /** With `wait`: also wait to be public. */
  readonly public?: boolean;
  /** A multiaddr ending in /p2p/<id>. */
  readonly target?: string;
  readonly bytes?: number;
  /** Wait for DCUtR to replace the relayed connection before sending. */
  readonly upgrade?: boolean;
}

function out(value: unknown): void {
  console.log(JSON.stringify(value));
}

async function serveSink(node: TesserasNode): Promise<void> {
  await node.libp2p.handle(BENCH_PROTOCOL, async (stream) => {
    const bytes = byteStream(stream);
    let total = 0;
    for (;;) {
      const chunk = await bytes.read();
      if (chunk === null) break;
      total += chunk.byteLength;
    }
    const reply = new Uint8Array(8);
    new DataView(reply.buffer).setBigUint64(0, BigInt(total));
    await bytes.write(reply);
    await stream.close();
  }, { runOnLimitedConnection: true });
}

async function directConnection(
  node: TesserasNode,
  peer: string,
): Promise<Connection> {
  const id = peerIdFromString(peer);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const direct = node.libp2p.getConnections(id).find((c) =>
      c.limits === undefined && !c.remoteAddr.toString().includes("p2p-circuit")
    );
    if (direct !== undefined) return direct;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("DCUtR did not upgrade the relayed connection in 20 s");
}

async function send(node: TesserasNode, cmd: PeerCommand): Promise<void> {
  const target = multiaddr(cmd.target!);
  const peer = target.getComponents().findLast((c) => c.name === "p2p")!
    .value!;
  let conn = await node.libp2p.dial(target);
  const via = conn.remoteAddr.toString();
  if (cmd.upgrade) conn = await directConnection(node, peer);
  const stream = await conn.newStream(BENCH_PROTOCOL, {
    runOnLimitedConnection: true,
  });
  const bytes = byteStream(stream);
  const chunk = crypto.getRandomValues(new Uint8Array(CHUNK));
  const started = performance.now();
  const reply = bytes.read({ bytes: 8 });
  for (let sent = 0; sent < cmd.bytes!; sent += CHUNK) {
    await bytes.write(chunk.subarray(0, Math.min(CHUNK, cmd.bytes! - sent)));
  }
  await stream.close();
  const got = new DataView((await reply).subarray().buffer).getBigUint64(0);
  const ms = performance.now() - started;
  out({
    ms,
    bytes: Number(got),
    dialled: via,
    path: conn.remoteAddr.toString(),
  });
}

async function waitReady(node: TesserasNode, cmd: PeerCommand): Promise<void> {
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const r = node.reachability();
    // A public peer needs no relay slot (and stops seeking one).
    const ready = cmd.public
      ? r.reachability === "public"
      : r.relayAddresses.length > 0;
    if (ready) return out(r);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready in 40 s: ${JSON.stringify(node.reachability())}`);
}

async function main(setup: PeerSetup): Promise<void> {
  const node = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    listen: [setup.listen],
    bootstrap: setup.bootstrap,
    peerInfoMapper: "passthrough",
    nat: {
      upnp: setup.upnp ?? false,
      relayServer: setup.relay ? "on" : "off",
      // 64 MiB through a relay needs a limit above the default 32 MiB.
      relayLimits: { dataLimitBytes: 1 << 30, budgetBytesPerHour: 1e12 },
      relayReservations: setup.reservations ?? 0,
    },
  });
  await serveSink(node);
  await node.start();
  out({ peerId: node.peerId, addrs: node.multiaddrs() });
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffer = "";
  for await (const text of lines) {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const cmd = JSON.parse(buffer.slice(0, nl)) as PeerCommand;
      buffer = buffer.slice(nl + 1);
      if (cmd.op === "exit") {
        await node.stop();
        return;
      }
      try {
        await (cmd.op === "send" ? send(node, cmd) : waitReady(node, cmd));
      } catch (err) {
        out({ error: String((err as Error)?.message ?? err) });
      }
    }
  }
  await node.stop();
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as PeerSetup);
