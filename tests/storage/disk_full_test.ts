/**
 * A full disk during a store, on a real 512 KiB tmpfs. Mounting needs
 * root on Linux; elsewhere these tests are reported as ignored.
 */
import assert from "node:assert/strict";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  freeDiskBytes,
  FsBlobStore,
  FsFragmentStore,
  openDatabase,
} from "../../lib/storage/mod.ts";
import { bytes, shard, tree } from "./helpers.ts";

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false; // no --allow-run, or no such command
  }
}

async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  const dir = await Deno.makeTempDir();
  try {
    if (!await run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir])) {
      return false;
    }
    return await run("umount", [dir]);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const tmpfs = await canMountTmpfs();

/** Runs `fn` with a fresh tmpfs of `size` mounted on a temp dir. */
async function withTmpfs(
  size: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_full_" });
  assert.equal(
    await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]),
    true,
  );
  try {
    await fn(dir);
  } finally {
    assert.equal(await run("umount", [dir]), true);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes zeros to `path` until the disk is full. */
async function fill(path: string): Promise<void> {
  using f = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(4096);
  try {
    for (;;) if (await f.write(chunk) === 0) return;
  } catch (err) {
    assert.equal((err as { code?: string }).code, "ENOSPC");
  }
}

Deno.test({
  name:
    "a full disk while writing a shard gives INSUFFICIENT_SPACE and leaves no partial shard or row",
  ignore: !tmpfs,
  async fn() {
    await withTmpfs("512k", async (dir) => {
      // The database lives elsewhere: only shard files fill this disk.
      const dbDir = await Deno.makeTempDir({ prefix: "tesseras_db_" });
      const db = await openDatabase(`${dbDir}/t.db`);
      try {
        const store = new FsFragmentStore(db, { root: `${dir}/f` });
        const t = shard(1, { seed: 2 }).id.tesseraId;
        const shards = [0, 1, 2, 3, 4].map((index) =>
          shard(150 * 1024, { index, seed: 60 + index, tesseraId: t })
        );
        const results: string[] = [];
        for (const s of shards) {
          try {
            await store.store(s.id, s.data);
            results.push("ok");
          } catch (err) {
            assert.equal(isTesserasError(err, "INSUFFICIENT_SPACE"), true);
            results.push("full");
          }
        }
        // 512 KiB holds three 150 KiB shards, not four.
        assert.deepEqual(results, ["ok", "ok", "ok", "full", "full"]);
        assert.deepEqual((await store.list()).map((f) => f.index), [0, 1, 2]);
        // Each shard with its outboard; the refused ones left neither.
        assert.deepEqual(await tree(`${dir}/f`), [
          `${t}/`,
          `${t}/000.obao`,
          `${t}/000.shard`,
          `${t}/001.obao`,
          `${t}/001.shard`,
          `${t}/002.obao`,
          `${t}/002.shard`,
        ]);
        assert.deepEqual((await store.scan()).issues, []);
        // What is left: 512 KiB less three shards and their outboards
        // (18 pairs of 64 bytes: one page each) in whole 4 KiB pages.
        const pages = Math.ceil(150 * 1024 / 4096) + 1;
        const free = await freeDiskBytes(`${dir}/f`);
        assert.equal(free, 512 * 1024 - 3 * pages * 4096);
      } finally {
        db.close();
        await Deno.remove(dbDir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name:
    "a full disk at the database commit removes the renamed shard file; the store works once space is freed",
  ignore: !tmpfs,
  async fn() {
    await withTmpfs("512k", async (dir) => {
      const db = await openDatabase(`${dir}/db/t.db`);
      try {
        const store = new FsFragmentStore(db, { root: `${dir}/f` });
        await fill(`${dir}/filler`);
        // An empty shard needs no data block, so the file write succeeds
        // and it is SQLite's commit that meets the full disk.
        const empty = new Uint8Array(0);
        const id = {
          tesseraId: "ab".repeat(32),
          index: 0,
          shardCount: 1,
          checksum: blake3Hex(empty),
        };
        await assert.rejects(
          store.store(id, empty),
          (e) =>
            isTesserasError(e, "INSUFFICIENT_SPACE") &&
            e.message.includes("database or disk is full"),
        );
        assert.deepEqual(await store.list(), []);
        assert.deepEqual(await tree(`${dir}/f`), [`${id.tesseraId}/`]);
        await Deno.remove(`${dir}/filler`);
        await store.store(id, empty);
        assert.deepEqual(await store.list(), [id]);
        assert.deepEqual((await store.scan()).issues, []);
      } finally {
        db.close();
      }
    });
  },
});

Deno.test({
  name:
    "a full disk during a blob put gives INSUFFICIENT_SPACE and leaves no temp file",
  ignore: !tmpfs,
  async fn() {
    await withTmpfs("256k", async (dir) => {
      const blobs = new FsBlobStore({ root: `${dir}/b` });
      const id = "cd".repeat(32);
      await assert.rejects(
        blobs.put(id, bytes(300 * 1024)),
        (e) => isTesserasError(e, "INSUFFICIENT_SPACE"),
      );
      assert.deepEqual(await tree(`${dir}/b`), []);
      assert.equal(await blobs.has(id), false);
    });
  },
});
