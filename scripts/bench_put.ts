/**
 * Peak RSS (VmHWM) and wall time of real daemons for `tesseras put` of a big
 * file and `tesseras get` of it back (the owner after a restart, and a
 * stranger that must fetch shards). Usage:
 * `deno task bench:put [repo root] [size MiB] [peers]` (set REPAIR=1 for
 * the status and repair rows).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { DaemonProcess } from "../tests/system/daemon_process.ts";
const repo = Deno.args[0] ?? new URL("..", import.meta.url).pathname;
const sizeMiB = Number(Deno.args[1] ?? 1024);
const peers = Number(Deno.args[2] ?? 10);
const dp: typeof import("../tests/system/daemon_process.ts") = await import(
  // A file URL: a relative repo root would otherwise read as a bare name.
  pathToFileURL(resolve(repo, "tests/system/daemon_process.ts")).href
);
const { startDaemon, runTesseras, apiGet } = dp;
const env = { TESSERAS_DEFICIT_TOLERANCE: String(8 * 2 ** 30) };

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")) {
    const [k, v] = line.split(":");
    if (v) out[k] = v.trim();
  }
  return out;
}
const mib = (s: string) => (parseInt(s) / 1024).toFixed(0) + " MiB";
/** Samples VmRSS of pid every 200 ms while `fn` runs; returns a timeline. */
async function sampled<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<[T, string]> {
  const t0 = performance.now();
  const marks: string[] = [];
  let last = -1;
  const timer = setInterval(() => {
    try {
      const rss = Math.round(parseInt(status(pid).VmRSS) / 1024);
      if (Math.abs(rss - last) >= 40) {
        marks.push(`${((performance.now() - t0) / 1000).toFixed(1)}s:${rss}`);
        last = rss;
      }
    } catch { /* gone */ }
  }, 200);
  try {
    return [await fn(), marks.join(" ")];
  } finally {
    clearInterval(timer);
  }
}

