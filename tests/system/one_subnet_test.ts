/**
 * Six real daemons on 127.0.0.1 alone (one /24, issue 16 §1): a 20 MiB
 * tessera is spread over all five peers (with copies, since five peers
 * holding one shard each could lose only one), so it survives the loss
 * of any two holders with no repair in between: a node that is not the
 * owner still gets it byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  runTesseras,
  startDaemon,
  waitFor,
  withTempDir,
} from "./daemon_process.ts";

interface Status {
  health: string;
  liveShards: number;
  holders: { index: number; peerId: string }[];
}

async function cli(dir: string, args: string[]): Promise<string> {
  const out = await runTesseras(["--data-dir", dir, ...args]);
  if (out.code !== 0) {
    throw new Error(`tesseras ${args.join(" ")} failed: ${out.stderr}`);
  }
  return out.stdout;
}

Deno.test({
  name:
    "one /24: six daemons on 127.0.0.1, a 20 MiB tessera survives losing the two busiest holders without repair",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (root) => {
      const daemons = new Map<string, DaemonProcess>();
      const start = async (n: number, bootstrap: string[]) => {
        const d = await startDaemon(join(root, `n${n}`), [
          "--listen",
          "/ip4/127.0.0.1/tcp/0",
          ...(bootstrap.length ? ["--bootstrap", ...bootstrap] : []),
        ]);
        daemons.set(d.peerId, d);
        return d;
      };
      try {
        const boot = await start(0, []);
        const bootAddr =
          (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
        // One at a time: libp2p takes a few inbound connections per second
        // per IP, and every node here has the same one.
        const others: DaemonProcess[] = [];
        for (let n = 1; n <= 5; n++) others.push(await start(n, [bootAddr]));
        await waitFor("the bootstrap node to see every peer", async () => {
          const h = await (await fetch(`${boot.url}/health`)).json();
          return h.peer_count >= 5;
        });
        const [owner, reader] = others;
        await waitFor("the owner to see every peer", async () => {
          const h = await (await fetch(`${owner.url}/health`)).json();
          return h.peer_count >= 5;
        });

        const file = join(root, "memories.bin");
        const data = new Uint8Array(20 * 1024 * 1024);
        for (let at = 0; at < data.length; at += 65536) {
          crypto.getRandomValues(data.subarray(at, at + 65536));
        }
        await Deno.writeFile(file, data);
        const put = JSON.parse(
          await cli(owner.dataDir, ["put", file, "--json"]),
        );
        assert.equal(put.tier, "medium");
        assert.equal(put.unplaced, 0);
        assert.equal(put.holders, 5, "every peer holds shards");
        assert.ok(put.tolerance >= 2, `survives ${put.tolerance} losses`);

        const status = JSON.parse(
          await cli(owner.dataDir, ["status", put.id, "--json"]),
        ) as Status;
        assert.equal(status.health, "healthy");
        // The two holders with the most shards go, the owner stops: no
        // repair can run.
        const load = new Map<string, number>();
        for (const h of status.holders) {
          load.set(h.peerId, (load.get(h.peerId) ?? 0) + 1);
        }
        const victims = [...load].filter(([p]) => p !== reader.peerId)
          .sort((a, b) => b[1] - a[1]).slice(0, 2).map(([p]) => p);
        for (const v of victims) {
          await daemons.get(v)!.stop({ signal: "SIGKILL" });
          daemons.delete(v);
        }
        await daemons.get(owner.peerId)?.stop();
        daemons.delete(owner.peerId);

        const out = join(root, "back.bin");
        await cli(reader.dataDir, ["get", put.id, "-o", out]);
        assert.deepEqual(await Deno.readFile(out), data);
      } finally {
        await Promise.allSettled([...daemons.values()].map((d) => d.stop()));
      }
    });
  },
});
