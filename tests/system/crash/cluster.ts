/**
 * The processes of a crash run: daemons on fixed loopback addresses (so a
 * restarted daemon is found where it was), their API calls, and a clean
 * teardown whatever happens.
 *
 * @module
 */
import { apiGet, type DaemonProcess, startDaemon } from "../daemon_process.ts";

/** A daemon that can be killed and restarted on the same data directory. */
export class ManagedDaemon {
  /** Its name in logs. */
  readonly name: string;
  /** Its data directory. */
  readonly dataDir: string;
  /** Its listen multiaddr without `/p2p` (fixed port). */
  readonly listen: string;
  readonly #args: string[];
  readonly #env: Record<string, string>;
  #proc: DaemonProcess | null = null;
  #peerId = "";

  /**
   * @param name shown in logs
   * @param init data directory, listen address, extra `start` args, env
   */
  constructor(
    name: string,
    init: {
      dataDir: string;
      listen: string;
      args?: string[];
      env?: Record<string, string>;
    },
  ) {
    this.name = name;
    this.dataDir = init.dataDir;
    this.listen = init.listen;
    this.#args = init.args ?? [];
    this.#env = init.env ?? {};
  }

  /** The running process, or null. */
  get proc(): DaemonProcess | null {
    return this.#proc;
  }

  /** Peer id (known after the first start). */
  get peerId(): string {
    return this.#peerId;
  }

  /** Full multiaddr with `/p2p/<id>`. */
  get multiaddr(): string {
    return `${this.listen}/p2p/${this.#peerId}`;
  }

  /** Starts the daemon and waits for `/health`; returns the start time, ms. */
  async start(extraArgs: string[] = []): Promise<number> {
    if (this.#proc) throw new Error(`${this.name} is already running`);
    const t0 = performance.now();
    this.#proc = await startDaemon(
      this.dataDir,
      ["--listen", this.listen, ...this.#args, ...extraArgs],
      { env: this.#env, timeoutMs: 60_000 },
    );
    this.#peerId = this.#proc.peerId;
    return performance.now() - t0;
  }

  /** `kill -9` without waiting (the caller awaits {@linkcode reap}). */
  killNow(): void {
    try {
      this.#proc?.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /** Waits for the process to exit after a kill; returns its status. */
  async reap(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    const proc = this.#proc;
    if (!proc) throw new Error(`${this.name} is not running`);
    this.#proc = null;
    return await proc.stop({ signal, timeoutMs: 15_000 });
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    return await this.reap(signal);
  }

  /** Collected stderr of the current process. */
  stderr(): string {
    return this.#proc?.stderr() ?? "";
  }
}

/** GET with the daemon's token. */
export function get<T>(d: ManagedDaemon, path: string): Promise<T> {
  if (!d.proc) throw new Error(`${d.name} is not running`);
  return apiGet<T>(d.proc, path);
}

/** What an API job ended with. */
export type JobOutcome =
  | { readonly kind: "result"; readonly result: Record<string, unknown> }
  | { readonly kind: "error"; readonly code: string; readonly message: string }
  | { readonly kind: "cut"; readonly message: string };

/** POSTs a job route and reads its NDJSON stream to the end (or the cut). */
export async function job(
  d: ManagedDaemon,
  path: string,
  body: unknown,
): Promise<JobOutcome> {
  const proc = d.proc;
  if (!proc) return { kind: "cut", message: `${d.name} is not running` };
  try {
    const res = await fetch(`${proc.url}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${proc.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let last: Record<string, unknown> | null = null;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        last = JSON.parse(line);
      } catch {
        return { kind: "cut", message: "truncated NDJSON line" };
      }
    }
    if (last && typeof last.result === "object" && last.result !== null) {
      return { kind: "result", result: last.result as Record<string, unknown> };
    }
    const err = (last?.error ?? {}) as { code?: string; message?: string };
    if (err.code) {
      return { kind: "error", code: err.code, message: err.message ?? "" };
    }
    return { kind: "cut", message: `no result (HTTP ${res.status})` };
  } catch (e) {
    return { kind: "cut", message: String(e) };
  }
}

/** Waits until `d` is connected to every peer in `peers` (or times out). */
export async function waitConnected(
  d: ManagedDaemon,
  peers: readonly string[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const body = await get<{ connected: { peerId: string }[] }>(
        d,
        "/v1/peers",
      );
      const have = new Set(body.connected.map((p) => p.peerId));
      if (peers.every((p) => have.has(p))) return true;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A free TCP port on `ip` (bound and released at once). */
export function freePort(ip: string): number {
  const l = Deno.listen({ hostname: ip, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
