/**
 * `deno task bench:nat`: one 64 MiB transfer over each path a home node
 * can have, side by side in one run: direct (the baseline), direct after
 * DCUtR upgraded a relayed connection, and through a circuit relay.
 *
 * As root with `ip`, `nft` and `miniupnpd`, the peers run in network
 * namespaces (tests/system/netns): two public hosts, a relay, a home
 * behind a UPnP router and two masqueraded homes. The DCUtR path: the
 * UPnP home dials a masqueraded home's relay address, and DCUtR has the
 * masqueraded home dial back directly (through its own NAT, which lets the
 * answers in); then the bytes flow over that direct connection. Between
 * two masqueraded homes DCUtR cannot succeed over TCP (docs/nat.md), so
 * that path is the relay one.
 * Elsewhere the peers run on loopback and the DCUtR path is skipped.
 *
 * @module
 */
import {
  buildInternet,
  type Internet,
  publicIp,
  unavailableReason,
  which,
} from "../tests/system/netns/internet.ts";

const PEER = new URL("./bench_nat_peer.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

/** A peer process and its JSON lines. */
class Peer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  info: Json = {};

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#lines = lines(child.stdout)[Symbol.asyncIterator]();
    this.#writer = child.stdin.getWriter();
    child.stderr.pipeTo(Deno.stderr.writable, { preventClose: true })
      .catch(() => {});
  }

  async next(): Promise<Json> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error("peer exited");
    const parsed = JSON.parse(value) as Json;
    if (parsed.error !== undefined) throw new Error(String(parsed.error));
    return parsed;
  }

  async ask(cmd: Json): Promise<Json> {
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify(cmd) + "\n"),
    );
    return await this.next();
  }

  async exit(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode('{"op":"exit"}\n'))
      .catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }

  get id(): string {
    return String(this.info.peerId);
  }
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  let buffer = "";
  const decoder = new TextDecoderStream() as TransformStream<
    Uint8Array,
    string
  >;
  for await (const text of stream.pipeThrough(decoder)) {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith("{")) yield line;
    }
  }
}

type Spawner = (name: string, setup: Json) => Promise<Peer>;

function peerArgv(setup: Json): string[] {
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    CONFIG,
    PEER,
    JSON.stringify(setup),
  ];
}

async function started(child: Deno.ChildProcess): Promise<Peer> {
  const peer = new Peer(child);
  peer.info = await peer.next();
  return peer;
}

function nsSpawner(inet: Internet): Spawner {
  return (name, setup) =>
    started(inet.spawn(name, peerArgv(setup), { stdin: "piped" }));
}

