/**
 * Memories survive between real daemon processes: put → kill holders →
 * repair → get from a stranger; a shard file cut to half fails its next
 * check and is rebuilt; a flipped byte is found by the holder's own scrub
 * (TESSERAS_SCRUB_INTERVAL_MS, seconds here), which removes the shard, and
 * the owner's next check rebuilds it. Ten nodes on distinct loopback /24s
 * plus one newcomer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  runTesseras,
  startDaemon,
  waitFor,
} from "./daemon_process.ts";

interface Status {
  id: string;
  tier: string;
  shardCount: number;
  liveShards: number;
  lostShards: number;
  health: string;
  holders: { index: number; peerId: string }[];
}

async function cli(dir: string, args: string[]) {
  const out = await runTesseras(["--data-dir", dir, ...args]);
  if (out.code !== 0) {
    throw new Error(`tesseras ${args.join(" ")} failed: ${out.stderr}`);
  }
  return out.stdout;
}

/** The holders' scrub interval: short, so the test sees a pass. */
const SCRUB_MS = 3000;

function shardPath(dataDir: string, id: string, index: number): string {
  return join(
    dataDir,
    "fragments",
    id,
    `${String(index).padStart(3, "0")}.shard`,
  );
}

Deno.test({
  name:
    "e2e: put 20 MiB, kill 3 holders, repair, get from a stranger, heal a truncated and a bit-rotted shard",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-e2e-" });
    const daemons = new Map<string, DaemonProcess>();
    const start = async (n: number, bootstrap: string[]) => {
      const d = await startDaemon(join(root, `n${n}`), [
        "--listen",
        `/ip4/127.0.${70 + n}.1/tcp/0`,
        ...(bootstrap.length ? ["--bootstrap", ...bootstrap] : []),
      ], { env: { TESSERAS_SCRUB_INTERVAL_MS: String(SCRUB_MS) } });
      daemons.set(d.peerId, d);
      return d;
    };
    try {
      const boot = await start(0, []);
      const bootAddr = (await apiGet<{ addresses: string[] }>(boot, "/v1/id"))
        .addresses[0];
      const others = await Promise.all(
        Array.from({ length: 9 }, (_, i) => start(i + 1, [bootAddr])),
      );
      const owner = others[0];
      /** The owner's next check finds `victim`'s shard bad and rebuilds it. */
      const healsAgain = async (victim: { index: number; peerId: string }) => {
        const second = JSON.parse(
          await cli(owner.dataDir, ["repair", id, "--json"]),
        );
        const t = second.tesseras[0];
        assert.ok(
          t.removed.some((r: { index: number; peerId: string }) =>
            r.index === victim.index && r.peerId === victim.peerId
          ),
          `the bad holder record of ${victim.index} is dropped`,
        );
        assert.ok(t.lostIndices.includes(victim.index));
        assert.equal(t.after, "healthy");
        const final = JSON.parse(
          await cli(owner.dataDir, ["status", id, "--json"]),
        ) as Status;
        assert.equal(final.health, "healthy");
        assert.ok(
          final.holders.some((h) => h.index === victim.index),
          `shard ${victim.index} lives again elsewhere`,
        );
      };
      await waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= 9;
      });

      const file = join(root, "memories.bin");
      const original = crypto.getRandomValues(new Uint8Array(65536));
      const data = new Uint8Array(20 * 1024 * 1024);
      for (let i = 0; i < data.length; i += original.length) {
        data.set(original.map((b) => b ^ (i >> 16)), i);
      }
      await Deno.writeFile(file, data);
      const put = JSON.parse(
        await cli(owner.dataDir, ["put", file, "--json"]),
      );
      assert.equal(put.tier, "medium");
      assert.equal(put.unplaced, 0);
      const id: string = put.id;

      const placed = JSON.parse(
        await cli(owner.dataDir, ["status", id, "--json"]),
      ) as Status;
      assert.equal(placed.health, "healthy");
      assert.equal(placed.liveShards, 24);
      const holderIds = [...new Set(placed.holders.map((h) => h.peerId))];
      assert.ok(holderIds.length >= 7, `spread over ${holderIds.length} peers`);

      // Kill three holders outright (no clean shutdown).
      // The bootstrap node stays up: the newcomer below joins through it.
      const victims = holderIds
        .filter((p) => p !== owner.peerId && p !== boot.peerId)
        .slice(0, 3);
      for (const v of victims) {
        await daemons.get(v)!.stop({ signal: "SIGKILL" });
        daemons.delete(v);
      }
      const repair = JSON.parse(await cli(owner.dataDir, ["repair", "--json"]));
      assert.equal(repair.tesseras.length, 1);
      assert.equal(repair.tesseras[0].before, "needs_replication");
      assert.equal(repair.tesseras[0].after, "healthy");
      assert.ok(repair.tesseras[0].rebuiltShards > 0);

      const healed = JSON.parse(
        await cli(owner.dataDir, ["status", id, "--json"]),
      ) as Status;
      assert.equal(healed.health, "healthy");
      assert.equal(healed.lostShards, 0);
      for (let index = 0; index < 24; index++) {
        const on = healed.holders.filter((h) => h.index === index);
        assert.ok(on.length > 0, `shard ${index} has a live holder`);
        for (const h of on) {
          assert.ok(daemons.has(h.peerId), `holder of ${index} is alive`);
          assert.ok(!victims.includes(h.peerId));
        }
      }

      // A newcomer that never held anything retrieves the exact bytes.
      const stranger = await start(10, [bootAddr]);
      await waitFor("the newcomer to join", async () => {
        const h = await (await fetch(`${stranger.url}/health`)).json();
        return h.peer_count >= 1;
      });
      const out = join(root, "retrieved.bin");
      await cli(stranger.dataDir, ["get", id, "-o", out]);
      assert.deepEqual(await Deno.readFile(out), data);

      // A shard file cut to half: its next check fails, it is rebuilt
      // (by the chunk proof, or the scrub if it ran first).
      const remote = healed.holders.filter((h) => h.peerId !== owner.peerId);
      const cut = remote[0];
      const cutFile = shardPath(
        daemons.get(cut.peerId)!.dataDir,
        id,
        cut.index,
      );
      await Deno.truncate(cutFile, (await Deno.stat(cutFile)).size >> 1);
      await healsAgain(cut);

      // One flipped byte in another holder's shard: 20 sampled groups
      // would likely miss it, the holder's scrub reads it all.
      const rot = remote.find((h) =>
        h.peerId !== cut.peerId && h.index !== cut.index
      )!;
      const rotFile = shardPath(
        daemons.get(rot.peerId)!.dataDir,
        id,
        rot.index,
      );
      const bytes = await Deno.readFile(rotFile);
      bytes[bytes.length >> 1] ^= 0xff;
      await Deno.writeFile(rotFile, bytes);
      await waitFor(
        "the holder's scrub to remove the rotten shard",
        async () => !(await Deno.stat(rotFile).then(() => true, () => false)),
        {
          timeoutMs: 10 * SCRUB_MS,
        },
      );
      await healsAgain(rot);
    } finally {
      await Promise.allSettled([...daemons.values()].map((d) => d.stop()));
      await Deno.remove(root, { recursive: true });
    }
  },
});
