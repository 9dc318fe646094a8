/**
 * `deno task bench:net`: put and get at the transport's speed? Real daemons
 * (8 by default), each on its own loopback /24 (127.0.N.1), put a file of
 * each size and a node that holds none of it (started after the puts) gets
 * it back. Beside each put and each get, in the same run, the same number
 * of bytes crosses one TCP + Noise + Yamux connection between two processes
 * (`scripts/net_raw.ts`): the transport's own ceiling here.
 *
 * Printed per step: seconds, goodput (file bytes/s), wire bytes/s (TCP
 * bytes the owner sent, or the getter received, from `ss`: shards, parity
 * and every header), the raw connection's rate, the ratios, and each
 * node's peak RSS during that step (VmHWM, reset before the step through
 * /proc/PID/clear_refs). MB = 10^6 bytes.
 *
 * Flags: `--sizes 256MiB,1GiB` (KiB/MiB/GiB), `--nodes 8`, `--no-raw`,
 * `--profile DIR` (CPU profiles of the owner, the getter and one holder
 * per step, through the inspector, summarised on screen and written as
 * `.cpuprofile` files), `--json FILE` (the figures, machine-readable),
 * `--logs DIR` (each daemon's log; `BENCH_NET_LOG=debug` for per-shard
 * lines), `--replication JSON` (settings for every node's tesseras.json,
 * e.g. `'{"concurrentTransfers":8}'`).
 * Needs about 4.5 × the sizes' sum free under /tmp (input, owner's blob,
 * 1.5 × in shards, the get's output); checked first. Data directories are
 * removed at the end.
 *
 * @module
 */
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  startDaemon,
} from "../tests/system/daemon_process.ts";
import {
  type CpuProfile,
  formatSummary,
  InspectorProfiler,
  inspectorUrl,
  summarizeProfile,
} from "./cpu_profile.ts";

const MB = 1e6;
const MIB = 1 << 20;
/** The third octet of node 0's address; node i is 127.0.(BASE+i).1. */
const SUBNET_BASE = 160;
const ENV = {
  // Holders take everything the bench puts (the default tolerance is 256 MB).
  TESSERAS_DEFICIT_TOLERANCE: String(16 * 2 ** 30),
  // BENCH_NET_LOG=debug (with --logs DIR) for per-shard timestamps.
  TESSERAS_LOG: Deno.env.get("BENCH_NET_LOG") ?? "warn",
};

interface Options {
  sizes: number[];
  nodes: number;
  raw: boolean;
  profileDir?: string;
  jsonPath?: string;
  logsDir?: string;
  /** `replication` settings written to every node's tesseras.json. */
  replication?: Record<string, unknown>;
}

/** Bytes from "256MiB", "1GiB", "64KiB" or a plain number. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size ${JSON.stringify(text)}: use e.g. 256MiB`);
  const unit = { kib: 1 << 10, mib: MIB, gib: 1 << 30 }[
    (m[2] ?? "").toLowerCase()
  ] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

function parseArgs(args: string[]): Options {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nodes = Number(value("--nodes") ?? 8);
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 60) {
    throw new Error("--nodes must be an integer from 2 to 60");
  }
  return {
    sizes: (value("--sizes") ?? "256MiB,1GiB").split(",").map(parseSize),
    nodes,
    raw: !args.includes("--no-raw"),
    profileDir: value("--profile"),
    jsonPath: value("--json"),
    logsDir: value("--logs"),
    replication: value("--replication") === undefined
      ? undefined
      : JSON.parse(value("--replication")!),
  };
}

const label = (bytes: number) =>
  bytes >= 1 << 30 && bytes % (1 << 30) === 0
    ? `${bytes / (1 << 30)} GiB`
    : `${(bytes / MIB).toFixed(bytes % MIB ? 1 : 0)} MiB`;

/** Free bytes of the file system holding `dir` (`df`). */
async function freeBytes(dir: string): Promise<number> {
  const out = await new Deno.Command("df", {
    args: ["-B1", "--output=avail", dir],
  })
    .output();
  return Number(new TextDecoder().decode(out.stdout).trim().split("\n")[1]);
}

