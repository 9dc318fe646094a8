/**
 * Deterministic check of what a daemon's start does with the residue a
 * kill -9 leaves (see docs/reliability.md): a real `tesseras start` on a
 * data directory holding a stray temp file, a shard file without a row
 * and a ledger credit for a peer of which no shard is held. After a start
 * and a clean stop, `FsFragmentStore.recoverAfterCrash` (if the daemon
 * runs it) has removed both files and brought the credit down to 0, and
 * `tesseras verify` exits 0.
 *
 *   deno run -A tests/system/crash/repro_restart_residue.ts
 *
 * Prints what is left; exits 1 while the start leaves any of it.
 *
 * @module
 */
import { join } from "node:path";
import { openDatabase } from "../../../lib/storage/mod.ts";
import { startDaemon } from "../daemon_process.ts";
import { runVerify } from "./checks.ts";

const TESSERA = "ab".repeat(32);
const PEER = "12D3KooWReproRestartResiduePeer";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Plants the residue, starts and stops the daemon; returns what is left. */
export async function restartLeaves(root: string): Promise<string[]> {
  const dataDir = join(root, "node");
  const listen = ["--listen", "/ip4/127.0.179.1/tcp/0"];
  // A first life creates the database (migrations) and the layout.
  await (await startDaemon(dataDir, listen)).stop();
  const dir = join(dataDir, "fragments", TESSERA);
  await Deno.mkdir(dir, { recursive: true });
  const orphan = join(dir, "003.shard");
  const temp = join(dir, "004.shard.tmp-0123456789abcdef");
  await Deno.writeFile(orphan, new Uint8Array(4096).fill(3));
  await Deno.writeFile(temp, new Uint8Array(1000).fill(4));
  const db = await openDatabase(join(dataDir, "db", "tesseras.db"));
  try {
    db.prepare(
      `INSERT INTO reciprocity_balances (peer_id, bytes_stored_for_them,
         bytes_they_store_for_us, updated_at) VALUES (?, 5000, 0, 0)`,
    ).run(PEER);
  } finally {
    db.close();
  }

  const daemon = await startDaemon(dataDir, listen);
  const status = await daemon.stop();
  const left: string[] = [];
  if (status.code !== 0) left.push(`daemon exit ${status.code}`);
  if (await exists(temp)) left.push(`stray temp file ${temp}`);
  if (await exists(orphan)) left.push(`shard file without a row ${orphan}`);
  const check = await openDatabase(join(dataDir, "db", "tesseras.db"));
  try {
    const row = check.prepare(
      "SELECT bytes_stored_for_them AS n FROM reciprocity_balances WHERE peer_id = ?",
    ).get(PEER) as { n: number } | undefined;
    const credit = Number(row?.n ?? 0);
    if (credit !== 0) {
      left.push(`ledger credits ${PEER} with ${credit} bytes; none held`);
    }
  } finally {
    check.close();
  }
  const verify = await runVerify(dataDir);
  if (verify.code !== 0) {
    left.push(
      `tesseras verify exit ${verify.code}: ${
        JSON.stringify({
          residue: verify.residue,
          findings: verify.findings.map((f) => f.detail),
        })
      }`,
    );
  }
  return left;
}

if (import.meta.main) {
  const root = await Deno.makeTempDir({ prefix: "tesseras-restart-residue-" });
  try {
    const left = await restartLeaves(root);
    for (const l of left) console.log(`left after start + stop: ${l}`);
    console.log(
      left.length === 0
        ? "the start removed the residue and reconciled the ledger"
        : `${left.length} things the start did not clean up`,
    );
    Deno.exitCode = left.length === 0 ? 0 : 1;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