function localSpawner(): Spawner {
  return (_name, setup) =>
    started(
      new Deno.Command(peerArgv(setup)[0], {
        args: peerArgv(setup).slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
}

interface Row {
  readonly path: string;
  readonly result?: Json;
  readonly skipped?: string;
}

async function measure(
  peer: Peer,
  cmd: Json,
): Promise<Json> {
  return await peer.ask({ op: "send", bytes: BYTES, ...cmd });
}

async function namespaceRun(spawn: Spawner): Promise<Row[]> {
  const relay = await spawn("relay", {
    listen: "/ip4/0.0.0.0/tcp/4001",
    relay: true,
  });
  const boot = [`/ip4/${publicIp(11)}/tcp/4001/p2p/${relay.id}`];
  const [pub1, pub2, h1, h2, h3] = await Promise.all([
    spawn("pub1", { listen: "/ip4/0.0.0.0/tcp/4001", bootstrap: boot }),
    spawn("pub2", { listen: "/ip4/0.0.0.0/tcp/4001", bootstrap: boot }),
    spawn("h1", {
      listen: "/ip4/0.0.0.0/tcp/4001",
      bootstrap: boot,
      upnp: true,
      reservations: 1,
    }),
    spawn("h2", {
      listen: "/ip4/0.0.0.0/tcp/4001",
      bootstrap: boot,
      reservations: 1,
    }),
    spawn("h3", {
      listen: "/ip4/0.0.0.0/tcp/4001",
      bootstrap: boot,
      reservations: 1,
    }),
  ]);
  const peers = [relay, pub1, pub2, h1, h2, h3];
  try {
    await h1.ask({ op: "wait", public: true });
    const h2ready = await h2.ask({ op: "wait" });
    const h3ready = await h3.ask({ op: "wait" });
    const circuitOf = (r: Json) => (r.relayAddresses as string[])[0];
    return [
      {
        path: "direct (public to public)",
        result: await measure(pub1, {
          target: `/ip4/${publicIp(13)}/tcp/4001/p2p/${pub2.id}`,
        }),
      },
      {
        path:
          "DCUtR-upgraded (UPnP home dials a masqueraded home's relay address; DCUtR has it dial back directly)",
        result: await measure(h1, {
          target: circuitOf(h2ready),
          upgrade: true,
        }),
      },
      {
        path: "circuit relay (masqueraded home to masqueraded home)",
        result: await measure(h2, { target: circuitOf(h3ready) }),
      },
    ];
  } finally {
    await Promise.all(peers.map((p) => p.exit()));
  }
}

async function loopbackRun(spawn: Spawner, reason: string): Promise<Row[]> {
  const relay = await spawn("relay", {
    listen: "/ip4/127.0.91.1/tcp/0",
    relay: true,
  });
  const boot = [relay.info.addrs as string[]][0].slice(0, 1);
  const a = await spawn("a", {
    listen: "/ip4/127.0.92.1/tcp/0",
    bootstrap: boot,
  });
  const b = await spawn("b", {
    listen: "/ip4/127.0.93.1/tcp/0",
    bootstrap: boot,
    reservations: 1,
  });
  try {
    const ready = await b.ask({ op: "wait" });
    return [
      {
        path: "direct (loopback)",
        result: await measure(a, { target: (b.info.addrs as string[])[0] }),
      },
      {
        path: "DCUtR-upgraded",
        skipped: `needs network namespaces: ${reason}`,
      },
      {
        path: "circuit relay (loopback)",
        result: await measure(a, {
          target: (ready.relayAddresses as string[])[0],
        }),
      },
    ];
  } finally {
    await Promise.all([relay, a, b].map((p) => p.exit()));
  }
}

function report(rows: readonly Row[]): void {
  const base = rows[0].result?.ms as number | undefined;
  console.log(`64 MiB over each path (baseline: the first row, same run)`);
  for (const row of rows) {
    if (row.result === undefined) {
      console.log(`  ${row.path}: skipped (${row.skipped})`);
      continue;
    }
    const ms = row.result.ms as number;
    const mbps = BYTES / (1024 * 1024) / (ms / 1000);
    const ratio = base === undefined
      ? ""
      : ` (${(ms / base).toFixed(2)}x the direct time)`;
    console.log(
      `  ${row.path}: ${ms.toFixed(0)} ms, ${
        mbps.toFixed(1)
      } MiB/s${ratio}; dialled ${row.result.dialled}, sent over ${row.result.path}`,
    );
  }
}

if (import.meta.main) {
  const reason = await unavailableReason() ??
    ((await which("miniupnpd")) ? undefined : "no miniupnpd command");
  if (reason === undefined) {
    const inet = await buildInternet({
      hosts: [{ name: "relay", net: 11 }, { name: "pub1", net: 12 }, {
        name: "pub2",
        net: 13,
      }],
      homes: [{ name: "h1", net: 21, upnp: true }, { name: "h2", net: 22 }, {
        name: "h3",
        net: 23,
      }],
    });
    try {
      report(await namespaceRun(nsSpawner(inet)));
    } finally {
      await inet.close();
    }
  } else {
    report(await loopbackRun(localSpawner(), reason));
  }
}