/** `VmHWM` (peak RSS) of a process, MiB. */
function peakRssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Reset a process's peak RSS to its current RSS (Linux ≥ 4.0). */
function resetPeakRss(pid: number): void {
  Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** TCP bytes sent and received so far by sockets bound to `ip` (`ss`). */
async function tcpBytes(
  ip: string,
): Promise<{ sent: number; received: number }> {
  const out = await new Deno.Command("ss", {
    args: ["-tinH", "state", "established"],
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  let sent = 0, received = 0;
  for (let i = 0; i + 1 < lines.length; i++) {
    const cols = lines[i].trim().split(/\s+/);
    if (!cols[2]?.startsWith(`${ip}:`)) continue;
    const info = lines[i + 1];
    sent += Number(/bytes_acked:(\d+)/.exec(info)?.[1] ?? 0);
    received += Number(/bytes_received:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return { sent, received };
}

/** A file of `bytes` incompressible bytes (64 KiB of randomness, varied). */
async function writeInput(path: string, bytes: number): Promise<void> {
  using f = await Deno.open(path, { write: true, create: true });
  const block = new Uint8Array(MIB);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let at = 0, n = 0; at < bytes; at += block.length, n++) {
    for (let j = 65536; j < block.length; j += 65536) {
      block.copyWithin(j, 0, 65536);
      block[j] ^= n;
      block[j + 1] ^= j >> 16;
    }
    const piece = block.subarray(0, Math.min(block.length, bytes - at));
    for (let o = 0; o < piece.length;) o += await f.write(piece.subarray(o));
  }
}

/** One run of the raw transfer: seconds and both sides' peak RSS. */
export interface RawResult {
  readonly seconds: number;
  readonly senderPeakMiB: number;
  readonly receiverPeakMiB: number;
  /** CPU seconds of the sender and the receiver during the transfer. */
  readonly cpu: { sender: number; receiver: number };
}

/**
 * `bytes` over one fresh TCP + Noise + Yamux connection from a process on
 * `clientIp` to one on `serverIp` (see scripts/net_raw.ts).
 */
export async function rawTransfer(
  bytes: number,
  ips: { serverIp: string; clientIp: string },
): Promise<RawResult> {
  const script = new URL("./net_raw.ts", import.meta.url).pathname;
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "serve", ips.serverIp],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const first = (await reader.read()).value ?? "";
    const { addr } = JSON.parse(first.split("\n")[0]);
    const cpu0 = cpuSeconds(server.pid);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, "send", addr, String(bytes), ips.clientIp],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("raw transfer failed");
    const sent = JSON.parse(new TextDecoder().decode(out.stdout));
    const receiverPeakMiB = peakRssMiB(server.pid);
    const receiverCpu = cpuSeconds(server.pid) - cpu0;
    await reader.cancel();
    return {
      seconds: sent.seconds,
      senderPeakMiB: sent.peakRssMiB,
      receiverPeakMiB,
      cpu: { sender: sent.cpuSeconds, receiver: receiverCpu },
    };
  } finally {
    await server.stdin.close().catch(() => {});
    await server.status;
  }
}

/** Seconds from a job's start to the first and last event of each phase. */
export type PhaseTimes = Record<string, { first: number; last: number }>;

/**
 * POSTs an NDJSON job to a daemon's API; resolves with its `result` and
 * when each progress phase (`encode`, `upload`) was first and last seen.
 */
async function apiJob(
  d: DaemonProcess,
  path: string,
  body: unknown,
): Promise<{ result: Record<string, unknown>; phases: PhaseTimes }> {
  const t0 = performance.now();
  const res = await fetch(`${d.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${d.token}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  const phases: PhaseTimes = {};
  let rest = "";
  for await (const text of res.body!.pipeThrough(new TextDecoderStream())) {
    const at = (performance.now() - t0) / 1000;
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      const msg = JSON.parse(line);
      if (msg.result) return { result: msg.result, phases };
      if (msg.error) throw new Error(`${path}: ${JSON.stringify(msg.error)}`);
      const phase = msg.progress?.phase;
      if (phase) (phases[phase] ??= { first: at, last: at }).last = at;
    }
  }
  throw new Error(`${path}: the job ended without a result`);
}

/** The running network of the bench. */
class Cluster {
  readonly daemons: DaemonProcess[] = [];
  readonly ips: string[] = [];
  #bootAddr = "";

  constructor(
    readonly root: string,
    readonly denoFlags: string[],
    readonly replication?: Record<string, unknown>,
  ) {}

  /** Start node `i` on 127.0.(BASE+i).1 (node 0 is everyone's bootstrap). */
  async start(i: number): Promise<DaemonProcess> {
    const ip = `127.0.${SUBNET_BASE + i}.1`;
    const dir = join(this.root, `n${i}`);
    if (this.replication) {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(
        join(dir, "tesseras.json"),
        JSON.stringify({ replication: this.replication }),
      );
    }
    const d = await startDaemon(dir, [
      "--listen",
      `/ip4/${ip}/tcp/0`,
      ...(this.#bootAddr ? ["--bootstrap", this.#bootAddr] : []),
    ], { env: ENV, denoFlags: this.denoFlags });
    this.daemons[i] = d;
    this.ips[i] = ip;
    if (i === 0) {
      this.#bootAddr =
        (await apiGet<{ addresses: string[] }>(d, "/v1/id")).addresses[0];
    }
    return d;
  }

  /** Wait until `d` is connected to `peers` others (then 2 s for the DHT). */
  async settle(d: DaemonProcess, peers: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const h = await (await fetch(`${d.url}/health`)).json();
      if (h.peer_count >= peers) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 2000));
  }

  /** Each daemon's standard error into `dir/nI.log`. */
  async saveLogs(dir: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    for (const [i, d] of this.daemons.entries()) {
      await Deno.writeTextFile(join(dir, `n${i}.log`), d.stderr());
    }
  }

  async stop(): Promise<void> {
    for (const d of this.daemons.toReversed()) await d?.stop().catch(() => {});
  }
}

/** What one put or get measured. */
interface StepResult {
  readonly size: number;
  readonly step: "put" | "get";
  readonly seconds: number;
  readonly wireBytes: number;
  readonly peakMiB: number[];
  /** CPU seconds each node used during the step. */
  readonly cpu: number[];
  readonly raw?: RawResult;
  /** When the job's progress phases were seen (put: encode, upload). */
  readonly phases: PhaseTimes;
}

/** Profiles of the named daemons while `work` runs (when profiling). */
async function profiled<T>(
  prefix: string | undefined,
  targets: [string, DaemonProcess][],
  work: () => Promise<T>,
): Promise<T> {
  if (prefix === undefined) return await work();
  const sessions = await Promise.all(targets.map(async ([name, d]) => {
    const url = inspectorUrl(d.stderr());
    if (url === null) throw new Error(`${name}: no inspector address`);
    const p = await InspectorProfiler.attach(url);
    await p.start();
    return [name, p] as const;
  }));
  try {
    return await work();
  } finally {
    for (const [name, p] of sessions) {
      const profile: CpuProfile = await p.stop();
      p.close();
      await Deno.writeTextFile(
        `${prefix}-${name}.cpuprofile`,
        JSON.stringify(profile),
      );
      console.log(
        `profile of ${name}:\n${formatSummary(summarizeProfile(profile))}`,
      );
    }
  }
}

/** Runs `work` with every node's peak RSS reset before and read after. */
async function step(
  cluster: Cluster,
  wireOf: { ip: string; dir: "sent" | "received" },
  work: () => Promise<unknown>,
): Promise<
  { seconds: number; wireBytes: number; peakMiB: number[]; cpu: number[] }
> {
  const pids = cluster.daemons.map((d) => d.child.pid);
  pids.forEach(resetPeakRss);
  const cpu0 = pids.map(cpuSeconds);
  const before = await tcpBytes(wireOf.ip);
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const after = await tcpBytes(wireOf.ip);
  return {
    seconds,
    wireBytes: after[wireOf.dir] - before[wireOf.dir],
    peakMiB: pids.map(peakRssMiB),
    cpu: pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]),
  };
}

function printStep(r: StepResult, roles: string[]): void {
  const good = r.size / MB / r.seconds;
  const wire = r.wireBytes / MB / r.seconds;
  const raw = r.raw ? r.size / MB / r.raw.seconds : NaN;
  const ratio = (
    x: number,
  ) => (r.raw ? `${(100 * x / raw).toFixed(0)} %` : "n/a");
  console.log(
    `${label(r.size).padEnd(8)} ${r.step}  ${
      r.seconds.toFixed(2).padStart(6)
    } s` +
      `  goodput ${good.toFixed(0).padStart(4)} MB/s (${ratio(good)} of raw)` +
      `  wire ${wire.toFixed(0).padStart(4)} MB/s (${ratio(wire)})` +
      (r.raw
        ? `  raw ${raw.toFixed(0)} MB/s in ${r.raw.seconds.toFixed(2)} s` +
          ` (peak RSS ${r.raw.senderPeakMiB.toFixed(0)}/${
            r.raw.receiverPeakMiB.toFixed(0)
          } MiB, cpu ${r.raw.cpu.sender.toFixed(1)}/${
            r.raw.cpu.receiver.toFixed(1)
          } s)`
        : ""),
  );
  const phases = Object.entries(r.phases).map(([p, t]) =>
    `${p} ${t.first.toFixed(1)}-${t.last.toFixed(1)} s`
  );
  if (phases.length > 0) console.log(`         phases: ${phases.join(", ")}`);
  console.log(
    `         peak RSS MiB: ${
      r.peakMiB.map((m, i) => `${roles[i]} ${m.toFixed(0)}`).join(", ")
    }`,
  );
  const cpuSum = r.cpu.reduce((a, b) => a + b, 0);
  console.log(
    `         cpu s: ${
      r.cpu.map((c, i) => `${roles[i]} ${c.toFixed(1)}`).join(", ")
    }; all ${cpuSum.toFixed(1)}`,
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(Deno.args);
  const need = opts.sizes.reduce((a, b) => a + b, 0) * 4.5 + 512 * MIB;
  const free = await freeBytes("/tmp");
  console.log(
    `/tmp: ${(free / 2 ** 30).toFixed(1)} GiB free, need ~${
      (need / 2 ** 30).toFixed(1)
    } GiB`,
  );
  if (free < need) throw new Error("not enough free space under /tmp");
  const root = await Deno.makeTempDir({ prefix: "tesseras-bench-net-" });
  if (opts.profileDir) await Deno.mkdir(opts.profileDir, { recursive: true });
  const cluster = new Cluster(
    root,
    opts.profileDir ? ["--inspect=127.0.0.1:0"] : [],
    opts.replication,
  );
  const results: StepResult[] = [];
  try {
    await run(cluster, opts, results);
  } finally {
    await cluster.stop();
    if (opts.logsDir) await cluster.saveLogs(opts.logsDir);
    await Deno.remove(root, { recursive: true });
  }
  if (opts.jsonPath) {
    await Deno.writeTextFile(opts.jsonPath, JSON.stringify(results, null, 2));
  }
}

/** What the put and get steps share. */
interface Bench {
  readonly cluster: Cluster;
  readonly opts: Options;
  readonly results: StepResult[];
  readonly roles: string[];
  raw(bytes: number): Promise<RawResult | undefined>;
  profileName(what: string, size: number): string | undefined;
}

async function run(
  cluster: Cluster,
  opts: Options,
  results: StepResult[],
): Promise<void> {
  const n = opts.nodes;
  for (let i = 0; i < n; i++) await cluster.start(i);
  await cluster.settle(cluster.daemons[0], n - 1);
  const rawIps = {
    serverIp: `127.0.${SUBNET_BASE + n + 1}.1`,
    clientIp: `127.0.${SUBNET_BASE + n + 2}.1`,
  };
  const bench: Bench = {
    cluster,
    opts,
    results,
    roles: Array.from(
      { length: n + 1 },
      (_, i) => i === 1 ? "owner" : i === n ? "getter" : `n${i}`,
    ),
    raw: (bytes) =>
      opts.raw ? rawTransfer(bytes, rawIps) : Promise.resolve(undefined),
    profileName: (what, size) =>
      opts.profileDir &&
      join(opts.profileDir, `${what}-${label(size).replace(" ", "")}`),
  };
  console.log(
    `${n} daemons on 127.0.${SUBNET_BASE}-${SUBNET_BASE + n - 1}.1 (n1 puts),` +
      ` getter on 127.0.${SUBNET_BASE + n}.1; load ${
        Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
      }`,
  );
  const ids = [];
  for (const size of opts.sizes) ids.push(await putStep(bench, size));
  // The getter joins after the puts, so it holds none of their shards.
  const getter = await cluster.start(n);
  await cluster.settle(getter, n);
  for (const [k, size] of opts.sizes.entries()) {
    await getStep(bench, { id: ids[k], size });
  }
}

/** Put a fresh file of `size` bytes from node 1; returns the tessera id. */
async function putStep(bench: Bench, size: number): Promise<string> {
  const { cluster } = bench;
  const owner = cluster.daemons[1];
  const input = join(cluster.root, `input-${size}.bin`);
  await writeInput(input, size);
  const raw = await bench.raw(size);
  let id = "";
  let phases: PhaseTimes = {};
  const m = await profiled(
    bench.profileName("put", size),
    [["owner", owner], ["holder", cluster.daemons[2]]],
    () =>
      step(cluster, { ip: cluster.ips[1], dir: "sent" }, async () => {
        const job = await apiJob(owner, "/v1/tesseras", { path: input });
        if (Number(job.result.unplaced) > 0) {
          throw new Error(`unplaced: ${JSON.stringify(job.result)}`);
        }
        id = String(job.result.id);
        phases = job.phases;
      }),
  );
  bench.results.push({ size, step: "put", ...m, raw, phases });
  printStep(bench.results.at(-1)!, bench.roles);
  await Deno.remove(input);
  return id;
}

/** Get tessera `id` back on the getter (the last node). */
async function getStep(
  bench: Bench,
  tessera: { id: string; size: number },
): Promise<void> {
  const { cluster } = bench;
  const getter = cluster.daemons.at(-1)!;
  const { size } = tessera;
  const out = join(cluster.root, `out-${size}.bin`);
  const raw = await bench.raw(size);
  const m = await profiled(
    bench.profileName("get", size),
    [["getter", getter], ["holder", cluster.daemons[2]]],
    () =>
      step(cluster, { ip: cluster.ips.at(-1)!, dir: "received" }, async () => {
        const { result } = await apiJob(getter, "/v1/retrieve", {
          id: tessera.id,
          out,
        });
        if (result.size !== size) {
          throw new Error(`got ${result.size} of ${size} bytes`);
        }
      }),
  );
  bench.results.push({ size, step: "get", ...m, raw, phases: {} });
  printStep(bench.results.at(-1)!, bench.roles);
  await Deno.remove(out);
}

if (import.meta.main) await main();
