import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import { openDatabase, SqliteCatalogueStore } from "../../lib/storage/mod.ts";
import { withDb, withTempDir } from "./helpers.ts";

const A = "aa".repeat(32);
const B = "bb".repeat(32);

Deno.test("catalogue rows survive reopening the database, oldest first", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db/tesseras.db`;
    const db = await openDatabase(path);
    const store = new SqliteCatalogueStore(db);
    const sealed = new Uint8Array(61).fill(7);
    await store.record({
      id: B,
      name: "later",
      size: 9,
      time: 2_000,
      sealedKey: sealed,
    });
    await store.record({
      id: A,
      name: null,
      size: 0,
      time: 1_000,
      sealedKey: null,
    });
    db.close();
    const again = await openDatabase(path);
    try {
      const rows = await new SqliteCatalogueStore(again).list();
      assert.deepEqual(rows, [
        { id: A, name: null, size: 0, time: 1_000, sealedKey: null },
        { id: B, name: "later", size: 9, time: 2_000, sealedKey: sealed },
      ]);
    } finally {
      again.close();
    }
  });
});

Deno.test("a second put of the same id keeps the first time and any sealed key", async () => {
  await withDb(async (db) => {
    const store = new SqliteCatalogueStore(db);
    const sealedKey = new Uint8Array(61).fill(1);
    const row = (name: string | null, time: number, key = false) => ({
      id: A,
      name,
      size: 5,
      time,
      sealedKey: key ? sealedKey : null,
    });
    await store.record(row("first", 10, true));
    await store.record(row(null, 20));
    assert.deepEqual(await store.get(A), row("first", 10, true));
    await store.record(row("renamed", 30));
    assert.deepEqual(await store.get(A), row("renamed", 10, true));
    assert.equal(await store.get(B), null);
  });
});

Deno.test("bad catalogue rows are refused and nothing is written", async () => {
  await withDb(async (db) => {
    const store = new SqliteCatalogueStore(db);
    const base = { id: A, name: null, size: 1, time: 1, sealedKey: null };
    for (
      const bad of [
        { ...base, id: "nope" },
        { ...base, size: -1 },
        { ...base, time: 0.5 },
        { ...base, name: "" },
        { ...base, name: "a\nb" },
        { ...base, name: "n".repeat(1025) },
        { ...base, sealedKey: new Uint8Array(0) },
      ]
    ) {
      await assert.rejects(
        () => store.record(bad),
        (err) =>
          isTesserasError(err, "INVALID_INPUT") ||
          isTesserasError(err, "INVALID_ID"),
        JSON.stringify(bad).slice(0, 50),
      );
    }
    assert.deepEqual(await store.list(), []);
  });
});
