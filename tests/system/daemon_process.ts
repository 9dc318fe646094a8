/**
 * Runs real `tesseras start` daemon processes for system tests.
 *
 * @module
 */
import { join } from "node:path";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A daemon child process and how to reach it. */
export interface DaemonProcess {
  /** Its data directory. */
  readonly dataDir: string;
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** API base URL from api.json. */
  readonly url: string;
  /** API token from api.json. */
  readonly token: string;
  /** The daemon's peer id. */
  readonly peerId: string;
  /** Collected standard error so far. */
  stderr(): string;
  /** Send `signal` and wait for the exit status (ms limit). */
  stop(
    options?: { signal?: Deno.Signal; timeoutMs?: number },
  ): Promise<Deno.CommandStatus>;
}

/**
 * Arguments of `tesseras` run through Deno with the node's permissions
 * (and `denoFlags`, e.g. `--inspect=127.0.0.1:0` for a profiler).
 */
export function tesserasArgs(
  args: readonly string[],
  denoFlags: readonly string[] = [],
): string[] {
  return [
    "run",
    ...denoFlags,
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--allow-sys",
    MAIN,
    ...args,
  ];
}

/**
 * Runs a one-shot `tesseras` command, with `options.stdin` as its
 * standard input (none otherwise); resolves with its output.
 */
export async function runTesseras(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: tesserasArgs(args),
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: options.stdin === undefined ? "null" : "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * Runs `tesseras --data-dir dir …args` (with `stdin` as its input) and
 * resolves with its standard output; throws with its standard error when
 * it fails.
 */
export async function tesserasOk(
  dir: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const out = await runTesseras(["--data-dir", dir, ...args], { stdin });
  if (out.code !== 0) {
    throw new Error(
      `tesseras ${args.join(" ")} failed (${out.code}): ${out.stderr}`,
    );
  }
  return out.stdout;
}

async function readApiJson(path: string) {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/**
 * Starts `tesseras start --data-dir dataDir …args` and waits until its
 * `api.json` appears and `/health` answers.
 */
export async function startDaemon(
  dataDir: string,
  args: readonly string[] = [],
  options: {
    timeoutMs?: number;
    env?: Record<string, string>;
    denoFlags?: readonly string[];
  } = {},
): Promise<DaemonProcess> {
  const apiPath = join(dataDir, "api.json");
  await Deno.remove(apiPath).catch(() => {});
  const child = new Deno.Command(Deno.execPath(), {
    args: tesserasArgs([
      "start",
      "--data-dir",
      dataDir,
      "--api",
      "127.0.0.1:0",
      ...args,
    ], options.denoFlags),
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errText = "";
  const dec = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) errText += dec.decode(chunk);
  };
  const drained = Promise.all([drain(child.stderr), drain(child.stdout)]);
  const status = child.status;
  let exited: Deno.CommandStatus | null = null;
  status.then((s) => (exited = s));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited) {
      await drained;
      throw new Error(`daemon exited early (${exited}):\n${errText}`);
    }
    const info = await readApiJson(apiPath);
    if (info?.pid === child.pid) {
      const res = await fetch(`${info.url}/health`).catch(() => null);
      if (res?.ok) {
        await res.body?.cancel();
        return {
          dataDir,
          child,
          url: info.url,
          token: info.token,
          peerId: info.peerId,
          stderr: () => errText,
          async stop({ signal = "SIGTERM", timeoutMs = 5_000 } = {}) {
            if (!exited) {
              try {
                child.kill(signal);
              } catch { /* already gone */ }
            }
            let timer: ReturnType<typeof setTimeout> | undefined;
            const timeout = new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(
                    new Error(`daemon did not exit within ${timeoutMs}ms`),
                  ),
                timeoutMs,
              );
            });
            try {
              const s = await Promise.race([status, timeout]);
              await drained;
              return s;
            } catch (err) {
              child.kill("SIGKILL");
              await status;
              await drained;
              throw err;
            } finally {
              clearTimeout(timer);
            }
          },
        };
      }
      await res?.body?.cancel();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await status;
  await drained;
  throw new Error(`daemon did not become healthy:\n${errText}`);
}

/**
 * Daemons of one test on distinct loopback /24s, `127.0.{base + n}.1`,
 * stopped together at the end.
 */
export class LoopbackNet {
  /** The daemons running now. */
  readonly daemons: DaemonProcess[] = [];
  readonly #base: number;
  readonly #env: Record<string, string> | undefined;

  /**
   * @param base the third octet of node 0's address
   * @param options `env`: variables every daemon starts with
   */
  constructor(base: number, options: { env?: Record<string, string> } = {}) {
    this.#base = base;
    this.#env = options.env;
  }

  /** Start node `n` on `dir`, joining through `bootstrap`. */
  async start(
    dir: string,
    n: number,
    bootstrap: readonly string[] = [],
  ): Promise<DaemonProcess> {
    const d = await startDaemon(dir, [
      "--listen",
      `/ip4/127.0.${this.#base + n}.1/tcp/0`,
      ...(bootstrap.length ? ["--bootstrap", ...bootstrap] : []),
    ], this.#env ? { env: this.#env } : {});
    this.daemons.push(d);
    return d;
  }

  /** Stop one daemon (SIGTERM unless told) and forget it. */
  async stop(d: DaemonProcess, signal: Deno.Signal = "SIGTERM"): Promise<void> {
    await d.stop({ signal });
    this.daemons.splice(this.daemons.indexOf(d), 1);
  }

  /** Stop every daemon still running. */
  async stopAll(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop().catch(() => {})));
    this.daemons.length = 0;
  }
}

/** GETs an API route with the daemon's token and decodes JSON. */
export async function apiGet<T = unknown>(
  daemon: DaemonProcess,
  path: string,
): Promise<T> {
  const res = await fetch(`${daemon.url}${path}`, {
    headers: { authorization: `Bearer ${daemon.token}` },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body as T;
}

/** Polls `check` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs `fn` in a fresh temp directory, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  options: { prefix?: string } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({
    prefix: options.prefix ?? "tesseras-sys-",
  });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `n` bytes from the system's CSPRNG (64 KiB per call, its limit). */
export function randomBytes(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) {
    crypto.getRandomValues(data.subarray(at, Math.min(n, at + 65536)));
  }
  return data;
}
