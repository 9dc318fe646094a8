import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import { blake3Hex, encodeTessera } from "../../lib/codec/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryManifestStore,
  MemoryReciprocityLedger,
  seededRng,
} from "../../lib/memory/mod.ts";

const bytes = (n: number, seed = 1) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

Deno.test("MemoryFragmentStore stores, verifies, lists and counts bytes", async () => {
  const store = new MemoryFragmentStore();
  const data = bytes(100);
  const id = {
    tesseraId: "ab".repeat(32),
    index: 3,
    shardCount: 24,
    checksum: blake3Hex(data),
  };
  await store.store(id, data);
  await store.store(id, data); // no-op
  assert.equal(await store.totalBytes(), 100);
  assert.deepEqual(await store.read(id.tesseraId, 3), data);
  assert.equal(await store.read(id.tesseraId, 4), null);
  assert.deepEqual(await store.list(), [id]);
  assert.deepEqual(await store.tesserasHeld(), [id.tesseraId]);
  assert.equal(await store.verify(id.tesseraId, 3), true);
  assert.equal(store.corrupt(id.tesseraId, 3, 7), true);
  assert.equal(await store.verify(id.tesseraId, 3), false);
  await store.delete(id.tesseraId, 3);
  assert.equal(await store.totalBytes(), 0);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await store.tesserasHeld(), []);
});

