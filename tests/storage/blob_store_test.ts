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

Deno.test("blobFile and readRange: path and size, ranges clipped at the end, null when absent", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    const data = bytes(5000, 4);
    const id = blake3Hex(data);
    assert.equal(await blobs.blobFile(id), null);
    assert.equal(await blobs.readRange(id, { offset: 0, length: 1 }), null);
    await blobs.put(id, data);
    assert.deepEqual(await blobs.blobFile(id), {
      path: blobs.blobPath(id),
      size: 5000,
    });
    const range = (offset: number, length: number) =>
      blobs.readRange(id, { offset, length });
    assert.deepEqual(await range(0, 5000), data);
    assert.deepEqual(await range(1234, 100), data.subarray(1234, 1334));
    assert.deepEqual(await range(4990, 100), data.subarray(4990));
    assert.deepEqual(await range(5000, 10), new Uint8Array(0));
    assert.deepEqual(await range(9000, 10), new Uint8Array(0));
    await assert.rejects(
      range(-1, 10),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      blobs.readRange("../x", { offset: 0, length: 1 }),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
  });
});

Deno.test("staging: a file given up (move) is renamed in, not copied: same inode, nothing left at the source", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    const data = bytes(5000, 9);
    const source = `${dir}/sealed.bin`;
    await Deno.writeFile(source, data);
    const inode = (await Deno.stat(source)).ino;
    const staging = await blobs.openStaging();
    const moved = await staging.importFile(source, {
      move: true,
      hash: true,
      slices: (size) => ({ size: Math.ceil(size / 3), count: 3 }),
    });
    // Renamed in, then read once for the hashes asked.
    assert.deepEqual(moved.sliceHashes, [
      blake3Hex(data.subarray(0, 1667)),
      blake3Hex(data.subarray(1667, 3334)),
      blake3Hex(
        new Uint8Array([...data.subarray(3334), ...new Uint8Array(1)]),
      ),
    ]);
    assert.equal(moved.size, 5000);
    assert.equal(moved.blake3, blake3Hex(data));
    assert.equal((await Deno.stat(moved.path)).ino, inode);
    await assert.rejects(Deno.stat(source), Deno.errors.NotFound);
    assert.deepEqual(
      await staging.readImported({ offset: 0, length: 5000 }),
      data,
    );
    await staging.remove();
    // Without move the source stays and the copy is another file.
    await Deno.writeFile(source, data);
    const again = await blobs.openStaging();
    let told = -1;
    const copy = await again.importFile(source, {
      hash: true,
      slices: (size) => {
        told = size;
        return { size: 4096, count: 2 };
      },
    });
    assert.equal(told, 5000, "the slices are asked for with the size");
    assert.equal(copy.blake3, blake3Hex(data));
    assert.deepEqual(copy.sliceHashes, [
      blake3Hex(data.subarray(0, 4096)),
      blake3Hex(
        new Uint8Array([...data.subarray(4096), ...new Uint8Array(3192)]),
      ),
    ]);
    assert.notEqual(
      (await Deno.stat(copy.path)).ino,
      (await Deno.stat(source)).ino,
    );
    assert.deepEqual(await Deno.readFile(source), data);
    await again.remove();
  });
});

Deno.test("staging: import a copy, append and read shards, commit the copy as a blob, remove everything", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/blobs`;
    const blobs = new FsBlobStore({ root });
    const data = bytes(3000, 5);
    const id = blake3Hex(data);
    const source = `${dir}/input.bin`;
    await Deno.writeFile(source, data);
    const staging = await blobs.openStaging();
    const copy = await staging.importFile(source);
    assert.equal(copy.size, 3000);
    assert.equal(copy.blake3, undefined, "hashed only when asked");
    assert.notEqual(copy.path, source);
    assert.ok(copy.path.startsWith(`${root}/.staging/`));
    // The copy is private: changing the source does not change it.
    await Deno.writeFile(source, bytes(3000, 6));
    assert.deepEqual(await Deno.readFile(copy.path), data);

    await staging.append(7, data.subarray(0, 1000));
    await staging.append(7, data.subarray(1000, 2500));
    await staging.append(70, new Uint8Array([9, 8, 7]));
    assert.deepEqual(
      await staging.read(7, { offset: 0, length: 2500 }),
      data.subarray(0, 2500),
    );
    assert.deepEqual(
      await staging.read(7, { offset: 2400, length: 500 }),
      data.subarray(2400, 2500),
    );
    assert.deepEqual(
      await staging.read(70, { offset: 1, length: 9 }),
      new Uint8Array([8, 7]),
    );
    await assert.rejects(
      staging.read(8, { offset: 0, length: 1 }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );

    await staging.commitBlob(id);
    assert.deepEqual(await blobs.get(id), data);
    assert.deepEqual(await blobs.list(), [id]);
    await assert.rejects(
      staging.commitBlob(id),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    await staging.remove();
    await staging.remove(); // twice: no error
    await assert.rejects(
      staging.append(1, data),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    assert.deepEqual(await tree(root), [".staging/", `${id}.blob`].sort());
  });
});

Deno.test("staging: import refuses missing, non-file and too large sources before copying", async () => {
  await withTempDir(async (dir) => {
    const blobs = new FsBlobStore({ root: `${dir}/blobs` });
    const staging = await blobs.openStaging();
    try {
      await assert.rejects(
        staging.importFile(`${dir}/missing.bin`),
        (e) => isTesserasError(e, "NOT_FOUND"),
      );
      await assert.rejects(
        staging.importFile(dir),
        (e) => isTesserasError(e, "INVALID_INPUT"),
      );
      await Deno.writeFile(`${dir}/big.bin`, bytes(101));
      await assert.rejects(
        staging.importFile(`${dir}/big.bin`, { maxBytes: 100 }),
        (e) => isTesserasError(e, "TOO_LARGE"),
      );
      await assert.rejects(
        staging.commitBlob("ab".repeat(32)),
        (e) => isTesserasError(e, "NOT_FOUND"),
      );
    } finally {
      await staging.remove();
    }
    assert.deepEqual(await blobs.list(), []);
  });
});

Deno.test("staging areas left by a crash are removed at start; blobs stay", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/blobs`;
    const blobs = new FsBlobStore({ root });
    const data = bytes(100, 7);
    const id = blake3Hex(data);
    await blobs.put(id, data);
    const a = await blobs.openStaging();
    const b = await blobs.openStaging();
    await a.append(3, bytes(50));
    await Deno.writeFile(`${dir}/in.bin`, bytes(20));
    await b.importFile(`${dir}/in.bin`);
    // The process dies here: neither area is removed.
    assert.equal(await blobs.removeStrayTempFiles(), 2);
    assert.deepEqual(await tree(root), [".staging/", `${id}.blob`].sort());
    assert.deepEqual(await blobs.list(), [id]);
    assert.equal(await blobs.removeStrayTempFiles(), 0);
  });
});
