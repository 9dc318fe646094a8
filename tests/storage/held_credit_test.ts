/**
 * A pushed shard's row and its reciprocity credit live and die together
 * (`FsFragmentStore.storeForPeer`, `delete`), rows from before migration
 * 004 are claimed by a re-push, and `recoverAfterCrash` removes crash
 * residue and reconciles the ledger. Real SQLite files and shard files;
 * SQLite failures are injected with triggers (what a full disk does to
 * the second statement of a transaction).
 */
import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  type Database,
  FsFragmentStore,
  MIGRATIONS,
  openDatabase,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";
import { ManualClock, shard, tree, withDb, withTempDir } from "./helpers.ts";

const P = "12D3KooWPeerPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP";
const Q = "12D3KooWPeerQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

async function credit(db: Database, peer: string): Promise<number> {
  return (await new SqliteReciprocityLedger(db).get(peer))
    ?.bytesStoredForThem ?? -1;
}

/** Makes every write to `table` fail as a full disk would. */
function failWrites(db: Database, table: string, op: "INSERT" | "UPDATE") {
  db.exec(
    `CREATE TRIGGER fail_${table}_${op} BEFORE ${op} ON ${table}
     BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
  );
}

function healWrites(db: Database, table: string, op: "INSERT" | "UPDATE") {
  db.exec(`DROP TRIGGER fail_${table}_${op}`);
}

Deno.test("storeForPeer records the sender and credits it once; store credits nobody", async () => {
  await withDb(async (db, dir) => {
    const clock = new ManualClock(7_000);
    const store = new FsFragmentStore(db, { root: `${dir}/f`, clock });
    const a = shard(1000, { index: 0, seed: 1 });
    const b = shard(300, { index: 1, seed: 2, tesseraId: a.id.tesseraId });
    const c = shard(50, { seed: 3 });
    assert.deepEqual(await store.storeForPeer(a.id, a.data, { sender: P }), {
      stored: true,
      credited: 1000,
    });
    assert.deepEqual(await store.storeForPeer(b.id, b.data, { sender: Q }), {
      stored: true,
      credited: 300,
    });
    // The sender missed our ack and pushes again; another peer pushes the
    // same bytes too: nothing is credited twice.
    assert.deepEqual(await store.storeForPeer(a.id, a.data, { sender: P }), {
      stored: false,
      credited: 0,
    });
    assert.deepEqual(await store.storeForPeer(a.id, a.data, { sender: Q }), {
      stored: false,
      credited: 0,
    });
    await store.store(c.id, c.data);
    assert.equal(await credit(db, P), 1000);
    assert.equal(await credit(db, Q), 300);
    assert.equal(store.get(a.id.tesseraId, 0)?.sender, P);
    assert.equal(store.get(a.id.tesseraId, 1)?.sender, Q);
    assert.equal(store.get(c.id.tesseraId, 0)?.sender, null);
    assert.deepEqual(store.get(a.id.tesseraId, 0), {
      ...a.id,
      sizeBytes: 1000,
      storedAt: 7_000,
      sender: P,
    });
    await assert.rejects(
      store.storeForPeer(c.id, c.data, { sender: "" }),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
    assert.equal((await store.reconcileLedger()).corrections.length, 0);
  });
});

Deno.test("a full disk at the ledger credit leaves neither the shard nor its credit; a retry stores and credits once", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const s = shard(4096, { seed: 4 });
    await new SqliteReciprocityLedger(db).recordStoredForThem(P, 10);
    // The row's INSERT succeeds, the credit's UPSERT (an UPDATE of P's
    // existing row) fails: the transaction must take the row back.
    failWrites(db, "reciprocity_balances", "UPDATE");
    await assert.rejects(
      store.storeForPeer(s.id, s.data, { sender: P }),
      (e) => isTesserasError(e, "INSUFFICIENT_SPACE"),
    );
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await tree(root), [`${s.id.tesseraId}/`]);
    assert.equal(await credit(db, P), 10);
    healWrites(db, "reciprocity_balances", "UPDATE");
    // The row's INSERT fails: no credit either.
    failWrites(db, "fragments", "INSERT");
    await assert.rejects(
      store.storeForPeer(s.id, s.data, { sender: P }),
      (e) => isTesserasError(e, "INSUFFICIENT_SPACE"),
    );
    assert.equal(await credit(db, P), 10);
    assert.deepEqual(await tree(root), [`${s.id.tesseraId}/`]);
    healWrites(db, "fragments", "INSERT");
    // The owner pushes again once there is room.
    assert.deepEqual(await store.storeForPeer(s.id, s.data, { sender: P }), {
      stored: true,
      credited: 4096,
    });
    assert.equal(await credit(db, P), 4106);
    assert.deepEqual(await store.list(), [s.id]);
  });
});

Deno.test("delete releases the sender's credit with the row, atomically, never below zero", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const a = shard(1000, { index: 0, seed: 5 });
    const b = shard(200, { index: 1, seed: 6, tesseraId: a.id.tesseraId });
    const c = shard(30, { index: 2, seed: 7, tesseraId: a.id.tesseraId });
    const d = shard(64, { seed: 8 });
    await store.storeForPeer(a.id, a.data, { sender: P });
    await store.storeForPeer(b.id, b.data, { sender: Q });
    await store.store(c.id, c.data);
    await store.storeForPeer(d.id, d.data, { sender: P });
    assert.equal(await credit(db, P), 1064);

    // A failing release keeps the row (and its file): both or neither.
    failWrites(db, "reciprocity_balances", "UPDATE");
    await assert.rejects(
      store.delete(d.id.tesseraId, 0),
      (e) => isTesserasError(e, "INSUFFICIENT_SPACE"),
    );
    assert.deepEqual(await store.read(d.id.tesseraId, 0), d.data);
    assert.equal(await credit(db, P), 1064);
    healWrites(db, "reciprocity_balances", "UPDATE");

    await store.delete(d.id.tesseraId, 0);
    assert.equal(await credit(db, P), 1000);
    // Every shard of a tessera: each sender gets its own bytes back; the
    // shard stored without a sender releases nothing.
    await store.delete(a.id.tesseraId);
    assert.equal(await credit(db, P), 0);
    assert.equal(await credit(db, Q), 0);
    assert.equal(await store.totalBytes(), 0);
    // A credit lowered by hand below what is held is not driven negative.
    await store.storeForPeer(a.id, a.data, { sender: P });
    await new SqliteReciprocityLedger(db).recordStoredForThem(P, -900);
    await store.delete(a.id.tesseraId, 0);
    assert.equal(await credit(db, P), 0);
  });
});

/** A data directory as a build before migration 004 left it. */
async function legacyDir(
  dir: string,
  rows: { s: ReturnType<typeof shard>; sender: string; credited: boolean }[],
): Promise<void> {
  const path = `${dir}/db/tesseras.db`;
  const old = await openDatabase(path, { migrations: MIGRATIONS.slice(0, 3) });
  try {
    const ledger = new SqliteReciprocityLedger(old);
    for (const { s, sender, credited } of rows) {
      const d = `${dir}/f/${s.id.tesseraId}`;
      await Deno.mkdir(d, { recursive: true });
      await Deno.writeFile(
        `${d}/${String(s.id.index).padStart(3, "0")}.shard`,
        s.data,
      );
      old.prepare(
        `INSERT INTO fragments (tessera_id, shard_index, shard_count, checksum,
           size_bytes, stored_at) VALUES (?, ?, ?, ?, ?, 1)`,
      ).run(
        s.id.tesseraId,
        s.id.index,
        s.id.shardCount,
        s.id.checksum,
        s.data.length,
      );
      // The old code credited in a second write, which a crash could miss.
      if (credited) await ledger.recordStoredForThem(sender, s.data.length);
    }
  } finally {
    old.close();
  }
}

Deno.test("pre-004 rows: a re-push claims the row and credits only what the sender's credit lacks", async () => {
  await withTempDir(async (dir) => {
    const lost = shard(500, { seed: 11 }); // the old crash gap: not credited
    const kept = shard(700, { seed: 12 }); // credited by the old code
    const mine = shard(90, { seed: 13 }); // never re-pushed
    await legacyDir(dir, [
      { s: lost, sender: P, credited: false },
      { s: kept, sender: Q, credited: true },
      { s: mine, sender: Q, credited: true },
    ]);
    const db = await openDatabase(`${dir}/db/tesseras.db`);
    try {
      const store = new FsFragmentStore(db, { root: `${dir}/f` });
      assert.equal(store.get(lost.id.tesseraId, 0)?.sender, null);
      assert.deepEqual(
        await store.storeForPeer(lost.id, lost.data, { sender: P }),
        { stored: false, credited: 500 },
      );
      assert.deepEqual(
        await store.storeForPeer(kept.id, kept.data, { sender: Q }),
        { stored: false, credited: 0 },
      );
      // Claimed once: a further re-push is a plain duplicate.
      assert.deepEqual(
        await store.storeForPeer(lost.id, lost.data, { sender: P }),
        { stored: false, credited: 0 },
      );
      assert.equal(store.get(lost.id.tesseraId, 0)?.sender, P);
      assert.equal(store.get(kept.id.tesseraId, 0)?.sender, Q);
      assert.equal(await credit(db, P), 500);
      assert.equal(await credit(db, Q), 790);
      // With `mine` still unattributed the credits are only bounded, and
      // both are within bounds.
      const check = await store.reconcileLedger();
      assert.equal(check.unattributedBytes, 90);
      assert.deepEqual(check.corrections, []);
      // Deleting the claimed rows releases what they were credited.
      await store.delete(lost.id.tesseraId);
      await store.delete(kept.id.tesseraId);
      assert.equal(await credit(db, P), 0);
      assert.equal(await credit(db, Q), 90);
    } finally {
      db.close();
    }
  });
});

Deno.test("reconcileLedger: exact once every row has a sender, only bounded while pre-004 rows remain", async () => {
  await withTempDir(async (dir) => {
    const legacy = shard(100, { seed: 21 });
    await legacyDir(dir, [{ s: legacy, sender: Q, credited: true }]);
    const db = await openDatabase(`${dir}/db/tesseras.db`);
    try {
      const clock = new ManualClock(50_000);
      const store = new FsFragmentStore(db, { root: `${dir}/f`, clock });
      const ledger = new SqliteReciprocityLedger(db, { clock });
      const a = shard(1000, { seed: 22 });
      await store.storeForPeer(a.id, a.data, { sender: P });
      // Drift from outside the store: P under-credited, R credited for
      // nothing, Q over-credited beyond anything held.
      const R = "12D3KooWPeerRRRR";
      await ledger.recordStoredForThem(P, -400);
      await ledger.recordStoredForThem(R, 50);
      await ledger.recordStoredForThem(Q, 5_000);
      const report = await store.reconcileLedger();
      assert.equal(report.repaired, false);
      assert.equal(report.unattributedBytes, 100);
      assert.equal(report.peersChecked, 3);
      assert.deepEqual(report.corrections, [
        { peerId: P, before: 600, after: 1000, attributedBytes: 1000 },
        // Q's 100 legacy bytes may be its own: kept; the rest goes.
        { peerId: Q, before: 5_100, after: 100, attributedBytes: 0 },
        // R may have sent the 100 unattributed bytes: bounded, not zeroed.
        // (50 is within [0, 100], so no correction.)
      ]);
      assert.equal(await credit(db, P), 600, "a report changes nothing");
      const fixed = await store.reconcileLedger({ repair: true });
      assert.equal(fixed.repaired, true);
      assert.equal(await credit(db, P), 1000);
      assert.equal(await credit(db, Q), 100);
      assert.equal(await credit(db, R), 50);
      assert.equal((await ledger.get(P))?.updatedAt, 50_000);
      // The last pre-004 row goes: now the credits are exact.
      await store.delete(legacy.id.tesseraId);
      const exact = await store.reconcileLedger({ repair: true });
      assert.deepEqual(exact.corrections, [
        { peerId: Q, before: 100, after: 0, attributedBytes: 0 },
        { peerId: R, before: 50, after: 0, attributedBytes: 0 },
      ]);
      assert.deepEqual(
        (await ledger.list()).map((r) => [r.peerId, r.bytesStoredForThem]),
        [[P, 1000], [Q, 0], [R, 0]],
      );
      assert.deepEqual((await store.reconcileLedger()).corrections, []);
    } finally {
      db.close();
    }
  });
});

Deno.test("recoverAfterCrash removes temp and orphan shard files, keeps every held shard, reconciles the ledger", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const held = shard(256, { index: 0, seed: 31 });
    await store.storeForPeer(held.id, held.data, { sender: P });
    const t = held.id.tesseraId;
    // A crash between rename and the row's transaction, one mid-write,
    // one at the root (a streaming writer's staging file).
    const orphan = shard(128, { index: 5, seed: 32, tesseraId: t });
    await Deno.writeFile(`${root}/${t}/005.shard`, orphan.data);
    await Deno.writeFile(
      `${root}/${t}/006.shard.tmp-0123456789abcdef`,
      orphan.data,
    );
    await Deno.writeFile(`${root}/staging.tmp-fedcba9876543210`, orphan.data);
    const other = shard(64, { seed: 33 });
    await Deno.mkdir(`${root}/${other.id.tesseraId}`);
    await Deno.writeFile(`${root}/${other.id.tesseraId}/000.shard`, other.data);
    // And a ledger that drifted (e.g. written by an older build).
    await new SqliteReciprocityLedger(db).recordStoredForThem(P, 99);

    const report = await store.recoverAfterCrash();
    assert.equal(report.strayTempFiles, 2);
    assert.equal(report.orphanFiles, 2);
    assert.deepEqual(report.ledger.corrections, [
      { peerId: P, before: 355, after: 256, attributedBytes: 256 },
    ]);
    assert.equal(await credit(db, P), 256);
    // (The emptied directory stays: harmless, and never listed.)
    assert.deepEqual(
      await tree(root),
      [`${other.id.tesseraId}/`, `${t}/`, `${t}/000.shard`].sort(),
    );
    assert.deepEqual(await store.read(t, 0), held.data);
    assert.deepEqual((await store.scan()).issues, []);
    // Nothing left to do the second time.
    const again = await store.recoverAfterCrash();
    assert.deepEqual(
      [again.strayTempFiles, again.orphanFiles, again.ledger.corrections],
      [0, 0, []],
    );
  });
});

Deno.test("migration 004 adds a nullable sender column and its index to fragments", async () => {
  await withDb((db) => {
    const cols = db.prepare("PRAGMA table_info(fragments)").all().map((c) => [
      c.name,
      c.type,
      c.notnull,
    ]);
    assert.deepEqual(cols.at(-1), ["sender_peer_id", "TEXT", 0]);
    const idx = db.prepare("PRAGMA index_info(idx_fragments_sender)").all()
      .map((c) => c.name);
    assert.deepEqual(idx, ["sender_peer_id"]);
    return Promise.resolve();
  });
});
