/**
 * A full disk while a real daemon receives fragments: an 8 MiB tmpfs as
 * its fragment directory (then as its whole data directory), peers
 * pushing shards until nothing fits. Every push is either accepted and
 * stored whole, or refused cleanly (`INSUFFICIENT_SPACE`); the daemon
 * stays up; `tesseras verify` and the harness's checks find nothing.
 * Then the minimum-free-space rule, which must refuse before the disk is
 * full. Mounting needs root on Linux; elsewhere the tests are ignored.
 */
import assert from "node:assert/strict";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import { blake3Hex } from "../../../lib/codec/mod.ts";
import type { FragmentEnvelope } from "../../../lib/core/mod.ts";
import { seededRng } from "../../../lib/memory/mod.ts";
import { inspectDataDir, runVerify } from "./checks.ts";
import { freePort, ManagedDaemon } from "./cluster.ts";
import { runTesseras } from "../daemon_process.ts";
import { FragmentSender, randomBytes, randomEnvelope } from "./sender.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  const dir = await Deno.makeTempDir({ prefix: "tesseras-tmpfs-probe-" });
  try {
    if (!await run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir])) {
      return false;
    }
    return await run("umount", [dir]);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const tmpfs = await canMountTmpfs();

async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path, { bigint: true });
  return Number(s.bavail * s.bsize);
}

/** What happened to the pushes. */
interface PushLog {
  accepted: FragmentEnvelope[];
  refused: { envelope: FragmentEnvelope; code: string; reason: string }[];
  rateLimited: number;
}

/**
 * A daemon whose `mountAt` ("fragments" or "" for the whole data dir) is
 * an 8 MiB tmpfs, and `senders` in-process peers pushing ~300 KiB shards
 * (not a multiple of the page size) until each has been refused three
 * times in a row. Runs `check` while the daemon is still up, then stops
 * it and checks the directory. Always stops everything and unmounts.
 */
