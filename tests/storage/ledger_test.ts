import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  MIGRATIONS,
  openDatabase,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";
import { ManualClock, withDb, withTempDir } from "./helpers.ts";

Deno.test("increments accumulate by UPSERT and the generated balance follows", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(100);
    const ledger = new SqliteReciprocityLedger(db, { clock });
    assert.equal(await ledger.balance("peerA"), 0);
    assert.equal(await ledger.get("peerA"), null);
    await ledger.recordStoredForThem("peerA", 1000);
    clock.ms = 200;
    await ledger.recordTheyStoreForUs("peerA", 300);
    await ledger.recordStoredForThem("peerA", 24);
    assert.deepEqual(await ledger.get("peerA"), {
      peerId: "peerA",
      bytesStoredForThem: 1024,
      bytesTheyStoreForUs: 300,
      balance: -724,
      institutional: false,
      updatedAt: 200,
    });
    // Releases are negative increments.
    await ledger.recordStoredForThem("peerA", -1024);
    assert.equal(await ledger.balance("peerA"), 300);
    assert.equal(
      db.prepare("SELECT balance FROM reciprocity_balances WHERE peer_id = ?")
        .get("peerA")?.balance,
      300,
    );
  });
});

Deno.test("bestPeers orders by balance, ties by peer id; institutional flag round-trips", async () => {
  await withDb(async (db) => {
    const ledger = new SqliteReciprocityLedger(db);
    await ledger.recordTheyStoreForUs("c", 500);
    await ledger.recordTheyStoreForUs("b", 500);
    await ledger.recordTheyStoreForUs("a", 100);
    await ledger.recordStoredForThem("d", 50);
    await ledger.setInstitutional("e", true);
    assert.deepEqual(
      (await ledger.bestPeers(10)).map((p) => [p.peerId, p.balance]),
      [["b", 500], ["c", 500], ["a", 100], ["e", 0], ["d", -50]],
    );
    assert.deepEqual((await ledger.bestPeers(2)).map((p) => p.peerId), [
      "b",
      "c",
    ]);
    assert.deepEqual(await ledger.bestPeers(0), []);
    assert.equal((await ledger.get("e"))?.institutional, true);
    await ledger.setInstitutional("e", false);
    assert.equal((await ledger.get("e"))?.institutional, false);
    await ledger.setInstitutional("a", true);
    assert.deepEqual(
      (await ledger.list()).map((p) => [p.peerId, p.institutional]),
      [["a", true], ["b", false], ["c", false], ["d", false], ["e", false]],
    );
    // The flag leaves the counters alone.
    assert.equal(await ledger.balance("a"), 100);
  });
});

Deno.test("bad ledger input is rejected", async () => {
  await withDb(async (db) => {
    const ledger = new SqliteReciprocityLedger(db);
    for (const bad of [1.5, NaN, Infinity, 2 ** 60]) {
      await assert.rejects(
        ledger.recordStoredForThem("p", bad),
        (e) => isTesserasError(e, "INVALID_INPUT"),
      );
    }
    for (const peer of ["", "a\0b", "x".repeat(257)]) {
      await assert.rejects(
        ledger.recordTheyStoreForUs(peer, 1),
        (e) => isTesserasError(e, "INVALID_ID"),
      );
    }
    assert.deepEqual(await ledger.list(), []);
  });
});

Deno.test("the ledger survives a reopen", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/l.db`;
    const db1 = await openDatabase(path);
    await new SqliteReciprocityLedger(db1).recordTheyStoreForUs("p", 77);
    await new SqliteReciprocityLedger(db1).setInstitutional("p", true);
    db1.close();
    const db2 = await openDatabase(path);
    try {
      const row = await new SqliteReciprocityLedger(db2).get("p");
      assert.equal(row?.balance, 77);
      assert.equal(row?.institutional, true);
    } finally {
      db2.close();
    }
  });
});

Deno.test("concurrent increments from many promises and a second connection in another thread lose nothing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/concurrent.db`;
    const peers = ["p1", "p2", "p3"];
    const n = 150;
    const worker = new Worker(
      new URL("./ledger_worker.ts", import.meta.url),
      { type: "module" },
    );
    try {
      const messages: MessageEvent[] = [];
      let wake = () => {};
      worker.onmessage = (e) => {
        messages.push(e);
        wake();
      };
      const next = async () => {
        while (messages.length === 0) {
          await new Promise<void>((r) => wake = r);
        }
        return messages.shift()!.data;
      };
      assert.deepEqual(await next(), { ready: true });
      // Both threads open the fresh file at the same moment (racing on
      // the migrations), then increment the same rows.
      worker.postMessage({ path, n, peers });
      const now = () => performance.timeOrigin + performance.now();
      const start = now();
      const db = await openDatabase(path, { synchronous: "NORMAL" });
      try {
        const ledger = new SqliteReciprocityLedger(db);
        for (let i = 0; i < n; i++) {
          // Many increments in flight at once on this connection too.
          await Promise.all(peers.flatMap((p) => [
            ledger.recordStoredForThem(p, 1),
            ledger.recordTheyStoreForUs(p, 2),
          ]));
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0));
        }
        const end = now();
        const other = await next();
        assert.equal(other.ok, true, other.error);
        // The two threads' work overlapped in time.
        assert.ok(other.start < end && start < other.end);
        for (const p of peers) {
          const row = await ledger.get(p);
          assert.equal(row?.bytesStoredForThem, 2 * n);
          assert.equal(row?.bytesTheyStoreForUs, 4 * n);
          assert.equal(row?.balance, 2 * n);
        }
        assert.equal(
          db.prepare("SELECT COUNT(*) AS c FROM schema_migrations").get()?.c,
          MIGRATIONS.length,
        );
      } finally {
        db.close();
      }
    } finally {
      worker.terminate();
    }
  });
});
