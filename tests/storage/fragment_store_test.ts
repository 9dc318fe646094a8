import assert from "node:assert/strict";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { FsFragmentStore, openDatabase } from "../../lib/storage/mod.ts";
import { attestationProof } from "../../lib/replication/attest_crypto.ts";
import { bytes, ManualClock, shard, tree, withDb } from "./helpers.ts";

Deno.test("store, read, list, verify and totalBytes round-trip, and survive a reopen", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/fragments`;
    const clock = new ManualClock(42_000);
    const store = new FsFragmentStore(db, { root, clock });
    const a = shard(1000, { index: 3, shardCount: 24, seed: 1 });
    const b = shard(10, { index: 0, shardCount: 24, seed: 1 });
    await store.store(a.id, a.data);
    await store.store(b.id, b.data);
    assert.deepEqual(await store.read(a.id.tesseraId, 3), a.data);
    assert.deepEqual(await store.list(), [b.id, a.id]);
    assert.deepEqual(await store.list(a.id.tesseraId), [b.id, a.id]);
    // Two shards of one tessera: one id held.
    assert.deepEqual(await store.tesserasHeld(), [a.id.tesseraId]);
    assert.equal(await store.verify(a.id.tesseraId, 3), true);
    assert.equal(await store.totalBytes(), 1010);
    assert.deepEqual(store.get(a.id.tesseraId, 3), {
      ...a.id,
      sizeBytes: 1000,
      storedAt: 42_000,
      sender: null,
    });
    assert.deepEqual(await tree(root), [
      `${a.id.tesseraId}/`,
      `${a.id.tesseraId}/000.shard`,
      `${a.id.tesseraId}/003.shard`,
    ]);
    assert.equal(await store.read(a.id.tesseraId, 4), null);
    assert.equal(await store.verify(a.id.tesseraId, 4), false);
    assert.deepEqual(await store.list("00".repeat(32)), []);
  });
  // Reopen: a fresh handle and a fresh store see the same shards.
  await withDb(async (_db, dir) => {
    const path = `${dir}/re.db`;
    const s = shard(77, { seed: 9 });
    const db1 = await openDatabase(path);
    await new FsFragmentStore(db1, { root: `${dir}/f` }).store(s.id, s.data);
    db1.close();
    const db2 = await openDatabase(path);
    try {
      const store2 = new FsFragmentStore(db2, { root: `${dir}/f` });
      assert.deepEqual(await store2.read(s.id.tesseraId, 0), s.data);
      assert.deepEqual(await store2.list(), [s.id]);
    } finally {
      db2.close();
    }
  });
});

Deno.test("storing the same shard again is a no-op; a different shard under the same index is refused", async () => {
  await withDb(async (db, dir) => {
    const clock = new ManualClock(1);
    const store = new FsFragmentStore(db, { root: `${dir}/f`, clock });
    const s = shard(64, { index: 2 });
    await store.store(s.id, s.data);
    clock.ms = 2;
    await store.store(s.id, s.data);
    assert.equal(store.get(s.id.tesseraId, 2)?.storedAt, 1);
    const other = shard(64, { index: 2, seed: 555, tesseraId: s.id.tesseraId });
    await assert.rejects(
      store.store(other.id, other.data),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    assert.deepEqual(await store.read(s.id.tesseraId, 2), s.data);
    assert.equal(store.count(), 1);
  });
});

Deno.test("bytes that do not match the checksum are refused, leaving no file and no row", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = shard(100);
    const corrupt = s.data.slice();
    corrupt[50] ^= 1;
    await assert.rejects(
      store.store(s.id, corrupt),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    assert.deepEqual(await tree(`${dir}/f`), []);
    assert.equal(store.count(), 0);
  });
});

const HOSTILE_IDS = [
  "../../../../etc/passwd",
  "../" + "a".repeat(61),
  "/" + "a".repeat(63),
  "/etc/passwd",
  "A".repeat(64),
  "ab".repeat(31) + "aB",
  "a".repeat(63) + "\0",
  "a".repeat(32) + "/" + "a".repeat(31),
  "a".repeat(32) + "\\" + "a".repeat(31),
  "C:" + "a".repeat(62),
  "a".repeat(65),
  "a".repeat(63),
  "",
  "..",
  ".",
];

Deno.test("hostile tessera ids are rejected with INVALID_ID before any path is built", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const good = shard(10);
    for (const bad of HOSTILE_IDS) {
      const id = { ...good.id, tesseraId: bad };
      const invalid = (e: unknown) => isTesserasError(e, "INVALID_ID");
      await assert.rejects(store.store(id, good.data), invalid, bad);
      await assert.rejects(store.read(bad, 0), invalid, bad);
      await assert.rejects(store.delete(bad), invalid, bad);
      await assert.rejects(store.delete(bad, 0), invalid, bad);
      await assert.rejects(store.verify(bad, 0), invalid, bad);
      await assert.rejects(store.list(bad), invalid, bad);
      await assert.rejects(
        store.tempPath({ tesseraId: bad, index: 0 }),
        invalid,
        bad,
      );
      assert.throws(() => store.shardPath(bad, 0), invalid, bad);
    }
    // Nothing was created anywhere under the test directory but the db.
    assert.deepEqual((await tree(dir)).filter((p) => !p.startsWith("db")), []);
  });
});

Deno.test("out-of-range indices, shard counts and bad checksums are rejected with INVALID_INPUT", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = shard(10, { index: 0, shardCount: 3 });
    const invalid = (e: unknown) => isTesserasError(e, "INVALID_INPUT");
    for (const index of [-1, 256, 1.5, NaN, Infinity]) {
      await assert.rejects(store.read(s.id.tesseraId, index), invalid);
      await assert.rejects(store.store({ ...s.id, index }, s.data), invalid);
    }
    // A string index must not slip through as "1".
    await assert.rejects(
      store.read(s.id.tesseraId, "1" as unknown as number),
      invalid,
    );
    for (const shardCount of [0, 3, 257, 2.5]) {
      await assert.rejects(
        store.store({ ...s.id, index: 3, shardCount }, s.data),
        invalid,
      );
    }
    await assert.rejects(
      store.store({ ...s.id, checksum: s.id.checksum.toUpperCase() }, s.data),
      invalid,
    );
    assert.deepEqual(await tree(`${dir}/f`), []);
  });
});

Deno.test("crash residue: a leftover temp file is never listed, is reported and removed", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const s = shard(200, { index: 1 });
    await store.store(s.id, s.data);
    // What a kill -9 between write and rename leaves behind.
    const tmp = `${store.shardPath(s.id.tesseraId, 5)}.tmp-0123456789abcdef`;
    await Deno.writeFile(tmp, bytes(50));
    await Deno.writeFile(`${root}/x.tmp-fedcba9876543210`, bytes(5));
    assert.deepEqual(await store.list(), [s.id]);
    assert.equal(await store.read(s.id.tesseraId, 5), null);
    const report = await store.scan();
    assert.deepEqual(
      report.issues.map((i) => [i.kind, i.path, i.repaired]),
      [
        ["stray_temp", tmp, false],
        ["stray_temp", `${root}/x.tmp-fedcba9876543210`, false],
      ],
    );
    assert.equal(report.filesSeen, 1);
    assert.equal(report.rowsChecked, 1);
    assert.equal(report.bytesHashed, 200);
    assert.equal(await store.removeStrayTempFiles(), 2);
    assert.deepEqual(await tree(root), [
      `${s.id.tesseraId}/`,
      `${s.id.tesseraId}/001.shard`,
    ]);
    assert.deepEqual((await store.scan()).issues, []);
  });
});

Deno.test("the verify scan finds files without rows, rows without files, bad checksums and sizes", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const t = shard(1, { seed: 3 }).id.tesseraId;
    const s = [0, 1, 2, 3].map((index) =>
      shard(300, { index, seed: 10 + index, tesseraId: t })
    );
    for (const x of s) await store.store(x.id, x.data);
    // 0: intact. 1: file lost. 2: flipped byte. 3: truncated.
    await Deno.remove(store.shardPath(t, 1));
    const flipped = s[2].data.slice();
    flipped[0] ^= 0xff;
    await Deno.writeFile(store.shardPath(t, 2), flipped);
    await Deno.writeFile(store.shardPath(t, 3), s[3].data.subarray(0, 299));
    // 7: a file with no row (crash between rename and insert).
    await Deno.writeFile(store.shardPath(t, 7), bytes(9));
    await Deno.writeFile(`${root}/${t}/notes.txt`, bytes(1));
    await Deno.mkdir(`${root}/not-a-tessera`);

    const report = await store.verifyAll();
    assert.deepEqual(
      report.issues.map((i) => [i.kind, i.index ?? null]),
      [
        ["orphan_file", 7],
        ["unexpected_entry", null],
        ["unexpected_entry", null],
        ["missing_file", 1],
        ["checksum_mismatch", 2],
        ["size_mismatch", 3],
      ],
    );
    assert.deepEqual(
      report.issues.map((i) => i.repaired),
      Array(6).fill(false),
    );
    assert.equal(await store.verify(t, 0), true);
    assert.equal(await store.verify(t, 1), false);
    assert.equal(await store.verify(t, 2), false);
    assert.equal(await store.verify(t, 3), false);
    assert.equal(await store.read(t, 1), null);
    assert.deepEqual((await store.list(t)).map((f) => f.index), [0, 1, 2, 3]);

    // Without checksums the flipped byte goes unnoticed (same size).
    const quick = await store.scan({ checksums: false });
    assert.deepEqual(
      quick.issues.map((i) => i.kind).filter((k) => k !== "unexpected_entry"),
      ["orphan_file", "missing_file", "size_mismatch"],
    );
    assert.equal(quick.bytesHashed, 0);

    // Repair removes only what is safe: the orphan; rows stay reported.
    const repaired = await store.scan({ repair: true });
    assert.deepEqual(
      repaired.issues.filter((i) => i.repaired).map((i) => i.path),
      [store.shardPath(t, 7)],
    );
    await assert.rejects(
      Deno.stat(store.shardPath(t, 7)),
      Deno.errors.NotFound,
    );
    assert.equal((await Deno.stat(`${root}/${t}/notes.txt`)).isFile, true);

    // Storing a shard whose file was lost heals it.
    await store.store(s[1].id, s[1].data);
    assert.equal(await store.verify(t, 1), true);
    // The corrupt ones are the caller's to delete; then the scan is clean.
    await store.delete(t, 2);
    await store.delete(t, 3);
    await Deno.remove(`${root}/${t}/notes.txt`);
    await Deno.remove(`${root}/not-a-tessera`);
    assert.deepEqual((await store.scan()).issues, []);
  });
});

Deno.test("delete removes the row, then the file, then the empty directory", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const t = shard(1, { seed: 4 }).id.tesseraId;
    const s = [0, 1, 2].map((index) =>
      shard(40, { index, seed: 20 + index, tesseraId: t })
    );
    for (const x of s) await store.store(x.id, x.data);
    await store.delete(t, 1);
    assert.deepEqual((await store.list(t)).map((f) => f.index), [0, 2]);
    assert.deepEqual(await tree(root), [
      `${t}/`,
      `${t}/000.shard`,
      `${t}/002.shard`,
    ]);
    await store.delete(t, 1); // absent: no error
    await store.delete(t);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await tree(root), []);
    assert.equal(await store.totalBytes(), 0);
  });
});

Deno.test("storeFile hashes, renames and records a shard written by a streaming writer", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const s = shard(3000, { index: 4 });
    const tmp = await store.tempPath({ tesseraId: s.id.tesseraId, index: 4 });
    await Deno.writeFile(tmp, s.data);
    // Handed out and not yet stored: not stray.
    assert.deepEqual((await store.scan()).issues, []);
    await store.storeFile(s.id, tmp);
    assert.deepEqual(await store.read(s.id.tesseraId, 4), s.data);
    await assert.rejects(Deno.stat(tmp), Deno.errors.NotFound);

    // A wrong file is refused and the temp file removed.
    const bad = shard(100, { index: 5, tesseraId: s.id.tesseraId });
    const tmp2 = await store.tempPath({
      tesseraId: bad.id.tesseraId,
      index: 5,
    });
    await Deno.writeFile(tmp2, bytes(100, 999));
    await assert.rejects(
      store.storeFile(bad.id, tmp2),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    await assert.rejects(Deno.stat(tmp2), Deno.errors.NotFound);
    assert.deepEqual((await store.list()).map((f) => f.index), [4]);

    // The shard's own path is not a temp file: refused, left alone.
    await assert.rejects(
      store.storeFile(s.id, store.shardPath(s.id.tesseraId, 4)),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    assert.equal(await store.verify(s.id.tesseraId, 4), true);

    // A writer that gives up.
    const tmp3 = await store.tempPath({
      tesseraId: bad.id.tesseraId,
      index: 6,
    });
    await Deno.writeFile(tmp3, bytes(10));
    await store.discardTemp(tmp3);
    assert.deepEqual((await store.scan()).issues, []);

    // An encoder that learns the tessera id only at the end stages at the
    // root; the file is moved into its shard directory.
    const late = shard(2000, { index: 0, seed: 77 });
    const staged = await store.tempPath();
    assert.equal(staged.startsWith(`${root}/staging.tmp-`), true);
    await Deno.writeFile(staged, late.data);
    assert.deepEqual((await store.scan()).issues, []);
    await store.storeFile(late.id, staged);
    assert.deepEqual(await store.read(late.id.tesseraId, 0), late.data);
    assert.deepEqual((await store.scan()).issues, []);
  });
});

Deno.test("concurrent stores of the same shard leave one file and one row", async () => {
  await withDb(async (db, dir) => {
    const root = `${dir}/f`;
    const store = new FsFragmentStore(db, { root });
    const s = shard(5000, { index: 9 });
    const others = [0, 1, 2, 3].map((index) =>
      shard(500, { index, seed: 40 + index, tesseraId: s.id.tesseraId })
    );
    await Promise.all([
      ...Array.from({ length: 8 }, () => store.store(s.id, s.data)),
      ...others.map((o) => store.store(o.id, o.data)),
    ]);
    assert.equal(store.count(), 5);
    assert.deepEqual(await tree(root), [
      `${s.id.tesseraId}/`,
      ...[0, 1, 2, 3, 9].map((i) =>
        `${s.id.tesseraId}/${String(i).padStart(3, "0")}.shard`
      ),
    ]);
    assert.deepEqual((await store.scan()).issues, []);
  });
});

Deno.test("an aborted store rejects with the signal's reason and leaves nothing", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = shard(100);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      store.store(s.id, s.data, { signal: ac.signal }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
    const reason = new Error("shutting down");
    await assert.rejects(
      store.store(s.id, s.data, { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    assert.equal(store.count(), 0);
    assert.deepEqual(await tree(`${dir}/f`), []);
  });
});

Deno.test("minFreeBytes refuses a store with INSUFFICIENT_SPACE before writing", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, {
      root: `${dir}/f`,
      minFreeBytes: Number.MAX_SAFE_INTEGER,
    });
    const s = shard(100);
    await assert.rejects(
      store.store(s.id, s.data),
      (e) => isTesserasError(e, "INSUFFICIENT_SPACE"),
    );
    assert.equal(store.count(), 0);
    assert.deepEqual(await tree(`${dir}/f`), []);
  });
});

Deno.test("a shard larger than any tessera is refused as TOO_LARGE", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = shard(1);
    // A view claiming > 1 GiB without allocating it.
    const huge = { length: 1_073_741_825 } as unknown as Uint8Array;
    await assert.rejects(
      store.store({ ...s.id, checksum: blake3Hex(s.data) }, huge),
      (e) => isTesserasError(e, "TOO_LARGE"),
    );
  });
});

Deno.test("keyedHash is the attestation proof of the bytes read, in pieces; null when not held or the file is gone", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/fragments` });
    const nonce = bytes(32, 5);
    // Empty, one chunk, past a chunk, past the 4 MiB read piece.
    const sizes = [0, 1024, 1025, (4 << 20) + 3];
    const shards = sizes.map((n, index) =>
      shard(n, { index, shardCount: 24, seed: 3, tesseraId: "ab".repeat(32) })
    );
    for (const s of shards) await store.store(s.id, s.data);
    for (const s of shards) {
      const keyed = await store.keyedHash(s.id.tesseraId, s.id.index, nonce);
      assert.equal(keyed, attestationProof(nonce, s.data));
      // Another nonce, another proof.
      assert.notEqual(
        await store.keyedHash(s.id.tesseraId, s.id.index, bytes(32, 6)),
        keyed,
      );
    }
    assert.equal(await store.keyedHash("ab".repeat(32), 9, nonce), null);
    await Deno.remove(store.shardPath("ab".repeat(32), 1));
    assert.equal(await store.keyedHash("ab".repeat(32), 1, nonce), null);
    await assert.rejects(
      store.keyedHash("ab".repeat(32), 0, new Uint8Array(16)),
      (e) => isTesserasError(e) && e.code === "INVALID_INPUT",
    );
  });
});
