/**
 * Real `tesseras` daemons and CLI calls inside the namespaces of an
 * {@linkcode Internet}. The test process cannot reach a namespace's
 * loopback API, so it talks to each daemon through the CLI run inside the
 * same namespace (which reads the data directory's api.json).
 *
 * @module
 */
import { type Internet, type RunResult, which } from "./internet.ts";
import { loadOrCreateIdentity } from "../../../lib/net/mod.ts";
import { dataLayout, prepareNodeKeys } from "../../../lib/node/mod.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;

/** A daemon in a namespace. */
export interface NsDaemon {
  /** Namespace short name. */
  readonly name: string;
  /** Its data directory. */
  readonly dataDir: string;
  /** Its peer id. */
  readonly peerId: string;
  /** The `ip netns exec … tesseras start` process. */
  readonly child: Deno.ChildProcess;
  /** Its standard error so far (logs). */
  log(): string;
}

function denoArgs(args: readonly string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--config", CONFIG, MAIN, ...args];
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: string[],
): Promise<void> {
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    sink.push(dec.decode(chunk, { stream: true }));
    if (sink.length > 4000) sink.splice(0, 1000);
  }
}

/**
 * Start `tesseras start` in namespace `name`, listening on every
 * interface, and wait for its api.json.
 */
export async function startNsDaemon(
  inet: Internet,
  name: string,
  options: {
    dataDir: string;
    args?: readonly string[];
    timeoutMs?: number;
    env?: Record<string, string>;
  },
): Promise<NsDaemon> {
  const child = inet.spawn(
    name,
    denoArgs([
      "start",
      "--data-dir",
      options.dataDir,
      "--listen",
      "/ip4/0.0.0.0/tcp/4001",
      "--api",
      "127.0.0.1:7431",
      ...(options.args ?? []),
    ]),
    { env: { NO_COLOR: "1", TESSERAS_LOG_LEVEL: "info", ...options.env } },
  );
  const logs: string[] = [];
  collect(child.stderr, logs).catch(() => {});
  child.stdout.cancel().catch(() => {});
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    try {
      const info = JSON.parse(
        await Deno.readTextFile(`${options.dataDir}/api.json`),
      );
      if (typeof info.peerId === "string") {
        return {
          name,
          dataDir: options.dataDir,
          peerId: info.peerId,
          child,
          log: () => logs.join(""),
        };
      }
    } catch {
      // Not written yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`daemon in ${name} did not start: ${logs.join("")}`);
}

/**
 * Create the node keys of a fresh data directory the way `tesseras start`
 * would (recovery phrase, identity derived from it) and return its peer
 * id: every daemon's bootstrap address is known before any starts, so
 * they can all start at once.
 */
export async function presetIdentity(dataDir: string): Promise<string> {
  const layout = dataLayout(dataDir);
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keys = await prepareNodeKeys(layout);
  const { peerId } = await loadOrCreateIdentity(layout.identity, {
    seed: keys?.identitySeed,
  });
  return peerId.toString();
}

/** Run `tesseras --data-dir … args` next to `daemon`, in its namespace. */
export function cli(
  inet: Internet,
  daemon: NsDaemon,
  args: readonly string[],
): Promise<RunResult> {
  return inet.exec(
    daemon.name,
    denoArgs(["--data-dir", daemon.dataDir, ...args]),
  );
}

/** The `reachability` object of a daemon's `/health`. */
export interface HealthReachability {
  readonly status: string;
  readonly addresses: string[];
  readonly relay_addresses: string[];
  readonly relay: Record<string, number | boolean>;
}

/** A daemon's `/health` through curl in its namespace. */
export async function healthOf(
  inet: Internet,
  daemon: NsDaemon,
): Promise<{ peer_count: number; reachability: HealthReachability }> {
  const r = await inet.exec(daemon.name, [
    "curl",
    "-sf",
    "--max-time",
    "5",
    "http://127.0.0.1:7431/health",
  ]);
  if (!r.ok) throw new Error(`/health in ${daemon.name} failed`);
  return JSON.parse(r.stdout);
}

/**
 * `/health`'s reachability of `daemon`, through curl in its namespace
 * (a deno CLI start costs a second; curl a few ms). Without curl:
 * `tesseras id --json`.
 */
export async function reachabilityOf(
  inet: Internet,
  daemon: NsDaemon,
): Promise<HealthReachability> {
  if (await hasCurl) return (await healthOf(inet, daemon)).reachability;
  const r = await cli(inet, daemon, ["id", "--json"]);
  if (!r.ok) throw new Error(`id in ${daemon.name} failed: ${r.stderr}`);
  const id = JSON.parse(r.stdout);
  return {
    status: id.reachability,
    addresses: id.dialableAddresses,
    relay_addresses: [],
    relay: {},
  };
}

const hasCurl = which("curl");

/** Poll `check` every 500 ms until it is true; throw `what` on timeout. */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}
