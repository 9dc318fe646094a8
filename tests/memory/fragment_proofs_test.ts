import assert from "node:assert/strict";
import {
  GROUP_BYTES,
  proofGroupCv,
  sampleGroups,
  verifyGroupProofs,
} from "../../lib/codec/mod.ts";
import { fromHex, isTesserasError, toHex } from "../../lib/core/mod.ts";
import { MemoryFragmentStore } from "../../lib/memory/mod.ts";
import { shard } from "../storage/helpers.ts";

const seed = {
  nonce: new Uint8Array(32).fill(9),
  holder: "h",
  tessera: "t",
  index: 0,
};

for (const verifyOnStore of [true, false]) {
  Deno.test(`memory store proves sampled groups from its outboard (verifyOnStore ${verifyOnStore})`, async () => {
    const store = new MemoryFragmentStore({ verifyOnStore });
    const s = shard(100 * GROUP_BYTES + 9, { seed: 4 });
    const tiny = shard(400, { seed: 5, index: 1, tesseraId: s.id.tesseraId });
    await store.store(s.id, s.data);
    await store.store(tiny.id, tiny.data);
    for (const x of [s, tiny]) {
      const got = await store.proveGroups(
        x.id.tesseraId,
        x.id.index,
        (size) => sampleGroups(seed, size),
      );
      assert.ok(got);
      assert.equal(got.size, x.data.length);
      verifyGroupProofs(got.proofs, {
        size: x.data.length,
        checksum: fromHex(x.id.checksum),
        groups: sampleGroups(seed, x.data.length),
      });
      // The chaining values it hands the signer, when it hands any, are
      // those of the groups it proves (the one group's is the checksum).
      if (x === tiny) assert.deepEqual(got.cvs, [x.id.checksum]);
      got.cvs?.forEach((cv, i) =>
        assert.equal(
          typeof cv === "string" ? cv : toHex(cv),
          toHex(proofGroupCv(got.proofs[i], x.data.length)),
        )
      );
    }
    assert.equal(await store.proveGroups(s.id.tesseraId, 7, [0]), null);
  });
}

Deno.test("a corrupted byte in a sampled group makes the memory store refuse to prove", async () => {
  const store = new MemoryFragmentStore();
  const s = shard(30 * GROUP_BYTES, { seed: 6 });
  await store.store(s.id, s.data);
  store.corrupt(s.id.tesseraId, 0, 5 * GROUP_BYTES + 3);
  // Group 5 is the damaged one: asking for it fails, others still prove.
  await assert.rejects(
    store.proveGroups(s.id.tesseraId, 0, [5]),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
  const other = await store.proveGroups(s.id.tesseraId, 0, [4, 6]);
  assert.equal(other?.proofs.length, 2);
  // Checked, not taken on trust: the values of the check go to the signer.
  assert.deepEqual(
    other?.cvs?.map((cv) => typeof cv === "string" ? cv : toHex(cv)),
    other?.proofs.map((p) => toHex(proofGroupCv(p, s.data.length))),
  );
});

Deno.test("a corrupted one-group shard is refused, not proven from its checksum", async () => {
  const store = new MemoryFragmentStore();
  const s = shard(400, { seed: 7 });
  await store.store(s.id, s.data);
  assert.deepEqual((await store.proveGroups(s.id.tesseraId, 0, [0]))?.cvs, [
    s.id.checksum,
  ]);
  store.corrupt(s.id.tesseraId, 0, 10);
  await assert.rejects(
    store.proveGroups(s.id.tesseraId, 0, [0]),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
});
