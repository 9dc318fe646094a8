/**
 * A successful get must not leave error-level noise on the nodes that
 * served it (issue 16 §3): a fetching peer that has enough shards closes
 * its other streams early, and that is not an error of ours.
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

Deno.test({
  name:
    "get from a stranger: the serving nodes log no errors for streams the fetcher closed early",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (root) => {
      const daemons: DaemonProcess[] = [];
      const start = async (n: number, bootstrap: string[]) => {
        const d = await startDaemon(join(root, `n${n}`), [
          "--listen",
          `/ip4/127.0.${110 + n}.1/tcp/0`,
          ...(bootstrap.length ? ["--bootstrap", ...bootstrap] : []),
        ]);
        daemons.push(d);
        return d;
      };
      try {
        const boot = await start(0, []);
        const bootAddr =
          (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
        const [owner, ...holders] = await Promise.all(
          Array.from({ length: 5 }, (_, i) => start(i + 1, [bootAddr])),
        );
        await waitFor("the bootstrap node to see every peer", async () => {
          const h = await (await fetch(`${boot.url}/health`)).json();
          return h.peer_count >= 5;
        });
        const file = join(root, "memories.bin");
        const data = new Uint8Array(5 * 1024 * 1024);
        for (let at = 0; at < data.length; at += 65536) {
          crypto.getRandomValues(data.subarray(at, at + 65536));
        }
        await Deno.writeFile(file, data);
        const put = await runTesseras([
          "--data-dir",
          owner.dataDir,
          "put",
          file,
          "--json",
        ]);
        assert.equal(put.code, 0, put.stderr);
        const { id } = JSON.parse(put.stdout);
        const stranger = await start(9, [bootAddr]);
        for (let i = 0; i < 3; i++) {
          const out = join(root, `got-${i}.bin`);
          const got = await runTesseras([
            "--data-dir",
            stranger.dataDir,
            "get",
            id,
            "-o",
            out,
          ]);
          assert.equal(got.code, 0, got.stderr);
        }
        for (const d of [boot, ...holders]) {
          const log = d.stderr();
          assert.doesNotMatch(log, /\[ERR\]/, log);
          assert.doesNotMatch(log, /StreamStateError|\[object Event\]/, log);
        }
      } finally {
        await Promise.all(daemons.map((d) => d.stop()));
      }
    });
  },
});