async function withFullDisk(
  opts: {
    mountAt: "fragments" | "";
    env: Record<string, string>;
    senders: number;
    ip: number;
    tiny?: boolean;
  },
  check: (ctx: {
    log: PushLog;
    daemon: ManagedDaemon;
    mount: string;
  }) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "tesseras-full-" });
  const dataDir = join(root, "node");
  const mount = join(dataDir, opts.mountAt);
  await Deno.mkdir(mount, { recursive: true });
  assert.ok(
    await run("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount]),
    "mount tmpfs",
  );
  const ip = `127.0.${opts.ip}.1`;
  const daemon = new ManagedDaemon("full", {
    dataDir,
    listen: `/ip4/${ip}/tcp/${freePort(ip)}`,
    env: opts.env,
  });
  const senders: FragmentSender[] = [];
  try {
    await daemon.start();
    for (let s = 0; s < opts.senders; s++) {
      senders.push(
        await FragmentSender.start({ ip: `127.0.${opts.ip + 1 + s}.1` }),
      );
    }
    const log: PushLog = { accepted: [], refused: [], rateLimited: 0 };
    const senderOf = new Map<string, string>();
    const rng = seededRng(opts.ip);
    const shape = {
      minSmall: 300_000,
      maxSmall: 310_000,
      mediumShare: 0,
      maxMedium: 4 * MIB,
    };
    const tiny = {
      minSmall: 1,
      maxSmall: 3000,
      mediumShare: 0,
      maxMedium: 4 * MIB,
    };
    /** Pushes `kind` shards until refused `inARow` times running. */
    const pushUntilRefused = async (
      sender: FragmentSender,
      kind: typeof shape,
      inARow: number,
      limit: number,
    ) => {
      let refusedInARow = 0;
      for (let i = 0; i < limit && refusedInARow < inARow; i++) {
        const envelope = randomEnvelope(rng, kind);
        senderOf.set(envelope.fragment.tesseraId, sender.peerId);
        const ack = await sender.push(daemon.peerId, envelope);
        if (ack.accepted) {
          log.accepted.push(envelope);
          refusedInARow = 0;
        } else if (ack.errorCode === "RATE_LIMITED") {
          log.rateLimited++;
          await new Promise((r) => setTimeout(r, 300));
        } else {
          log.refused.push({
            envelope,
            code: ack.errorCode ?? "",
            reason: ack.reason ?? "",
          });
          refusedInARow++;
        }
      }
    };
    await Promise.all(senders.map(async (sender) => {
      await sender.connect(daemon.multiaddr);
      await pushUntilRefused(sender, shape, 3, 80);
      // Then shards of a few bytes, to use up the last pages: the
      // database's writes (row, ledger) now meet the full disk too.
      if (opts.tiny) await pushUntilRefused(sender, tiny, 8, 400);
    }));
    const kinds = new Map<string, number>();
    for (const r of log.refused) {
      const k = `${r.code}: ${
        r.reason.replace(/[0-9a-f]{64}/g, "<id>").replace(/\d+/g, "N")
          .slice(0, 90)
      }`;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    console.log(
      `  ${log.accepted.length} accepted (${
        log.accepted.reduce((n, e) => n + e.data.length, 0)
      } bytes), ${log.rateLimited} rate-limited, refused: ${
        JSON.stringify(Object.fromEntries(kinds))
      }; ${await freeBytes(mount)} bytes free`,
    );
    // The daemon is still up and answering.
    const health = await fetch(`${daemon.proc!.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "OK");
    await check({ log, daemon, mount });

    const status = await daemon.stop("SIGTERM");
    assert.equal(status.code, 0, "clean exit after the disk filled");
    // Every check runs; the problems are asserted together at the end.
    const problems: string[] = [];
    let verify = await runVerify(dataDir);
    if (verify.report === null) {
      problems.push(
        `tesseras verify cannot run on the full disk: ${
          verify.findings[0]?.detail
        }`,
      );
      // Make room as an operator would, then check the data.
      assert.ok(await run("mount", ["-o", "remount,size=16m", mount]));
      verify = await runVerify(dataDir);
    }
    if (
      verify.code !== 0 || verify.report?.issues.length !== 0 ||
      verify.findings.length !== 0
    ) {
      problems.push(
        `verify: exit ${verify.code} ${
          JSON.stringify({
            issues: verify.report?.issues,
            findings: verify.findings,
          })
        }`,
      );
    }
    const seen = await inspectDataDir(dataDir, {
      senderOf: (id) => senderOf.get(id),
    });
    for (const f of seen.findings) {
      problems.push(`${f.kind} ${f.subject}: ${f.detail}`);
    }
    for (const p of [...seen.tempFiles, ...seen.orphanFiles]) {
      problems.push(`residue ${p}`);
    }
    // Exactly the accepted shards are held; the refused left nothing.
    if (seen.listed !== log.accepted.length) {
      problems.push(
        `${seen.listed} shards held but ${log.accepted.length} pushes acked`,
      );
    }
    for (const r of log.refused) {
      const dir = join(dataDir, "fragments", r.envelope.fragment.tesseraId);
      const left = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
      if (left.length > 0) {
        problems.push(
          `refused (${r.code}: ${r.reason.slice(0, 80)}) yet ${
            left.map((e) => e.name).join(",")
          } is in ${dir}`,
        );
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    if (daemon.proc) await daemon.stop("SIGKILL").catch(() => {});
    await Promise.allSettled(senders.map((s) => s.stop()));
    if (!await run("umount", [mount])) await run("umount", ["-l", mount]);
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test({
  name:
    "disk full: shard files on an 8 MiB tmpfs, min free space 0: ENOSPC is a clean INSUFFICIENT_SPACE refusal",
  ignore: !tmpfs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFullDisk({
      mountAt: "fragments",
      env: { TESSERAS_MIN_FREE_SPACE: "0" },
      senders: 2,
      ip: 190,
    }, ({ log }) => {
      // ~27 shards of ~300 KiB fit in 8 MiB; the free-space check looks
      // at the data directory (the big disk), so only the write itself
      // can find the tmpfs full: the real ENOSPC path.
      assert.ok(log.accepted.length >= 20, `${log.accepted.length} accepted`);
      assert.ok(log.refused.length >= 3, `${log.refused.length} refused`);
      for (const r of log.refused) {
        assert.equal(r.code, "INSUFFICIENT_SPACE", r.reason);
        assert.match(r.reason, /disk is full/, r.reason);
      }
      return Promise.resolve();
    });
  },
});

Deno.test({
  name:
    "disk full: whole data dir (database too) on an 8 MiB tmpfs, min free space 0: clean refusals, ledger intact",
  ignore: !tmpfs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFullDisk({
      mountAt: "",
      env: { TESSERAS_MIN_FREE_SPACE: "0" },
      senders: 2,
      ip: 193,
    }, ({ log }) => {
      assert.ok(log.accepted.length >= 15, `${log.accepted.length} accepted`);
      assert.ok(log.refused.length >= 3, `${log.refused.length} refused`);
      for (const r of log.refused) {
        assert.equal(r.code, "INSUFFICIENT_SPACE", r.reason);
      }
      return Promise.resolve();
    });
  },
});

/**
 * When the database's own writes meet the full disk, a refused shard
 * leaves nothing (its row and its ledger credit are one transaction) and
 * `tesseras verify` still opens the full data directory.
 */
Deno.test({
  name:
    "disk full: database writes on a full disk (tiny shards fill the last pages): refusal leaves no uncredited shard, verify runs",
  ignore: !tmpfs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withFullDisk({
      mountAt: "",
      env: { TESSERAS_MIN_FREE_SPACE: "0" },
      senders: 2,
      ip: 193,
      tiny: true,
    }, ({ log }) => {
      for (const r of log.refused) {
        assert.equal(r.code, "INSUFFICIENT_SPACE", r.reason);
      }
      return Promise.resolve();
    });
  },
});

Deno.test({
  name:
    "disk full: the minimum free space rule refuses before the disk fills (8 MiB tmpfs, 4 MiB reserve)",
  ignore: !tmpfs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const reserve = 4 * MIB;
    await withFullDisk({
      mountAt: "",
      env: { TESSERAS_MIN_FREE_SPACE: String(reserve) },
      senders: 1,
      ip: 196,
    }, async ({ log, mount }) => {
      assert.ok(log.accepted.length >= 5, `${log.accepted.length} accepted`);
      assert.equal(log.refused.length, 3);
      for (const r of log.refused) {
        assert.equal(r.code, "INSUFFICIENT_SPACE", r.reason);
        assert.match(r.reason, /in reserve/, r.reason);
      }
      // The rule kept the reserve: at most a few database pages below it.
      const free = await freeBytes(mount);
      assert.ok(free >= reserve - 64 * KIB, `${free} bytes free`);
    });
  },
});

/**
 * `tesseras get` onto a disk with less room than the tessera must fail
 * cleanly, never rename a truncated file into place (`getToFile` loops
 * over short writes).
 */
Deno.test({
  name:
    "disk full: tesseras get onto a 1 MiB tmpfs fails cleanly instead of writing a truncated file",
  ignore: !tmpfs,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-get-full-" });
    const out = join(root, "out");
    await Deno.mkdir(out);
    assert.ok(
      await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", out]),
    );
    const ip = "127.0.199.1";
    const daemon = new ManagedDaemon("get", {
      dataDir: join(root, "node"),
      listen: `/ip4/${ip}/tcp/${freePort(ip)}`,
    });
    try {
      await daemon.start();
      // With no peers the put fails (UNREACHABLE) but keeps the blob, so
      // the get below is served from it: only the output disk matters.
      const data = randomBytes(3 * MIB);
      await Deno.writeFile(join(root, "f.bin"), data);
      const put = await runTesseras([
        "--data-dir",
        daemon.dataDir,
        "put",
        join(root, "f.bin"),
      ]);
      assert.match(put.stderr, /no peers known/);
      const target = join(out, "r.bin");
      const get = await runTesseras([
        "--data-dir",
        daemon.dataDir,
        "get",
        blake3Hex(data),
        "-o",
        target,
      ]);
      const left = await Deno.stat(target).then((s) => s.size, () => -1);
      assert.notEqual(get.code, 0, `get said: ${get.stdout}`);
      assert.equal(left, -1, `a ${left}-byte file was left at ${target}`);
    } finally {
      if (daemon.proc) await daemon.stop("SIGKILL").catch(() => {});
      if (!await run("umount", [out])) await run("umount", ["-l", out]);
      await Deno.remove(root, { recursive: true });
    }
  },
});
