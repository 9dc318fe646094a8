/**
 * kill -9 of a process storing and deleting shards for peers: after every
 * kill the ledger's `bytes_stored_for_them` equals, per peer, the bytes of
 * the shards held from that peer (no shard held uncredited, no credit
 * without its shard), and `recoverAfterCrash` leaves a directory that
 * scans clean.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  FsFragmentStore,
  openDatabase,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";
import { withTempDir } from "./helpers.ts";

const CHILD = fileURLToPath(new URL("./crash_child.ts", import.meta.url));

/** Starts the child, waits for `ready`, lets it work `ms`, kills it -9. */
async function runAndKill(dir: string, seed: number, ms: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", CHILD, dir, String(seed)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  await new Promise((r) => setTimeout(r, ms));
  child.kill("SIGKILL");
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    reader.cancel(),
  ]);
  assert.equal(seen, "ready\n", stderr);
  assert.equal(status.signal, "SIGKILL", `child ended early: ${stderr}`);
}

Deno.test({
  name:
    "kill -9 while storing and deleting for peers: credit = shards held per peer after every kill",
  async fn() {
    await withTempDir(async (dir) => {
      let shards = 0, residue = 0;
      for (const [round, ms] of [150, 420, 260, 330, 200, 380].entries()) {
        await runAndKill(dir, round + 1, ms);
        const db = await openDatabase(`${dir}/db/tesseras.db`);
        try {
          const store = new FsFragmentStore(db, { root: `${dir}/f` });
          // Before any recovery: the rows and the credits agree exactly.
          const check = await store.reconcileLedger();
          assert.equal(check.unattributedBytes, 0);
          assert.deepEqual(check.corrections, [], `round ${round}`);
          const held = new Map<string, number>();
          for (const f of await store.listStored()) {
            held.set(f.sender!, (held.get(f.sender!) ?? 0) + f.sizeBytes);
          }
          for (const row of await new SqliteReciprocityLedger(db).list()) {
            assert.equal(row.bytesStoredForThem, held.get(row.peerId) ?? 0);
          }
          const recovered = await store.recoverAfterCrash();
          residue += recovered.strayTempFiles + recovered.orphanFiles;
          assert.deepEqual(recovered.ledger.corrections, []);
          // Every row has its intact file; nothing else is left.
          assert.deepEqual((await store.scan()).issues, [], `round ${round}`);
          shards = store.count();
        } finally {
          db.close();
        }
      }
      // The child really worked between kills.
      assert.ok(shards > 0, "no shard stored");
      console.log(`held ${shards} shards; crash residue removed: ${residue}`);
    });
  },
});
