/**
 * The catalogue record outlives its owner and the peers' memory (issue
 * 15): the owner puts a named file and dies with its data directory;
 * then every other node restarts, so no kad-dht keeps the record in
 * memory any more. The nodes that had taken it kept it on disk and put
 * it again after their restart: a node recovered from the phrase still
 * finds the catalogue, lists the tessera and gets it back. Five daemons
 * on distinct loopback /24s.
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

Deno.test({
  name:
    "catalogue record: kept on disk by the peers, found after the owner died and every peer restarted",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-keeping-" });
    const net = new LoopbackNet(175);
    const peerDirs = [0, 1, 2, 3].map((i) => join(root, `n${i}`));
    const startPeers = async () => {
      const boot = await net.start(peerDirs[0], 0, []);
      const addr =
        (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
      for (let i = 1; i < peerDirs.length; i++) {
        await net.start(peerDirs[i], i, [addr]);
      }
      return { boot, addr };
    };
    const seeAll = (boot: DaemonProcess, n: number) =>
      waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= n;
      });
    try {
      let { boot, addr } = await startPeers();
      const ownerDir = join(root, "owner");
      const owner = await net.start(ownerDir, 4, [addr]);
      await seeAll(boot, 4);
      const data = crypto.getRandomValues(new Uint8Array(60_000));
      const file = join(root, "letter.bin");
      await Deno.writeFile(file, data);
      const put = JSON.parse(
        await tesserasOk(ownerDir, ["put", file, "--name", "letter", "--json"]),
      );
      assert.ok(put.catalogue?.peers > 0, JSON.stringify(put.catalogue));
      const phrase = (await tesserasOk(ownerDir, ["recovery-phrase"])).trim();
      await net.stop(owner, "SIGKILL");
      await Deno.remove(ownerDir, { recursive: true });
      // The peers saved the record when they took it.
      let saved = 0;
      for (const dir of peerDirs) {
        for await (const e of Deno.readDir(join(dir, "records"))) {
          if (e.name.endsWith(".rec")) saved++;
        }
      }
      assert.ok(saved > 0, "no peer kept the record on disk");

      // Every peer restarts: kad-dht's in-memory records are gone.
      await net.stopAll();
      ({ boot, addr } = await startPeers());
      await seeAll(boot, 3);

      const dir = join(root, "recovered");
      await tesserasOk(dir, ["recover"], phrase);
      await net.start(dir, 5, [addr]);
      await waitFor(
        "the recovered node to list its tessera",
        async () => {
          const listed = JSON.parse(
            await tesserasOk(dir, ["status", "--json"]),
          );
          return listed.some((s: { id: string }) => s.id === put.id);
        },
        { timeoutMs: 180_000, intervalMs: 1_000 },
      );
      const out = join(root, "back.bin");
      await tesserasOk(dir, ["get", put.id, "-o", out]);
      assert.deepEqual(await Deno.readFile(out), data);
    } finally {
      await net.stopAll();
      await Deno.remove(root, { recursive: true });
    }
  },
});
