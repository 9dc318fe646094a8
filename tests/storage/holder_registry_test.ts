import assert from "node:assert/strict";
import { blake3Hex, planTessera } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { openDatabase, SqliteHolderRegistry } from "../../lib/storage/mod.ts";
import { bytes, ManualClock, withDb, withTempDir } from "./helpers.ts";

const ID = blake3Hex(bytes(10, 1));
const ID2 = blake3Hex(bytes(10, 2));

function placement(size: number, seed = 1) {
  const plan = planTessera(size);
  const checksums = Array.from(
    { length: plan.shardCount },
    (_, i) => blake3Hex(bytes(8, seed * 1000 + i)),
  );
  return { plan, checksums };
}

Deno.test("track, get and list a tessera's plan and checksums", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(10);
    const reg = new SqliteHolderRegistry(db, { clock });
    const p = placement(5 << 20);
    assert.equal(p.plan.shardCount, 24);
    await reg.track(ID2, placement(100));
    await reg.track(ID, p);
    assert.deepEqual(await reg.get(ID), {
      tesseraId: ID,
      plan: p.plan,
      checksums: p.checksums,
      createdAt: 10,
      lastCheckedAt: null,
      lastHealth: null,
    });
    assert.deepEqual(
      (await reg.list()).map((t) => t.tesseraId),
      [ID, ID2].sort(),
    );
    assert.equal(await reg.get("00".repeat(32)), null);
    await reg.markChecked(ID, { health: "healthy", at: 55 });
    const t = await reg.get(ID);
    assert.equal(t?.lastCheckedAt, 55);
    assert.equal(t?.lastHealth, "healthy");
  });
});

Deno.test("holders: add, re-add, attest, remove; keyed by index and peer", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(100);
    const reg = new SqliteHolderRegistry(db, { clock });
    await reg.track(ID, placement(5 << 20));
    await reg.addHolder(ID, { index: 3, peerId: "peerB", ip: "10.0.0.2" });
    await reg.addHolder(ID, { index: 0, peerId: "peerA" });
    await reg.addHolder(ID, { index: 3, peerId: "peerA", ip: "10.0.0.1" });
    clock.ms = 200;
    await reg.markAttested(ID, { peerId: "peerA", at: 150 });
    // Re-adding refreshes storedAt, keeps lastAttestedAt and the ip.
    await reg.addHolder(ID, { index: 3, peerId: "peerA" });
    assert.deepEqual(await reg.holders(ID), [
      { index: 0, peerId: "peerA", storedAt: 100, lastAttestedAt: 150 },
      {
        index: 3,
        peerId: "peerA",
        storedAt: 200,
        lastAttestedAt: 150,
        ip: "10.0.0.1",
      },
      {
        index: 3,
        peerId: "peerB",
        storedAt: 100,
        lastAttestedAt: null,
        ip: "10.0.0.2",
      },
    ]);
    await reg.removeHolder(ID, { peerId: "peerA", index: 3 });
    assert.deepEqual(
      (await reg.holders(ID)).map((h) => [h.index, h.peerId]),
      [[0, "peerA"], [3, "peerB"]],
    );
    await reg.removeHolder(ID, { peerId: "peerA" });
    assert.deepEqual(
      (await reg.holders(ID)).map((h) => [h.index, h.peerId]),
      [[3, "peerB"]],
    );
    assert.deepEqual(await reg.holders(ID2), []);
    await reg.removeHolder(ID2, { peerId: "peerA" }); // untracked: no error
  });
});

Deno.test("addHolder refuses an untracked tessera, an index outside the plan and bad input", async () => {
  await withDb(async (db) => {
    const reg = new SqliteHolderRegistry(db);
    await assert.rejects(
      reg.addHolder(ID, { index: 0, peerId: "p" }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    await reg.track(ID, placement(100)); // Small: one shard
    await assert.rejects(
      reg.addHolder(ID, { index: 1, peerId: "p" }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      reg.addHolder(ID, { index: 0, peerId: "p", ip: "1.2.3.4/../x" }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      reg.addHolder(ID, { index: 0, peerId: "" }),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
    await assert.rejects(
      reg.addHolder("../x", { index: 0, peerId: "p" }),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
    const { plan, checksums } = placement(5 << 20);
    await assert.rejects(
      reg.track(ID2, { plan, checksums: checksums.slice(1) }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      reg.track(ID2, { plan: { ...plan, shardCount: 25 }, checksums }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    assert.equal(await reg.get(ID2), null);
    assert.deepEqual(await reg.holders(ID), []);
  });
});

Deno.test("re-tracking keeps createdAt and the holders of indices that remain; untrack forgets all", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(1);
    const reg = new SqliteHolderRegistry(db, { clock });
    const big = placement(5 << 20, 1);
    await reg.track(ID, big);
    await reg.addHolder(ID, { index: 0, peerId: "a" });
    await reg.addHolder(ID, { index: 5, peerId: "b" });
    clock.ms = 2;
    const small = placement(100, 2);
    await reg.track(ID, small);
    const t = await reg.get(ID);
    assert.equal(t?.createdAt, 1);
    assert.deepEqual(t?.checksums, small.checksums);
    assert.deepEqual(t?.plan, small.plan);
    assert.deepEqual((await reg.holders(ID)).map((h) => h.peerId), ["a"]);
    await reg.untrack(ID);
    assert.equal(await reg.get(ID), null);
    assert.deepEqual(await reg.holders(ID), []);
    for (const table of ["plan_shards", "holder_fragments"]) {
      assert.equal(
        db.prepare(`SELECT COUNT(*) AS c FROM ${table}`).get()?.c,
        0,
        table,
      );
    }
  });
});

Deno.test("the registry survives a reopen", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/r.db`;
    const p = placement(5 << 20);
    const db1 = await openDatabase(path);
    const r1 = new SqliteHolderRegistry(db1);
    await r1.track(ID, p);
    await r1.addHolder(ID, { index: 7, peerId: "z", ip: "2001:db8::1" });
    db1.close();
    const db2 = await openDatabase(path);
    try {
      const r2 = new SqliteHolderRegistry(db2);
      assert.deepEqual((await r2.get(ID))?.checksums, p.checksums);
      assert.deepEqual(
        (await r2.holders(ID)).map((h) => [h.index, h.peerId, h.ip]),
        [[7, "z", "2001:db8::1"]],
      );
    } finally {
      db2.close();
    }
  });
});
