import assert from "node:assert/strict";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { FsBlobStore } from "../../lib/storage/mod.ts";
import { bytes, tree, withTempDir } from "./helpers.ts";

Deno.test("put, get, has, list, delete, overwrite", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    assert.deepEqual(await blobs.list(), []);
    const a = bytes(5000, 1);
    const b = bytes(0, 2);
    const idA = blake3Hex(a);
    const idB = blake3Hex(b);
    await blobs.put(idA, a);
    await blobs.put(idB, b);
    assert.deepEqual(await blobs.get(idA), a);
    assert.deepEqual(await blobs.get(idB), b);
    assert.equal(await blobs.has(idA), true);
    assert.deepEqual(await blobs.list(), [idA, idB].sort());
    assert.deepEqual(
      await tree(`${dir}/blobs`),
      [`${idA}.blob`, `${idB}.blob`].sort(),
    );
    await blobs.put(idA, bytes(10, 3));
    assert.deepEqual(await blobs.get(idA), bytes(10, 3));
    await blobs.delete(idA);
    await blobs.delete(idA); // absent: no error
    assert.equal(await blobs.has(idA), false);
    assert.equal(await blobs.get(idA), null);
    assert.deepEqual(await blobs.list(), [idB]);
  });
});

Deno.test("hostile blob ids are rejected before any path is built", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    const bad = [
      "../" + "a".repeat(61),
      "../../escape",
      "/" + "a".repeat(63),
      "A".repeat(64),
      "a".repeat(63) + "\0",
      "a".repeat(32) + "/" + "a".repeat(31),
      "",
    ];
    const invalid = (e: unknown) => isTesserasError(e, "INVALID_ID");
    for (const id of bad) {
      await assert.rejects(blobs.put(id, bytes(1)), invalid, id);
      await assert.rejects(blobs.get(id), invalid, id);
      await assert.rejects(blobs.has(id), invalid, id);
      await assert.rejects(blobs.delete(id), invalid, id);
      assert.throws(() => blobs.blobPath(id), invalid, id);
    }
    assert.deepEqual(await tree(dir), []);
  });
});

Deno.test("leftover temp files and foreign files are never listed; stray temps are removed", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/blobs`;
    const blobs = new FsBlobStore({ root });
    const data = bytes(100);
    const id = blake3Hex(data);
    await blobs.put(id, data);
    const tmp = `${root}/${"ef".repeat(32)}.blob.tmp-0011223344556677`;
    await Deno.writeFile(tmp, bytes(7));
    await Deno.writeFile(`${root}/README`, bytes(1));
    await Deno.writeFile(`${root}/${"EF".repeat(32)}.blob`, bytes(1));
    assert.deepEqual(await blobs.list(), [id]);
    assert.equal(await blobs.has("ef".repeat(32)), false);
    assert.equal(await blobs.removeStrayTempFiles(), 1);
    assert.deepEqual(
      await tree(root),
      [
        `${"EF".repeat(32)}.blob`,
        `${id}.blob`,
        "README",
      ].sort(),
    );
  });
});

Deno.test("an aborted put writes nothing", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    const id = "ab".repeat(32);
    await assert.rejects(
      blobs.put(id, bytes(10), { signal: AbortSignal.abort() }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
    assert.equal(await blobs.has(id), false);
    assert.deepEqual(await tree(`${dir}/blobs`), []);
  });
});
