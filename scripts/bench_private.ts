/**
 * `put` and `get` of a private tessera beside a public one of the same
 * size, through real daemons in the same run (issue 19's target: within
 * 15 % of public). The owner puts the file public, then private, then
 * public and private again (the second pair checks drift on this shared
 * machine); a stranger gets each through the network; the owner gets the
 * private one from its own blob. Usage:
 * `deno task bench:private [size MiB] [peers, default 8]`; the default size
 * is the largest private tessera, 1 GiB − 65,576 bytes (issue 19's 1 GiB:
 * a private tessera's ciphertext, header and tags included, must fit the
 * 1 GiB tessera limit), and both halves put the same file.
 *
 * @module
 */
import { join } from "node:path";
import { MAX_TESSERA_SIZE } from "../lib/core/mod.ts";
import { maxPlainSize } from "../lib/crypto/mod.ts";
import {
  apiGet,
  type DaemonProcess,
  runTesseras,
  startDaemon,
} from "../tests/system/daemon_process.ts";

const size = Deno.args[0]
  ? Number(Deno.args[0]) * 2 ** 20
  : maxPlainSize(MAX_TESSERA_SIZE);
const sizeMiB = size / 2 ** 20;
const peers = Number(Deno.args[1] ?? 8);
const env = { TESSERAS_DEFICIT_TOLERANCE: String(16 * 2 ** 30) };

async function timed(
  args: string[],
  stdin?: string,
): Promise<{ seconds: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const out = await runTesseras(args, { env, stdin });
  const seconds = (performance.now() - t0) / 1000;
  if (out.code !== 0) throw new Error(`${args.join(" ")}: ${out.stderr}`);
  return { seconds, json: JSON.parse(out.stdout || "{}") };
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

const root = await Deno.makeTempDir({ prefix: "tesseras-bench-private-" });
const daemons: DaemonProcess[] = [];
const start = async (n: number, boot: string[]) => {
  const d = await startDaemon(join(root, `n${n}`), [
    "--listen",
    `/ip4/127.0.${220 + n}.1/tcp/0`,
    ...(boot.length ? ["--bootstrap", ...boot] : []),
  ], { env });
  daemons.push(d);
  return d;
};
try {
  const file = join(root, "big.bin");
  await writeInput(file);
  const boot = await start(0, []);
  const bootAddr =
    (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
  for (let i = 1; i <= peers; i++) await start(i, [bootAddr]);
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
    } MiB), ${peers} peers + bootstrap, one machine (2 cores shared), load average ${
      Deno.loadavg().map((n) => n.toFixed(1)).join(" ")
    }`,
  );
  const rows: { kind: string; put: number; get: number; own?: number }[] = [];
  for (const kind of ["public", "private", "public", "private"]) {
    const flags = kind === "private" ? ["--private"] : [];
    const put = await timed([
      "--data-dir",
      owner.dataDir,
      "put",
      file,
      ...flags,
      "--json",
    ]);
    const id = String(put.json.id);
    const out = join(root, "back.bin");
    // A stranger reads a private one with its capability, on stdin.
    const capability = kind === "private"
      ? (await runTesseras(["--data-dir", owner.dataDir, "share", id], { env }))
        .stdout
      : undefined;
    const target = capability ? ["--capability"] : [id];
    const get = await timed(
      ["--data-dir", stranger.dataDir, "get", ...target, "-o", out, "--json"],
      capability,
    );
    const same = await new Deno.Command("cmp", { args: [file, out] }).output();
    if (same.code !== 0) throw new Error(`${kind} round trip differs`);
    await Deno.remove(out);
    let own: number | undefined;
    if (kind === "private") {
      own = (await timed(
        ["--data-dir", owner.dataDir, "get", id, "-o", out, "--json"],
      )).seconds;
      await Deno.remove(out);
    }
    rows.push({ kind, put: put.seconds, get: get.seconds, own });
    console.log(
      `${kind.padEnd(8)} put ${put.seconds.toFixed(1)} s (${
        (sizeMiB / put.seconds).toFixed(0)
      } MiB/s, tier ${put.json.tier})  stranger get ${
        get.seconds.toFixed(1)
      } s${own === undefined ? "" : `  owner get ${own.toFixed(1)} s`}`,
    );
  }
  const mean = (kind: string, key: "put" | "get") =>
    rows.filter((r) => r.kind === kind).reduce((n, r) => n + r[key], 0) / 2;
  console.log(
    `load average at the end ${
      Deno.loadavg().map((n) => n.toFixed(1)).join(" ")
    }`,
  );
  for (const key of ["put", "get"] as const) {
    const ratio = mean("private", key) / mean("public", key);
    console.log(
      `${key}: private takes ${((ratio - 1) * 100).toFixed(0)} % ${
        ratio >= 1 ? "longer" : "less"
      } than public (mean of two each; target: within 15 %)`,
    );
  }
} finally {
  await Promise.all(daemons.map((d) => d.stop().catch(() => {})));
  await Deno.remove(root, { recursive: true });
}
