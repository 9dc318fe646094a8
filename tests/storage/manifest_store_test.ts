import assert from "node:assert/strict";
import { isTesserasError, type ManifestStore } from "../../lib/core/mod.ts";
import { MemoryManifestStore } from "../../lib/memory/mod.ts";
import { openDatabase, SqliteManifestStore } from "../../lib/storage/mod.ts";
import { withTempDir } from "./helpers.ts";

const A = "aa".repeat(32);
const B = "bb".repeat(32);
const first = {
  bytes: new Uint8Array([1, 2, 3]),
  signature: new Uint8Array(64).fill(9),
};
const second = {
  bytes: new Uint8Array([4]),
  signature: new Uint8Array(64).fill(8),
};

async function exercise(store: ManifestStore): Promise<void> {
  assert.equal(await store.get(A), null);
  await store.put(A, first);
  await store.put(A, second); // the first kept stays
  await store.put(B, second);
  assert.deepEqual(await store.get(A), first);
  assert.deepEqual((await store.list()).sort(), [A, B]);
  await store.delete(B);
  await store.delete(B); // absent: no error
  assert.deepEqual(await store.list(), [A]);
}

Deno.test("memory manifest store: first kept stays, delete, list", async () => {
  await exercise(new MemoryManifestStore());
});

Deno.test("sqlite manifest store: same rules, survives reopening, refuses bad ids", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db/tesseras.db`;
    let db = await openDatabase(path);
    await exercise(new SqliteManifestStore(db));
    await assert.rejects(
      () => new SqliteManifestStore(db).put("../x", first),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
    await assert.rejects(
      () =>
        new SqliteManifestStore(db).put(B, {
          bytes: new Uint8Array(20_000),
          signature: first.signature,
        }),
      (e) => isTesserasError(e, "TOO_LARGE"),
    );
    db.close();
    db = await openDatabase(path);
    try {
      assert.deepEqual(await new SqliteManifestStore(db).get(A), first);
      assert.deepEqual(await new SqliteManifestStore(db).list(), [A]);
    } finally {
      db.close();
    }
  });
});