Deno.test("MemoryFragmentStore rejects bytes that do not match the checksum", async () => {
  const store = new MemoryFragmentStore();
  const id = {
    tesseraId: "cd".repeat(32),
    index: 0,
    shardCount: 1,
    checksum: blake3Hex(bytes(10)),
  };
  await assert.rejects(
    store.store(id, bytes(10, 2)),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
  assert.equal(await store.totalBytes(), 0);
});

Deno.test("MemoryFragmentStore does not alias caller buffers", async () => {
  const store = new MemoryFragmentStore({ capacityBytes: 1000 });
  const data = bytes(10);
  const id = {
    tesseraId: "ef".repeat(32),
    index: 0,
    shardCount: 1,
    checksum: blake3Hex(data),
  };
  await store.store(id, data);
  data[0] ^= 1;
  assert.equal(await store.verify(id.tesseraId, 0), true);
  assert.equal(store.freeSpace(), 990);
});

Deno.test("MemoryFragmentStore linked to a ledger: storeForPeer credits once, delete and clear release, as in SQLite", async () => {
  const ledger = new MemoryReciprocityLedger({ now: () => 5 });
  const store = new MemoryFragmentStore({ ledger });
  const shard = (n: number, seed: number, index = 0) => {
    const data = bytes(n, seed);
    const id = {
      tesseraId: blake3Hex(bytes(8, seed + 50)),
      index,
      shardCount: 24,
      checksum: blake3Hex(data),
    };
    return { id, data };
  };
  const stored = async (peer: string) =>
    (await ledger.get(peer))?.bytesStoredForThem;
  const a = shard(100, 1);
  const b = shard(40, 2, 1);
  const c = shard(70, 3);
  assert.deepEqual(await store.storeForPeer!(a.id, a.data, { sender: "P" }), {
    stored: true,
    credited: 100,
  });
  assert.deepEqual(await store.storeForPeer!(a.id, a.data, { sender: "P" }), {
    stored: false,
    credited: 0,
  });
  await assert.rejects(
    store.storeForPeer!(b.id, bytes(40, 9), { sender: "P" }),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
  assert.equal(await stored("P"), 100);
  // A shard stored without a sender is claimed by a re-push and credited
  // when the sender's credit does not cover it.
  await store.store(b.id, b.data);
  assert.deepEqual(await store.storeForPeer!(b.id, b.data, { sender: "Q" }), {
    stored: false,
    credited: 40,
  });
  await store.storeForPeer!(c.id, c.data, { sender: "P" });
  assert.deepEqual([await stored("P"), await stored("Q")], [170, 40]);
  await store.delete(a.id.tesseraId);
  assert.deepEqual([await stored("P"), await stored("Q")], [70, 40]);
  store.clear();
  assert.deepEqual([await stored("P"), await stored("Q")], [0, 0]);
  assert.equal(await store.totalBytes(), 0);
  // Unlinked, the capability is absent (the caller credits the ledger).
  assert.equal(new MemoryFragmentStore().storeForPeer, undefined);
});

Deno.test("MemoryReciprocityLedger keeps the balance arithmetic", async () => {
  let t = 5;
  const ledger = new MemoryReciprocityLedger({ now: () => t });
  await ledger.recordStoredForThem("b", 300);
  await ledger.recordTheyStoreForUs("b", 100);
  t = 9;
  await ledger.recordTheyStoreForUs("a", 50);
  await ledger.setInstitutional("c", true);
  assert.equal(await ledger.balance("b"), -200);
  assert.equal(await ledger.balance("zzz"), 0);
  assert.deepEqual(await ledger.get("b"), {
    peerId: "b",
    bytesStoredForThem: 300,
    bytesTheyStoreForUs: 100,
    balance: -200,
    institutional: false,
    updatedAt: 5,
  });
  assert.deepEqual(
    (await ledger.bestPeers(2)).map((r) => [r.peerId, r.balance]),
    [["a", 50], ["c", 0]],
  );
  assert.equal((await ledger.get("c"))?.institutional, true);
});

Deno.test("MemoryHolderRegistry tracks holders and marks", async () => {
  let t = 100;
  const reg = new MemoryHolderRegistry({ now: () => t });
  const enc = encodeTessera(bytes(50));
  const checksums = enc.fragments.map((f) => f.id.checksum);
  await assert.rejects(
    reg.addHolder(enc.id, { index: 0, peerId: "p" }),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
  await reg.track(enc.id, { plan: enc.plan, checksums });
  await reg.addHolder(enc.id, { index: 0, peerId: "q", ip: "10.0.0.1" });
  await reg.addHolder(enc.id, { index: 0, peerId: "p" });
  t = 200;
  await reg.markAttested(enc.id, { peerId: "q", at: 150 });
  await reg.markChecked(enc.id, { health: "healthy", at: 160 });
  assert.deepEqual(await reg.holders(enc.id), [
    { index: 0, peerId: "p", storedAt: 100, lastAttestedAt: null },
    {
      index: 0,
      peerId: "q",
      storedAt: 100,
      lastAttestedAt: 150,
      ip: "10.0.0.1",
    },
  ]);
  const tracked = await reg.get(enc.id);
  assert.equal(tracked?.lastHealth, "healthy");
  assert.equal(tracked?.lastCheckedAt, 160);
  assert.equal(tracked?.createdAt, 100);
  await reg.removeHolder(enc.id, { peerId: "q" });
  assert.deepEqual((await reg.holders(enc.id)).map((h) => h.peerId), ["p"]);
  await reg.untrack(enc.id);
  assert.equal(await reg.get(enc.id), null);
  assert.deepEqual(await reg.holders(enc.id), []);
});

Deno.test("MemoryBlobStore round-trips", async () => {
  const blobs = new MemoryBlobStore();
  await blobs.put("aa".repeat(32), bytes(5));
  assert.equal(await blobs.has("aa".repeat(32)), true);
  assert.deepEqual(await blobs.get("aa".repeat(32)), bytes(5));
  assert.deepEqual(await blobs.list(), ["aa".repeat(32)]);
  await blobs.delete("aa".repeat(32));
  assert.equal(await blobs.get("aa".repeat(32)), null);
});

Deno.test("MemoryBlobStore ranged reads: clipped at the end, null when absent, views only without copies", async () => {
  for (const copy of [true, false]) {
    const blobs = new MemoryBlobStore({ copy });
    const data = bytes(5000, 4);
    const id = blake3Hex(data);
    assert.equal(await blobs.size(id), null);
    assert.equal(await blobs.readRange(id, { offset: 0, length: 1 }), null);
    await blobs.put(id, data);
    assert.equal(await blobs.size(id), 5000);
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
    // Without copies the bytes handed out are the stored ones.
    const part = (await range(10, 20))!;
    assert.equal(part.buffer === data.buffer, !copy);
  }
});

Deno.test("MemoryBlobStore staging: import a copy, append and read shards, commit the copy as a blob, remove", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-memstage-" });
  try {
    const blobs = new MemoryBlobStore();
    const data = bytes(3000, 5);
    const id = blake3Hex(data);
    const source = `${dir}/input.bin`;
    await Deno.writeFile(source, data);
    const staging = await blobs.openStaging();
    await assert.rejects(
      staging.readImported({ offset: 0, length: 1 }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    assert.deepEqual(await staging.importFile(source), { size: 3000 });
    // Asked to, the import hashes what it copied (a put's id).
    assert.deepEqual(
      await (await blobs.openStaging()).importFile(source, {
        hash: true,
        slices: (size) => ({ size: size / 2, count: 2 }),
      }),
      {
        size: 3000,
        blake3: blake3Hex(data),
        sliceHashes: [
          blake3Hex(data.subarray(0, 1500)),
          blake3Hex(data.subarray(1500)),
        ],
      },
    );
    // The copy is private: changing the source does not change it.
    await Deno.writeFile(source, bytes(3000, 6));
    assert.deepEqual(
      await staging.readImported({ offset: 2990, length: 100 }),
      data.subarray(2990),
    );
    const piece = data.slice(0, 1000);
    await staging.append(7, piece);
    piece.fill(0); // appended bytes are copied: the caller may reuse them
    await staging.append(7, data.subarray(1000, 2500));
    assert.deepEqual(
      await staging.read(7, { offset: 0, length: 2500 }),
      data.subarray(0, 2500),
    );
    assert.deepEqual(
      await staging.read(7, { offset: 2400, length: 500 }),
      data.subarray(2400, 2500),
    );
    await assert.rejects(
      staging.read(8, { offset: 0, length: 1 }),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    await staging.commitBlob(id);
    assert.deepEqual(await blobs.get(id), data);
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
    await assert.rejects(
      staging.importFile(`${dir}/missing.bin`),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    const fresh = await blobs.openStaging();
    await assert.rejects(
      fresh.importFile(`${dir}/missing.bin`),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
    await assert.rejects(
      fresh.importFile(dir),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
    await assert.rejects(
      fresh.importFile(source, { maxBytes: 100 }),
      (e) => isTesserasError(e, "TOO_LARGE"),
    );
    assert.deepEqual(await blobs.list(), [id]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ManualClock wakes sleepers in deadline order and honours abort", async () => {
  const clock = new ManualClock(1000);
  const order: string[] = [];
  const a = clock.sleep(50).then(() => order.push(`a@${clock.now()}`));
  const b = clock.sleep(10).then(() => order.push(`b@${clock.now()}`));
  const ctl = new AbortController();
  const c = clock.sleep(20, { signal: ctl.signal }).catch(() =>
    order.push("c aborted")
  );
  ctl.abort();
  await c;
  assert.equal(clock.pending, 2);
  await clock.advance(100);
  await Promise.all([a, b]);
  assert.deepEqual(order, ["c aborted", "b@1010", "a@1050"]);
  assert.equal(clock.now(), 1100);
});

Deno.test("seededRng is deterministic and in range", () => {
  const a = seededRng(7), b = seededRng(7), c = seededRng(8);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.next()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
  assert.deepEqual(a.bytes(6), b.bytes(6));
  assert.equal(a.bytes(7).length, 7);
});

Deno.test("MemoryKeyring signatures verify only for the signer", async () => {
  const ring = new MemoryKeyring("t");
  const alice = ring.identity("alice");
  const data = bytes(20);
  const sig = await alice.sign(data);
  assert.equal(
    await alice.verify("alice", { data, signature: sig }),
    true,
  );
  assert.equal(
    await alice.verify("bob", { data, signature: sig }),
    false,
  );
  assert.equal(
    await alice.verify("alice", { data: bytes(20, 9), signature: sig }),
    false,
  );
  assert.equal(
    await new MemoryKeyring("other").identity("x").verify("alice", {
      data,
      signature: sig,
    }),
    false,
  );
});

Deno.test("MemoryManifestStore copies what it keeps unless told not to; the first kept stays", async () => {
  const id = "ab".repeat(32);
  const signed = {
    bytes: new Uint8Array([1, 2]),
    signature: new Uint8Array([3]),
  };
  const copying = new MemoryManifestStore();
  await copying.put(id, signed);
  signed.bytes[0] = 9; // the caller reuses its buffer
  assert.deepEqual((await copying.get(id))?.bytes, new Uint8Array([1, 2]));
  const sharing = new MemoryManifestStore({ copy: false });
  await sharing.put(id, signed);
  assert.equal((await sharing.get(id))?.bytes, signed.bytes);
  await sharing.put(id, {
    bytes: new Uint8Array([7]),
    signature: signed.signature,
  });
  assert.equal((await sharing.get(id))?.bytes, signed.bytes);
  assert.deepEqual(await sharing.list(), [id]);
});
