/**
 * The transport's own ceiling for `deno task bench:net`: bytes moved over
 * one TCP + Noise + Yamux connection (the daemon's stack, same package
 * versions) between two processes, on one stream, with nothing of ours on
 * the path. Run as two child processes:
 *
 * - `net_raw.ts serve IP` listens on `/ip4/IP/tcp/0`, prints its multiaddr
 *   as a JSON line, and on each stream of {@linkcode RAW_PROTOCOL} counts
 *   the bytes until the sender half-closes, then answers with the count
 *   (decimal) and closes. It runs until its standard input closes.
 * - `net_raw.ts send ADDR BYTES [BIND_IP]` dials, sends `BYTES` bytes in
 *   1 MiB writes (one buffer, reused: the sender waits for `drain`, so the
 *   muxer holds at most its write buffer), half-closes, reads the count
 *   and prints `{"bytes":…,"seconds":…}` from the dial's end to the
 *   answer, with the sender's peak RSS (`peakRssMiB`) and CPU seconds.
 *
 * @module
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { Libp2p, Stream } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { installDenoExitFixes } from "../lib/net/deno_compat.ts";

/** The protocol of the raw transfer (never served by a daemon). */
export const RAW_PROTOCOL = "/tesseras-bench/raw/1.0.0";
const WRITE_BYTES = 1 << 20;

async function node(listen: string[], bindIp?: string): Promise<Libp2p> {
  installDenoExitFixes();
  return await createLibp2p({
    addresses: { listen },
    transports: [
      tcp(bindIp ? { dialOpts: { localAddress: bindIp } as never } : {}),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
}

async function serve(ip: string): Promise<void> {
  const server = await node([`/ip4/${ip}/tcp/0`]);
  await server.handle(RAW_PROTOCOL, async (stream: Stream) => {
    let count = 0;
    for await (const chunk of stream) count += chunk.byteLength;
    stream.send(new TextEncoder().encode(String(count)));
    await stream.close();
  }, { maxInboundStreams: 4 });
  const addr = server.getMultiaddrs()[0].toString();
  console.log(JSON.stringify({ addr }));
  // Until the parent closes our standard input.
  for await (const _ of Deno.stdin.readable) { /* ignore */ }
  await server.stop();
}

async function send(addr: string, bytes: number, bindIp?: string) {
  const client = await node([], bindIp);
  const block = new Uint8Array(WRITE_BYTES);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let o = 65536; o < block.length; o += 65536) {
    block.copyWithin(o, 0, 65536);
  }
  const stream = await client.dialProtocol(multiaddr(addr), RAW_PROTOCOL);
  const t0 = performance.now();
  const reply = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      text += decoder.decode(chunk.subarray(), { stream: true });
    }
    return Number(text);
  })();
  for (let sent = 0; sent < bytes; sent += WRITE_BYTES) {
    const piece = block.subarray(0, Math.min(WRITE_BYTES, bytes - sent));
    if (!stream.send(piece)) await stream.onDrain();
  }
  await stream.close();
  const counted = await reply;
  const seconds = (performance.now() - t0) / 1000;
  if (counted !== bytes) {
    throw new Error(`receiver counted ${counted} of ${bytes} bytes`);
  }
  const status = Deno.readTextFileSync("/proc/self/status");
  const peakRssMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
  const cpu = Deno.readTextFileSync("/proc/self/stat");
  const f = cpu.slice(cpu.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(f[11]) + Number(f[12])) / 100;
  console.log(JSON.stringify({ bytes, seconds, peakRssMiB, cpuSeconds }));
  await client.stop();
}

if (import.meta.main) {
  const [mode, a, b, c] = Deno.args;
  if (mode === "serve") await serve(a);
  else if (mode === "send") await send(a, Number(b), c);
  else throw new Error("usage: net_raw.ts serve IP | send ADDR BYTES [BIND]");
  Deno.exit(0);
}
