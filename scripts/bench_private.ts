/**
 * `put` and `get` of a private tessera beside a public one of the same
 * size, through real daemons in the same run (issue 19's target: within
 * 15 % of public). The owner puts the file public, private, private,
 * public (so a load that rises or falls steadily on this shared machine
 * weighs on both kinds alike); a stranger gets each through the network;
 * the owner gets the private one from its own blob. Beside each wall
 * time, the CPU seconds all the daemons spent on it (from /proc: less
 * at the mercy of other processes than the wall time). Each put and get goes through the
 * daemon's API as the CLI sends it (the CLI is a thin client of it), so
 * every phase the daemon reports (encrypt, encode, upload; fetch, write)
 * is timed too. Usage:
 * `deno task bench:private [size MiB] [peers, default 8]`; the default size
 * is the largest private tessera, 1 GiB less its encryption overhead (a
 * private tessera's ciphertext, header and tags included, must fit the
 * 1 GiB tessera limit), and both halves put the same file.
 * `TESSERAS_BENCH_CPU_PROF=DIR` writes the owner's and the stranger's
 * V8 CPU profiles (`--cpu-prof`) into DIR when they stop.
 *
 * @module
 */
import { join } from "node:path";
import { MAX_TESSERA_SIZE, toHex } from "../lib/core/mod.ts";
import { maxPlainSize, parseCapability } from "../lib/crypto/mod.ts";
import { ApiClient } from "../lib/node/client/api_client.ts";
import {
  apiGet,
  type DaemonProcess,
  startDaemon,
} from "../tests/system/daemon_process.ts";

const size = Deno.args[0]
  ? Number(Deno.args[0]) * 2 ** 20
  : maxPlainSize(MAX_TESSERA_SIZE);
const sizeMiB = size / 2 ** 20;
const peers = Number(Deno.args[1] ?? 8);
const env = { TESSERAS_DEFICIT_TOLERANCE: String(16 * 2 ** 30) };
const profDir = Deno.env.get("TESSERAS_BENCH_CPU_PROF");

/** A job's time, and the time from each phase's first event to the next's. */
interface Timed {
  readonly seconds: number;
  /** CPU seconds of every daemon (user and system) during the job. */
  readonly cpu: number;
  readonly phases: string;
  readonly result: Record<string, unknown>;
}

/** CPU seconds the daemons have used so far (Linux; 0 elsewhere). */
function daemonsCpu(): number {
  let ticks = 0;
  for (const d of daemons) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${d.child.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* not Linux, or gone */ }
  }
  return ticks / 100;
}

async function timedJob(
  daemon: DaemonProcess,
  path: string,
  body: unknown,
): Promise<Timed> {
  const client = await ApiClient.forDataDir(daemon.dataDir);
  const cpu0 = daemonsCpu();
  const marks: [string, number][] = [["setup", performance.now()]];
  const result = await client.job<Record<string, unknown>>(path, body, {
    onProgress: (e) => {
      if (marks.at(-1)![0] !== e.phase) {
        marks.push([e.phase, performance.now()]);
      }
    },
  });
  const end = performance.now();
  const phases = marks.map(([phase, at], i) =>
    `${phase} ${(((marks[i + 1]?.[1] ?? end) - at) / 1000).toFixed(1)}`
  ).join(", ");
  return {
    seconds: (end - marks[0][1]) / 1000,
    cpu: daemonsCpu() - cpu0,
    phases,
    result,
  };
}

async function writeInput(path: string): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true });
  const block = new Uint8Array(1 << 20);
  for (let left = size; left > 0; left -= block.length) {
    crypto.getRandomValues(block.subarray(0, 65536));
    for (let j = 65536; j < block.length; j += 65536) {
      block.copyWithin(j, 0, 65536);
      block[j] ^= j >> 16;
    }
    const part = block.subarray(0, Math.min(left, block.length));
    for (let off = 0; off < part.length;) {
      off += await f.write(part.subarray(off));
    }
  }
  f.close();
}