const root = await Deno.makeTempDir({ prefix: "tesseras-rss-" });
const daemons: DaemonProcess[] = [];
const start = async (
  n: number,
  boot: string[],
  extra: Record<string, string> = {},
) => {
  const d = await startDaemon(join(root, `n${n}`), [
    "--listen",
    `/ip4/127.0.${90 + n}.1/tcp/0`,
    ...(boot.length ? ["--bootstrap", ...boot] : []),
  ], { env: { ...env, ...extra } });
  daemons.push(d);
  return d;
};
try {
  const file = join(root, "big.bin");
  {
    const f = await Deno.open(file, { write: true, create: true });
    const block = new Uint8Array(1 << 20);
    for (let i = 0; i < sizeMiB; i++) {
      crypto.getRandomValues(block.subarray(0, 65536));
      for (let j = 65536; j < block.length; j += 65536) {
        block.copyWithin(j, 0, 65536);
        block[j] ^= j >> 16;
      }
      let off = 0;
      while (off < block.length) off += await f.write(block.subarray(off));
    }
    f.close();
  }
  const boot = await start(0, []);
  const bootAddr =
    (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
  const others = [];
  for (let i = 1; i <= peers; i++) others.push(await start(i, [bootAddr]));
  const owner = others[0];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const h = await (await fetch(`${boot.url}/health`)).json();
    if (h.peer_count >= peers) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const pid = owner.child.pid;
  console.log(
    `owner before put: VmHWM ${mib(status(pid).VmHWM)} VmRSS ${
      mib(status(pid).VmRSS)
    }`,
  );
  let t0 = performance.now();
  const [put, putLine] = await sampled(
    pid,
    () =>
      runTesseras(["--data-dir", owner.dataDir, "put", file, "--json"], {
        env,
      }),
  );
  console.log(`  rss timeline (MiB): ${putLine}`);
  const putMs = performance.now() - t0;
  if (put.code !== 0) throw new Error(put.stderr);
  const rep = JSON.parse(put.stdout);
  console.log(`put: ${(putMs / 1000).toFixed(1)} s, ${JSON.stringify(rep)}`);
  console.log(
    `owner after put: VmHWM ${mib(status(pid).VmHWM)} VmRSS ${
      mib(status(pid).VmRSS)
    }`,
  );
  const id = rep.id;
  if (rep.unplaced > 0) {
    console.log(
      owner.stderr().split("\n").filter((l: string) =>
        /did not take|error|ERR|WARN/i.test(l)
      ).slice(0, 10).join("\n"),
    );
    throw new Error("unplaced");
  }

  // Stranger: fetches shards over the network.
  const stranger = await start(peers + 1, [bootAddr], {
    TESSERAS_LOG: Deno.env.get("SLOG") ?? "info",
  });
  await new Promise((r) => setTimeout(r, 3000));
  const spid = stranger.child.pid;
  console.log(`stranger before get: VmHWM ${mib(status(spid).VmHWM)}`);
  const out = join(root, "back.bin");
  t0 = performance.now();
  const [get, getLine] = await sampled(
    spid,
    () =>
      runTesseras(["--data-dir", stranger.dataDir, "get", id, "-o", out], {
        env,
      }),
  );
  console.log(`  rss timeline (MiB): ${getLine}`);
  const getMs = performance.now() - t0;
  if (get.code !== 0) {
    await Deno.writeTextFile("/tmp/rssbench/stranger.log", stranger.stderr());
    console.log(
      `stranger get FAILED after ${
        (getMs / 1000).toFixed(1)
      } s: ${get.stderr.trim()}; VmHWM ${mib(status(spid).VmHWM)}`,
    );
  } else {
    console.log(
      `stranger get: ${(getMs / 1000).toFixed(1)} s; VmHWM ${
        mib(status(spid).VmHWM)
      }`,
    );
    const same = await new Deno.Command("cmp", { args: [file, out] }).output();
    console.log(`identical: ${same.code === 0}`);
    await Deno.remove(out);
  }

  // Owner get after a restart (own blob).
  await owner.stop();
  const owner2 = await startDaemon(owner.dataDir, [
    "--listen",
    `/ip4/127.0.91.1/tcp/0`,
    "--bootstrap",
    bootAddr,
  ], { env });
  daemons.push(owner2);
  await new Promise((r) => setTimeout(r, 2000));
  const opid = owner2.child.pid;
  console.log(`owner restarted: VmHWM ${mib(status(opid).VmHWM)}`);
  t0 = performance.now();
  const get2 = await runTesseras([
    "--data-dir",
    owner2.dataDir,
    "get",
    id,
    "-o",
    out,
  ], { env });
  const get2Ms = performance.now() - t0;
  if (get2.code !== 0) throw new Error(get2.stderr);
  console.log(
    `owner get: ${(get2Ms / 1000).toFixed(1)} s; VmHWM ${
      mib(status(opid).VmHWM)
    }`,
  );
  await Deno.remove(out);
  if (Deno.env.get("REPAIR")) {
    t0 = performance.now();
    const st = await runTesseras([
      "--data-dir",
      owner2.dataDir,
      "status",
      id,
      "--json",
    ], { env });
    const stj = JSON.parse(st.stdout);
    console.log(
      `owner status (proofs): ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s; health ${stj.health}; VmHWM ${mib(status(opid).VmHWM)}`,
    );
    // Kill two holders (not the boot node, not the owner), repair from the blob.
    const holderIds = new Set(
      stj.holders.map((h: { peerId: string }) => h.peerId),
    );
    const victims = daemons.filter((d) =>
      d !== owner && d !== owner2 && d !== boot && d !== stranger &&
      holderIds.has(d.peerId)
    ).slice(0, 2);
    for (const v of victims) await v.stop({ signal: "SIGKILL" });
    const before = parseInt(status(opid).VmRSS);
    t0 = performance.now();
    const [rep, repLine] = await sampled(
      opid,
      () =>
        runTesseras(["--data-dir", owner2.dataDir, "repair", id, "--json"], {
          env,
        }),
    );
    const r = JSON.parse(rep.stdout || "{}");
    console.log(`  rss timeline (MiB): ${repLine}`);
    console.log(
      `owner repair (2 holders killed): ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s; ${
        JSON.stringify(
          r.tesseras?.map((t: Record<string, unknown>) => ({
            before: t.before,
            after: t.after,
            rebuilt: t.rebuiltShards,
            source: t.source,
            error: t.error,
          })),
        )
      }; VmRSS before ${(before / 1024).toFixed(0)} MiB, VmHWM ${
        mib(status(opid).VmHWM)
      }`,
    );
  }
} finally {
  for (const d of daemons.reverse()) await d.stop().catch(() => {});
  await Deno.remove(root, { recursive: true });
}
