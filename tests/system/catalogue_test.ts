/**
 * Recover everything from a phrase (issue 15) between real daemons: the
 * owner puts two named files (one private) and dies with its data
 * directory; a fresh directory recovered from the phrase (then, again,
 * from two of three heir shares) finds the catalogue through its signed
 * DHT record, takes both back from their holders' answers without
 * downloading them (the catalogue has their plans and checks), audits
 * them as their owner, lists them and gets both back identical. Eight
 * nodes on distinct loopback /24s.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  LoopbackNet,
  tesserasOk,
  waitFor,
} from "./daemon_process.ts";

const cli = tesserasOk;

Deno.test({
  name:
    "catalogue: a node recovered from its phrase or two shares lists and gets its tesseras again",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-catalogue-" });
    const net = new LoopbackNet(160);
    const start = (dir: string, n: number, bootstrap: string[]) =>
      net.start(dir, n, bootstrap);
    const stop = (d: DaemonProcess, signal?: Deno.Signal) =>
      net.stop(d, signal);
    try {
      const boot = await start(join(root, "boot"), 0, []);
      const bootAddr =
        (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
      for (let i = 1; i <= 6; i++) {
        await start(join(root, `n${i}`), i, [bootAddr]);
      }
      const ownerDir = join(root, "owner");
      const owner = await start(ownerDir, 7, [bootAddr]);
      await waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= 7;
      });
      const files = [
        {
          name: "letters",
          data: crypto.getRandomValues(new Uint8Array(60_000)),
          flags: ["--private"],
        },
        {
          name: "photos",
          data: new Uint8Array(5 * (1 << 20)).map((_, i) => i * 31),
          flags: [],
        },
      ];
      const ids: string[] = [];
      for (const f of files) {
        const path = join(root, `${f.name}.bin`);
        await Deno.writeFile(path, f.data);
        const put = JSON.parse(
          await cli(ownerDir, [
            "put",
            path,
            "--name",
            f.name,
            ...f.flags,
            "--json",
          ]),
        );
        assert.ok(put.catalogue?.peers > 0, JSON.stringify(put.catalogue));
        ids.push(put.id);
      }
      const phrase = (await cli(ownerDir, ["recovery-phrase"])).trim();
      const shares = (await cli(ownerDir, [
        "recovery-phrase",
        "--shares",
        "3",
        "--threshold",
        "2",
      ]))
        .trim().split("\n");
      // The owner dies with its disk.
      await stop(owner, "SIGKILL");
      await Deno.remove(ownerDir, { recursive: true });

      for (
        const [how, stdin, flags] of [
          ["phrase", phrase, []],
          ["two shares", `${shares[2]}\n${shares[0]}\n`, ["--shares"]],
        ] as const
      ) {
        const dir = join(root, `recovered-${how.replace(" ", "-")}`);
        await cli(dir, ["recover", ...flags], stdin);
        const node = await start(dir, 8, [bootAddr]);
        await waitFor(
          `the node recovered from its ${how} to list its tesseras`,
          async () => {
            const listed = JSON.parse(await cli(dir, ["status", "--json"]));
            const have = new Set(listed.map((s: { id: string }) => s.id));
            return ids.every((id) => have.has(id));
          },
          { timeoutMs: 180_000, intervalMs: 1_000 },
        );
        const listed = JSON.parse(await cli(dir, ["status", "--json"]));
        assert.deepEqual(
          listed.map((s: { name?: string }) => s.name).sort(),
          ["letters", "photos"],
        );
        // Taken back from the holders' answers (plan and checks in the
        // catalogue): audited as ours, every shard live, nothing fetched.
        for (const id of ids) {
          const one = JSON.parse(await cli(dir, ["status", id, "--json"]));
          assert.equal(one.localCopy, false, `${how}: ${id} was downloaded`);
          assert.equal(one.liveShards, one.shardCount, JSON.stringify(one));
        }
        for (const [i, f] of files.entries()) {
          const out = join(root, `back-${i}.bin`);
          await cli(dir, ["get", ids[i], "-o", out]);
          assert.deepEqual(
            await Deno.readFile(out),
            f.data,
            `${how}: ${f.name}`,
          );
          await Deno.remove(out);
        }
        assert.equal(
          await Deno.lstat(join(dir, "restore.pending")).then(
            () => true,
            () => false,
          ),
          false,
        );
        await stop(node);
        await Deno.remove(dir, { recursive: true });
      }
    } finally {
      await net.stopAll();
      await Deno.remove(root, { recursive: true });
    }
  },
});