const load = () => Deno.loadavg().map((n) => n.toFixed(1)).join(" ");
const root = await Deno.makeTempDir({ prefix: "tesseras-bench-private-" });
const daemons: DaemonProcess[] = [];
const start = async (n: number, boot: string[], profiled = false) => {
  const d = await startDaemon(join(root, `n${n}`), [
    "--listen",
    `/ip4/127.0.${220 + n}.1/tcp/0`,
    ...(boot.length ? ["--bootstrap", ...boot] : []),
  ], {
    env,
    ...(profiled && profDir
      ? { denoFlags: ["--cpu-prof", `--cpu-prof-dir=${profDir}/n${n}`] }
      : {}),
  });
  daemons.push(d);
  return d;
};
try {
  const file = join(root, "big.bin");
  await writeInput(file);
  const boot = await start(0, []);
  const bootAddr =
    (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
  for (let i = 1; i <= peers; i++) {
    await start(i, [bootAddr], i === 1 || i === peers);
  }
  const [owner, stranger] = [daemons[1], daemons[peers]];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const h = await (await fetch(`${boot.url}/health`)).json();
    if (h.peer_count >= peers) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(
    `${size} bytes (${
      sizeMiB.toFixed(2)
    } MiB), ${peers} peers + bootstrap, one machine (2 cores shared), load average ${load()}`,
  );
  const rows: Record<"put" | "get" | "putCpu" | "getCpu", number>[] = [];
  const kinds: string[] = [];
  for (const kind of ["public", "private", "private", "public"]) {
    const put = await timedJob(owner, "/v1/tesseras", {
      path: file,
      private: kind === "private",
    });
    const id = String(put.result.id);
    const out = join(root, "back.bin");
    // A stranger reads a private one with its capability's key.
    const key = kind === "private"
      ? toHex(
        parseCapability(
          (await apiGet<{ capability: string }>(owner, `/v1/share/${id}`))
            .capability,
        ).key,
      )
      : undefined;
    const get = await timedJob(stranger, "/v1/retrieve", { id, out, key });
    const same = await new Deno.Command("cmp", { args: [file, out] }).output();
    if (same.code !== 0) throw new Error(`${kind} round trip differs`);
    await Deno.remove(out);
    let own = "";
    if (kind === "private") {
      const got = await timedJob(owner, "/v1/retrieve", { id, out });
      own = `\n  owner get ${got.seconds.toFixed(1)} s`;
      await Deno.remove(out);
    }
    kinds.push(kind);
    rows.push({
      put: put.seconds,
      get: get.seconds,
      putCpu: put.cpu,
      getCpu: get.cpu,
    });
    console.log(
      `${kind.padEnd(8)} put ${put.seconds.toFixed(1)} s, CPU ${
        put.cpu.toFixed(1)
      } s (${
        (sizeMiB / put.seconds).toFixed(0)
      } MiB/s, tier ${put.result.tier}; ${put.phases})\n  stranger get ${
        get.seconds.toFixed(1)
      } s, CPU ${get.cpu.toFixed(1)} s (${get.phases})${own}  [load ${load()}]`,
    );
  }
  const mean = (kind: string, key: keyof typeof rows[number]) =>
    rows.filter((_, i) => kinds[i] === kind).reduce((n, r) => n + r[key], 0) /
    2;
  console.log(`load average at the end ${load()}`);
  for (const key of ["put", "get"] as const) {
    const ratio = mean("private", key) / mean("public", key);
    const cpu = mean("private", `${key}Cpu`) / mean("public", `${key}Cpu`);
    console.log(
      `${key}: private takes ${((ratio - 1) * 100).toFixed(0)} % ${
        ratio >= 1 ? "longer" : "less"
      } than public (mean of two each; target: within 15 %); daemons' CPU ${
        ((cpu - 1) * 100).toFixed(0)
      } % ${cpu >= 1 ? "more" : "less"}`,
    );
  }
} finally {
  await Promise.all(
    daemons.map((d) => d.stop({ timeoutMs: 30_000 }).catch(() => {})),
  );
  await Deno.remove(root, { recursive: true });
}
