/**
 * `deno task bench:compare`: the simulator's benchmark runs of this
 * checkout's HEAD and of an older revision side by side, each pair's two
 * processes started together (a same-time comparison: the machine's load
 * falls on both), and both printed with their ratio. The measure of issue
 * 12 ("no slower than the code before the change", 011b7ba).
 *
 * - `--only port` (default): the port level of `bench:sim` (1,000 nodes,
 *   2,000 tesseras, 10 %/month churn, seed `bench`) for `--days D`
 *   (default 30) with the owners the code before issue 14 had (none
 *   leaves: `owners: "stable"`; older code ignores the option). CPU is the
 *   run's own (`process.cpuUsage`), its summary's health figures beside.
 * - `--only libp2p`: `bench:sim --only libp2p` in each checkout (100
 *   libp2p nodes over the memory transport), its wall and CPU line.
 * - `--only bench`: `deno task bench --quick --runs 3` in each checkout
 *   (`--full` drops `--quick`: the 1 GiB cases too), their figures
 *   printed line by line, the base's above HEAD's. The codec kernels are
 *   the same code on both sides; the end-to-end put's encode is the byte
 *   path issue 12 made one.
 * - `--only put`: the same measure on both sides, which `deno task bench`
 *   no longer has in common (its file case times the put's own encode,
 *   stopped at `onEncoded`, which older code lacks): a whole
 *   `putTesseraFile` of `--mib N` MiB (default 64) on a file blob store
 *   with no peer to place on, so the time is the encode, the staging and
 *   the owner's copy; seconds, CPU and peak RSS per run.
 * - `--same-work`: HEAD with `scripts/same_work.patch` applied, which
 *   turns off what issues 14 and 16 added to every sweep and 011b7ba
 *   never did (the stewards' sweep and challenge bookkeeping, holder
 *   announcements, the reciprocity probe), so both sides do the same work.
 *
 * Flags: `--base REV` (default 011b7ba), `--head REV` (default HEAD: the
 * checkout's commit, not its uncommitted changes), `--pairs N` (default
 * 2). `--base 011b7ba --head 446d287` compares issue 12's byte path and
 * orchestrators (446d287 is its last replication commit; the span also
 * holds other issues' commits: codec kernels, outboards, the prove wire,
 * the CLI); `--base d9898df --head 446d287`, the replication commits
 * alone. Needs
 * git and the repository's history; the checkouts are temporary git
 * worktrees, removed at the end.
 *
 * @module
 */
import { dirname, join } from "node:path";

const args = Deno.args;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const base = flag("base") ?? "011b7ba";
const headRev = flag("head") ?? "HEAD";
const only = flag("only") ?? "port";
const days = Number(flag("days") ?? 30);
const pairs = Number(flag("pairs") ?? 2);
const sameWork = args.includes("--same-work");
if (!["port", "libp2p", "bench", "put"].includes(only)) {
  throw new Error(`--only: port, libp2p, bench or put, not ${only}`);
}
const mib = Number(flag("mib") ?? 64);
if (!(Number.isInteger(pairs) && pairs > 0 && days > 0)) {
  throw new Error("--pairs and --days need whole numbers above 0");
}

const repo = join(import.meta.dirname!, "..");

/** One run's figures. */
interface Figures {
  readonly cpu: number;
  readonly wall: number;
  readonly note: string;
}

