/**
 * Memories outlive their owner (issue 14) on ten real daemons: the owner
 * puts a 20 MiB tessera, is killed and its data directory deleted; three
 * holders are then killed one at a time; the stewards among the survivors
 * bring the shard files on the live nodes back to every index each time,
 * without the owner; a node joining later gets identical bytes. Short
 * repair interval, jitter and steward delays. Nodes on 127.0.110-120.1,
 * /24s no other test uses.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dataLayout } from "../../lib/node/mod.ts";
import {
  apiGet,
  type DaemonProcess,
  LoopbackNet,
  randomBytes,
  runTesseras,
  waitFor,
} from "./daemon_process.ts";

const MIB = 1024 * 1024;
const ENV = {
  TESSERAS_REPAIR_INTERVAL_MS: "2000",
  TESSERAS_REPAIR_JITTER_MS: "500",
  TESSERAS_STEWARD_AFTER_MS: "5000",
  TESSERAS_STEWARD_GRACE_MS: "0",
  // Every index back after each kill: a steward rebuilds at the first loss.
  TESSERAS_STEWARD_REBUILD_AT: "0",
};

Deno.test({
  name:
    "stewards: without its owner, a 20 MiB tessera's shards come back to every index after each of three holders dies; a newcomer gets identical bytes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-stewards-" });
    const net = new LoopbackNet(110, { env: ENV });
    try {
      const boot = await net.start(join(root, "boot"), 0);
      const bootAddr =
        (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
      await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) => net.start(join(root, `n${i + 1}`), i + 1, [bootAddr]),
        ),
      );
      const owner = await net.start(join(root, "owner"), 9, [bootAddr]);
      assert.equal(net.daemons.length, 10);
      await waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= 9;
      });

      // The owner places 20 MiB (Medium: 24 shards, any 16 rebuild it).
      const data = randomBytes(20 * MIB);
      const file = join(root, "archive.bin");
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
      const shardCount = 24;
      const holders = () => net.daemons.filter((d) => d !== owner);
      assert.equal((await shardIndices(holders(), id)).size, shardCount);

      // The owner dies for good, its data directory with it.
      await net.stop(owner, "SIGKILL");
      await Deno.remove(owner.dataDir, { recursive: true });

      // Three holders die one at a time; the stewards bring every index
      // back on the live nodes before the next one goes.
      for (let round = 1; round <= 3; round++) {
        const victim = await busiestHolder(holders(), id, {
          keep: boot,
          need: 16,
        });
        const had = await shardsOf(victim, id);
        await net.stop(victim, "SIGKILL");
        assert.ok((await shardIndices(holders(), id)).size < shardCount);
        await waitFor(
          `every index back after holder ${round} of 3 died (it had ${had.length})`,
          async () => (await shardIndices(holders(), id)).size === shardCount,
          { timeoutMs: 120_000, intervalMs: 1000 },
        );
      }

      // Stewards did it: the owner is gone, so every rebuild came from
      // the survivors' shards ("from network").
      const repaired = new RegExp(
        `repaired \\W*${id}\\W*: [1-9]\\d* placements from \\W*network`,
      );
      assert.ok(
        holders().some((d) => repaired.test(d.stderr())),
        // Each node's repairs and steward decisions, not the sweeps'
        // summaries (the boot node's alone filled the first 20 lines).
        holders().flatMap((d) =>
          d.stderr().split("\n").filter((l) =>
            /repaired|steward|cannot repair/.test(l)
          ).map((l) => `${d.peerId.slice(-6)} ${l}`)
        ).slice(0, 40).join("\n"),
      );

      // A newcomer finds the tessera without the owner: identical bytes.
      const late = await net.start(join(root, "late"), 10, [bootAddr]);
      const out = join(root, "got.bin");
      const got = await runTesseras([
        "--data-dir",
        late.dataDir,
        "get",
        id,
        "-o",
        out,
      ]);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(await Deno.readFile(out), data);
    } finally {
      await net.stopAll();
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** Indices of the shard files of `id` in `d`'s data directory. */
async function shardsOf(d: DaemonProcess, id: string): Promise<number[]> {
  const dir = join(dataLayout(d.dataDir).fragments, id);
  const out: number[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^(\d{3})\.shard$/.exec(e.name);
      if (m) out.push(Number(m[1]));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** Every index of `id` with a shard file on one of `nodes`. */
async function shardIndices(
  nodes: readonly DaemonProcess[],
  id: string,
): Promise<Set<number>> {
  const all = new Set<number>();
  for (const d of nodes) for (const i of await shardsOf(d, id)) all.add(i);
  return all;
}

/**
 * The holder with the most shards of `id` whose loss still leaves
 * `need` distinct indices on the others (the bootstrap node stays): a
 * loss no repair could undo is not what this test asks of stewards. (Under
 * load one holder was seen with 9 of the 24 after two rounds: repair folds
 * shards onto existing holders when fresh peers run short.)
 */
async function busiestHolder(
  nodes: readonly DaemonProcess[],
  id: string,
  options: { keep: DaemonProcess; need: number },
): Promise<DaemonProcess> {
  let best: DaemonProcess | null = null, most = 0;
  const all = await shardIndices(nodes, id);
  for (const d of nodes) {
    if (d === options.keep) continue;
    const n = (await shardsOf(d, id)).length;
    const rest = await shardIndices(nodes.filter((x) => x !== d), id);
    // Its loss must take an index with it (after a repair, stewards'
    // extra copies can leave a busy holder with nothing only it holds),
    // and leave enough to rebuild from.
    if (n > most && rest.size < all.size && rest.size >= options.need) {
      [best, most] = [d, n];
    }
  }
  assert.ok(best, "a holder whose loss takes an index and leaves enough");
  return best;
}
