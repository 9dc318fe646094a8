/**
 * The owner may let go (issue 13) on real daemons: `put --no-local-copy`
 * leaves no blob in the data directory and `status` says so; a holder
 * killed, `repair` rebuilds its shards from the survivors; a stranger gets
 * identical bytes; `drop-local` removes a copy while the network can
 * rebuild it and refuses, exit 7, keeping the copy, when it cannot.
 * Nodes on 127.0.20-29.1, /24s no other test uses.
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

Deno.test({
  name:
    "let go: put --no-local-copy, repair and get without the owner's copy; drop-local only while rebuildable",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tesseras-letgo-" });
    const net = new LoopbackNet(20);
    try {
      const boot = await net.start(join(root, "boot"), 0);
      const bootAddr =
        (await apiGet<{ addresses: string[] }>(boot, "/v1/id")).addresses[0];
      const holders = await Promise.all(
        Array.from(
          { length: 6 },
          (_, i) => net.start(join(root, `n${i + 1}`), i + 1, [bootAddr]),
        ),
      );
      const owner = await net.start(join(root, "owner"), 7, [bootAddr]);
      await waitFor("the bootstrap node to see every peer", async () => {
        const h = await (await fetch(`${boot.url}/health`)).json();
        return h.peer_count >= 7;
      });
      const cli = async (...args: string[]) =>
        await runTesseras(["--data-dir", owner.dataDir, ...args]);

      // 1. put --no-local-copy: placed, then no blob at home.
      const data = randomBytes(5 * MIB);
      const file = join(root, "video.bin");
      await Deno.writeFile(file, data);
      const put = await cli("put", file, "--no-local-copy", "--json");
      assert.equal(put.code, 0, put.stderr);
      const placed = JSON.parse(put.stdout);
      assert.equal(placed.localCopy, false, put.stdout);
      const id: string = placed.id;
      assert.equal(await hasBlob(owner, id), false, "no blob in the data dir");
      const one = JSON.parse((await cli("status", id, "--json")).stdout);
      assert.equal(one.localCopy, false);
      assert.equal(one.health, "healthy", JSON.stringify(one));
      const text = (await cli("status")).stdout;
      assert.match(text, /\blocal\b/);
      assert.match(text, new RegExp(`^${id}.*\\bno$`, "m"), text);

      // 2. drop-local of a healthy tessera with its copy: the copy goes.
      const keptFile = join(root, "photos.bin");
      await Deno.writeFile(keptFile, randomBytes(5 * MIB));
      const kept = JSON.parse((await cli("put", keptFile, "--json")).stdout);
      assert.equal(kept.localCopy, true);
      assert.equal(await hasBlob(owner, kept.id), true);
      const drop = await cli("drop-local", kept.id);
      assert.equal(drop.code, 0, drop.stderr);
      assert.match(drop.stdout, /^dropped the local copy/);
      assert.equal(await hasBlob(owner, kept.id), false);

      // 3. A holder dies: repair rebuilds from the network, not a blob.
      const victim = holders.find((h) =>
        (one.holders as { peerId: string }[]).some((x) => x.peerId === h.peerId)
      )!;
      await net.stop(victim, "SIGKILL");
      const repair = await cli("repair", id, "--json");
      assert.equal(repair.code, 0, repair.stderr);
      const line = JSON.parse(repair.stdout).tesseras[0];
      assert.equal(line.before, "needs_replication", repair.stdout);
      assert.equal(line.source, "network", repair.stdout);
      assert.ok(line.rebuiltShards > 0, repair.stdout);
      assert.equal(line.after, "healthy", repair.stdout);
      assert.equal(await hasBlob(owner, id), false, "repair kept no copy");

      // 4. A stranger gets identical bytes.
      const stranger = await net.start(join(root, "stranger"), 9, [bootAddr]);
      const out = join(root, "got.bin");
      const got = await runTesseras([
        "--data-dir",
        stranger.dataDir,
        "get",
        id,
        "-o",
        out,
      ]);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(await Deno.readFile(out), data);
      await net.stop(stranger);

      // 5. Too few holders alive: drop-local refused, exit 7, copy kept.
      await refusedWhenTooFewAlive(net, { cli, owner, root });
    } finally {
      await net.stopAll();
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** Put one more, kill holders until fewer than 16 shards survive, drop. */
async function refusedWhenTooFewAlive(
  net: LoopbackNet,
  { cli, owner, root }: {
    cli: (
      ...args: string[]
    ) => Promise<{ code: number; stdout: string; stderr: string }>;
    owner: DaemonProcess;
    root: string;
  },
): Promise<void> {
  const file = join(root, "letters.bin");
  await Deno.writeFile(file, randomBytes(4 * MIB + 1));
  const put = await cli("put", file, "--json");
  assert.equal(put.code, 0, put.stderr);
  const { id } = JSON.parse(put.stdout);
  const status = JSON.parse((await cli("status", id, "--json")).stdout);
  const byPeer = new Map<string, Set<number>>();
  for (const h of status.holders as { peerId: string; index: number }[]) {
    byPeer.set(h.peerId, (byPeer.get(h.peerId) ?? new Set()).add(h.index));
  }
  const alive = new Set(byPeer.keys());
  const covered = () =>
    new Set([...alive].flatMap((p) => [...byPeer.get(p)!])).size;
  for (const d of [...net.daemons]) {
    if (covered() < status.dataShards) break;
    if (d === owner || !alive.has(d.peerId)) continue;
    alive.delete(d.peerId);
    await net.stop(d, "SIGKILL");
  }
  assert.ok(covered() < status.dataShards);
  const drop = await cli("drop-local", id);
  assert.equal(drop.code, 7, drop.stdout + drop.stderr);
  assert.match(drop.stderr, /keeping the local copy/);
  assert.equal(await hasBlob(owner, id), true, "the copy is kept");
  const after = JSON.parse((await cli("status", id, "--json")).stdout);
  assert.equal(after.localCopy, true);
}

async function hasBlob(d: DaemonProcess, id: string): Promise<boolean> {
  return await Deno.stat(join(dataLayout(d.dataDir).blobs, `${id}.blob`))
    .then(() => true, () => false);
}