async function run(
  cmd: string,
  argv: string[],
  cwd?: string,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args: argv,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${argv.join(" ")} failed: ${err.slice(-2000)}`);
  }
  return text;
}

/** A worktree of `rev` under `dir`, with the repository's `../shared`. */
async function checkout(rev: string, dir: string): Promise<string> {
  await run("git", ["-C", repo, "worktree", "add", "--detach", dir, rev]);
  // Some checkouts read the source documents beside the repository.
  const shared = join(repo, "..", "shared");
  try {
    await Deno.symlink(shared, join(dir, "..", "shared"));
  } catch { /* absent, or linked already */ }
  return dir;
}

const PORT_DRIVER = `
import process from "node:process";
const [checkout, days] = Deno.args;
const { runSimulation } = await import(checkout + "/sim/run.ts");
const c0 = process.cpuUsage(), t0 = performance.now();
const r = await runSimulation({ scenario: "default", nodes: 1000,
  days: Number(days), tesseras: 2000, churn: 0.1, scale: 1 / 16384,
  seed: "bench", owners: "stable" });
const c = process.cpuUsage(c0);
const m = r.summary;
console.log(JSON.stringify({ cpu: (c.user + c.system) / 1e6,
  wall: (performance.now() - t0) / 1000,
  note: "healthy " + m.healthy + ", degraded " + m.degraded +
    ", attestations " + m.messages.attest + ", checks " +
    (r.ok ? "pass" : "FAIL") }));
`;

const PUT_DRIVER = `
import process from "node:process";
const [checkout, mib] = Deno.args;
const { ReplicationService } = await import(checkout + "/lib/replication/mod.ts");
const memory = await import(checkout + "/lib/memory/mod.ts");
const { FsBlobStore } = await import(checkout + "/lib/storage/mod.ts");
const dir = await Deno.makeTempDir({ prefix: "tesseras-compare-put-" });
try {
  const input = dir + "/input.bin";
  const piece = new Uint8Array(1 << 20);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 2654435761) >>> 24;
  {
    using f = await Deno.open(input, { write: true, create: true });
    for (let m = 0; m < Number(mib); m++) {
      piece[0] = m;
      await f.write(piece);
    }
  }
  const none = () => Promise.reject(new Error("no peers here"));
  const service = new ReplicationService({
    dht: { selfId: "compare", findClosestPeers: () => Promise.resolve([]),
      replicate: none, requestAttestation: none, ping: none, fetch: none },
    fragments: new memory.MemoryFragmentStore(),
    ledger: new memory.MemoryReciprocityLedger(),
    blobs: new FsBlobStore({ root: dir + "/blobs" }),
    holders: new memory.MemoryHolderRegistry(),
    identity: new memory.MemoryKeyring("compare").identity("compare"),
  });
  const c0 = process.cpuUsage(), t0 = performance.now();
  const outcome = await service.putTesseraFile(input).then(
    (r) => "placed " + (r.placed?.length ?? r.holders?.length ?? "?"),
    (e) => "rejected: " + String(e.message).slice(0, 60));
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ cpu: (c.user + c.system) / 1e6,
    wall: (performance.now() - t0) / 1000,
    note: outcome + ", peak RSS " +
      Math.round(Deno.memoryUsage().rss / 1048576) + " MiB" }));
} finally {
  await Deno.remove(dir, { recursive: true });
}
`;

/** `driver` run on checkout `dir` with `arg`; its last line, as figures. */
async function driverRun(
  dir: string,
  driver: string,
  arg: number,
): Promise<Figures> {
  const text = await run("deno", [
    "run",
    "-A",
    "--config",
    join(dir, "deno.json"),
    driver,
    dir,
    String(arg),
  ], dir);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

async function libp2pRun(dir: string): Promise<Figures> {
  const text = await run(
    "deno",
    ["task", "bench:sim", "--only", "libp2p"],
    dir,
  );
  const line = text.split("\n").find((l) => l.startsWith("libp2p:")) ?? "";
  const wall = Number(/([\d.]+) s wall/.exec(line)?.[1]);
  const cpu = Number(/([\d.]+) s CPU/.exec(line)?.[1]);
  if (!(wall > 0 && cpu > 0)) throw new Error(`no figures in: ${text}`);
  return { cpu, wall, note: line.replace(/^libp2p: /, "").slice(0, 160) };
}

/** `deno task bench`'s lines in `dir`, keyed by their label. */
async function benchLines(dir: string): Promise<Map<string, string>> {
  const argv = ["task", "bench", "--runs", "3"];
  if (!args.includes("--full")) argv.push("--quick");
  const text = await run("deno", argv, dir);
  const lines = new Map<string, string>();
  for (const line of text.split("\n")) {
    // A figure's line: its label, then two or more spaces, then numbers.
    const label = /^(\s*\S.*?)\s{2,}\S/.exec(line)?.[1];
    if (label && /\d/.test(line)) lines.set(label.trim(), line.trim());
  }
  return lines;
}

/** The bench's figures of both checkouts, line by line. */
async function compareBench(old: string, head: string, label: string) {
  const [a, b] = await Promise.all([benchLines(old), benchLines(head)]);
  for (const [key, line] of a) {
    console.log(`${base.padEnd(12)} ${line}`);
    console.log(`${label.padEnd(12)} ${b.get(key) ?? `${key}: absent`}`);
  }
  for (const [key, line] of b) {
    if (!a.has(key)) console.log(`${label.padEnd(12)} ${line} (new)`);
  }
}

/** The simulator's runs of both checkouts, `pairs` pairs. */
async function compareSim(old: string, head: string, label: string) {
  const driver = join(dirname(old), `${only}_driver.ts`);
  await Deno.writeTextFile(driver, only === "put" ? PUT_DRIVER : PORT_DRIVER);
  const one = (dir: string) =>
    only === "libp2p"
      ? libp2pRun(dir)
      : driverRun(dir, driver, only === "put" ? mib : days);
  const level = only === "port"
    ? `port level, ${days} days`
    : only === "put"
    ? `putTesseraFile of ${mib} MiB, no peers`
    : "libp2p level";
  console.log(
    `${level}: ${base} against ${label}, ${pairs} pair(s) started together`,
  );
  for (let i = 1; i <= pairs; i++) {
    const [a, b] = await Promise.all([one(old), one(head)]);
    for (const [name, f] of [[base, a], [label, b]] as const) {
      console.log(
        `pair ${i}: ${name} ${f.cpu.toFixed(1)} s CPU, ${
          f.wall.toFixed(1)
        } s wall (${f.note})`,
      );
    }
    const cpu = (b.cpu / a.cpu).toFixed(2);
    const wall = (b.wall / a.wall).toFixed(2);
    console.log(`pair ${i}: ${headRev} / ${base}: CPU ${cpu}, wall ${wall}`);
  }
}

const tmp = await Deno.makeTempDir({ prefix: "tesseras-compare-" });
const dirs: string[] = [];
try {
  const old = await checkout(base, join(tmp, "base"));
  dirs.push(old);
  const head = await checkout(headRev, join(tmp, "head"));
  dirs.push(head);
  if (sameWork) {
    await run("git", ["apply", join(repo, "scripts", "same_work.patch")], head);
  }
  const label = `${headRev}${sameWork ? " (same work)" : ""}`;
  if (only === "bench") {
    console.log(`bench: ${base} against ${label}, started together`);
    await compareBench(old, head, label);
  } else {
    await compareSim(old, head, label);
  }
} finally {
  for (const dir of dirs) {
    await run("git", ["-C", repo, "worktree", "remove", "--force", dir])
      .catch(() => {});
  }
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
