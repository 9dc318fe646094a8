import assert from "node:assert/strict";
import {
  GROUP_BYTES,
  outboardOf,
  proofGroupCv,
  sampleGroups,
  verifyGroupProofs,
} from "../../lib/codec/mod.ts";
import { fromHex, isTesserasError } from "../../lib/core/mod.ts";
import { FsFragmentStore } from "../../lib/storage/mod.ts";
import { shard, tree, withDb } from "./helpers.ts";

const big = (index = 0, seed = 5) =>
  shard(100 * GROUP_BYTES + 123, { index, seed });

function paths(
  store: FsFragmentStore,
  s: { id: { tesseraId: string; index: number } },
) {
  const shardPath = store.shardPath(s.id.tesseraId, s.id.index);
  return { shardPath, outboardPath: shardPath.replace(/\.shard$/, ".obao") };
}

async function checkProofs(store: FsFragmentStore, s: ReturnType<typeof big>) {
  const seed = {
    nonce: new Uint8Array(32).fill(3),
    holder: "h",
    tessera: s.id.tesseraId,
    index: s.id.index,
  };
  const groups = sampleGroups(seed, s.data.length);
  const got = await store.proveGroups(s.id.tesseraId, s.id.index, (size) => {
    assert.equal(size, s.data.length);
    return groups;
  });
  assert.ok(got);
  verifyGroupProofs(got.proofs, {
    size: s.data.length,
    checksum: fromHex(s.id.checksum),
    groups,
  });
  // The values its own check computed, which the holder signs.
  assert.deepEqual(
    got.cvs,
    got.proofs.map((p) => proofGroupCv(p, s.data.length)),
  );
}

Deno.test("a stored shard gets its outboard beside it; a one-group shard gets none; delete removes both", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = big();
    const small = shard(5000, { index: 1, tesseraId: s.id.tesseraId });
    await store.store(s.id, s.data);
    await store.store(small.id, small.data);
    const { outboardPath } = paths(store, s);
    assert.deepEqual(
      await Deno.readFile(outboardPath),
      outboardOf(s.data).outboard,
    );
    assert.deepEqual(
      await store.readOutboard(s.id.tesseraId, 0),
      outboardOf(s.data).outboard,
    );
    assert.deepEqual(
      await store.readOutboard(s.id.tesseraId, 1),
      new Uint8Array(0),
    );
    assert.deepEqual(await tree(`${dir}/f`), [
      `${s.id.tesseraId}/`,
      `${s.id.tesseraId}/000.obao`,
      `${s.id.tesseraId}/000.shard`,
      `${s.id.tesseraId}/001.shard`,
    ]);
    await checkProofs(store, s);
    await store.delete(s.id.tesseraId, 0);
    assert.equal(await store.readOutboard(s.id.tesseraId, 0), null);
    assert.equal(await store.proveGroups(s.id.tesseraId, 0, [0]), null);
    assert.deepEqual(await tree(`${dir}/f`), [
      `${s.id.tesseraId}/`,
      `${s.id.tesseraId}/001.shard`,
    ]);
  });
});

Deno.test("storeFile writes the outboard too", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = big(2, 9);
    const tmp = await store.tempPath({ tesseraId: s.id.tesseraId, index: 2 });
    await Deno.writeFile(tmp, s.data);
    await store.storeFile(s.id, tmp);
    assert.deepEqual(
      await Deno.readFile(paths(store, s).outboardPath),
      outboardOf(s.data).outboard,
    );
    assert.deepEqual((await store.scan()).issues, []);
  });
});

Deno.test("a missing or damaged outboard is rebuilt from the shard when next needed", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = big();
    await store.store(s.id, s.data);
    const { outboardPath } = paths(store, s);
    const want = outboardOf(s.data).outboard;
    // Missing: the proof still comes, and the file is back.
    await Deno.remove(outboardPath);
    await checkProofs(store, s);
    assert.deepEqual(await Deno.readFile(outboardPath), want);
    // Damaged in place: the self-check catches it before it leaves (a
    // proof of every group uses every value of the outboard).
    const bad = want.slice();
    bad[100] ^= 1;
    await Deno.writeFile(outboardPath, bad);
    const all = Array.from({ length: 101 }, (_, g) => g);
    const { proofs } = (await store.proveGroups(s.id.tesseraId, 0, all))!;
    verifyGroupProofs(proofs, {
      size: s.data.length,
      checksum: fromHex(s.id.checksum),
      groups: all,
    });
    assert.deepEqual(await Deno.readFile(outboardPath), want);
    // Truncated: readOutboard rebuilds it.
    await Deno.writeFile(outboardPath, want.subarray(64));
    assert.deepEqual(await store.readOutboard(s.id.tesseraId, 0), want);
    // Re-storing the intact shard heals a missing one as well.
    await Deno.remove(outboardPath);
    await store.store(s.id, s.data);
    assert.deepEqual(await Deno.readFile(outboardPath), want);
  });
});

Deno.test("verify rewrites a wrong outboard of an intact shard and fails a damaged shard", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = big();
    await store.store(s.id, s.data);
    const { shardPath, outboardPath } = paths(store, s);
    await Deno.writeFile(outboardPath, new Uint8Array(99 * 64));
    assert.equal(await store.verify(s.id.tesseraId, 0), true);
    assert.deepEqual(
      await Deno.readFile(outboardPath),
      outboardOf(s.data).outboard,
    );
    // Half the shard gone: verify fails, and no proof can be made.
    await Deno.truncate(shardPath, Math.floor(s.data.length / 2));
    assert.equal(await store.verify(s.id.tesseraId, 0), false);
    await assert.rejects(
      store.proveGroups(s.id.tesseraId, 0, [99]),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    await assert.rejects(
      store.readOutboard(s.id.tesseraId, 0).then(async () => {
        // The outboard is intact, so it loads; the damage shows on a proof.
        await store.proveGroups(s.id.tesseraId, 0, [0, 99]);
      }),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    await assert.rejects(
      store.proveGroups(s.id.tesseraId, 0, [101]),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  });
});

Deno.test("scan reports and repairs orphan and wrong outboards", async () => {
  await withDb(async (db, dir) => {
    const store = new FsFragmentStore(db, { root: `${dir}/f` });
    const s = big();
    await store.store(s.id, s.data);
    const { outboardPath } = paths(store, s);
    const orphan = outboardPath.replace("000.obao", "007.obao");
    await Deno.writeFile(orphan, new Uint8Array(64));
    await Deno.writeFile(outboardPath, new Uint8Array(99 * 64));
    const report = await store.scan();
    assert.deepEqual(report.issues.map((i) => [i.kind, i.index]), [
      ["orphan_file", 7],
      ["outboard_mismatch", 0],
    ]);
    const repaired = await store.scan({ repair: true });
    assert.ok(repaired.issues.every((i) => i.repaired));
    assert.deepEqual((await store.scan()).issues, []);
    assert.deepEqual(
      await Deno.readFile(outboardPath),
      outboardOf(s.data).outboard,
    );
    // Without checksums a missing outboard still shows, by its length.
    await Deno.remove(outboardPath);
    const quick = await store.scan({ checksums: false });
    assert.deepEqual(quick.issues.map((i) => i.kind), ["outboard_mismatch"]);
    // recoverAfterCrash removes orphan outboards with the orphan shards.
    await Deno.writeFile(orphan, new Uint8Array(64));
    const recovered = await store.recoverAfterCrash();
    assert.equal(recovered.orphanFiles, 1);
  });
});
