/**
 * The streaming paths of the replication service, on real files: a
 * FsBlobStore in a temp directory gives the owner the blob store's
 * file side of the byte path (ranged reads, staging areas on disk).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { blake3Hex, encodeTessera } from "../../lib/codec/mod.ts";
import { isTesserasError, type TesseraId } from "../../lib/core/mod.ts";
import { FsBlobStore } from "../../lib/storage/mod.ts";
import { MemoryBlobStore } from "../../lib/memory/mod.ts";
import type { TesseraSink } from "../../lib/replication/mod.ts";
import {
  MiniNetwork,
  TEST_THRESHOLDS,
  testBytes,
  type TestNode,
} from "./test_network.ts";

interface Env {
  readonly dir: string;
  readonly net: MiniNetwork;
  readonly owner: TestNode;
  readonly blobs: FsBlobStore;
  [Symbol.asyncDispose](): Promise<void>;
}

async function env(peers: number): Promise<Env> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-stream-" });
  const net = new MiniNetwork();
  const blobs = new FsBlobStore({ root: join(dir, "blobs") });
  const owner = net.add("owner", "10.99.0.1", { blobs });
  net.addMany(peers);
  return {
    dir,
    net,
    owner,
    blobs,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function writeInput(e: Env, data: Uint8Array): Promise<string> {
  const path = join(e.dir, `input-${crypto.randomUUID()}.bin`);
  await Deno.writeFile(path, data);
  return path;
}

/** Entries left in the blob store's staging directory. */
async function stagingLeft(e: Env): Promise<number> {
  let n = 0;
  try {
    for await (const _ of Deno.readDir(join(e.blobs.root, ".staging"))) n++;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}

/** A sink collecting bytes in memory, counting resets. */
function memorySink(): TesseraSink & { bytes(): Uint8Array; resets: number } {
  let chunks: Uint8Array[] = [];
  const sink = {
    resets: 0,
    write(b: Uint8Array) {
      chunks.push(b.slice());
      return Promise.resolve();
    },
    reset() {
      chunks = [];
      sink.resets++;
      return Promise.resolve();
    },
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
  return sink;
}

/** What each holder has of `id`, checked against the in-memory encoding. */
async function assertHoldersExact(
  net: MiniNetwork,
  id: TesseraId,
  data: Uint8Array,
) {
  const expected = encodeTessera(data, { thresholds: TEST_THRESHOLDS });
  let held = 0;
  for (const node of net.nodes.values()) {
    for (const f of await node.fragments.list(id)) {
      const bytes = await node.fragments.read(id, f.index);
      assert.deepEqual(bytes, expected.fragments[f.index].data);
      held++;
    }
  }
  return held;
}

Deno.test("putTesseraFile: Small, Medium and Large placed as the in-memory encoder would, staging removed", async () => {
  for (
    const [size, tier, shards] of [
      [0, "small", 1],
      [700, "small", 1],
      [5000, "medium", 24],
      [40_000, "large", 72],
    ] as const
  ) {
    await using e = await env(30);
    const data = testBytes(size, size);
    const path = await writeInput(e, data);
    const encodeProgress: number[] = [];
    const uploads: number[] = [];
    const report = await e.owner.service.putTesseraFile(path, {
      onEncode: (done, total) => {
        assert.equal(total, size);
        encodeProgress.push(done);
      },
      onProgress: (p) => uploads.push(p.shardsDone),
    });
    const expected = encodeTessera(data, { thresholds: TEST_THRESHOLDS });
    assert.equal(report.tesseraId, expected.id);
    assert.equal(report.plan.tier, tier);
    assert.deepEqual(report.plan, expected.plan);
    assert.deepEqual(report.unplaced, []);
    assert.equal(report.placed.length, tier === "small" ? 7 : shards);
    assert.equal(encodeProgress.at(-1), size);
    assert.equal(uploads.at(-1), tier === "small" ? 7 : shards);
    // The blob is the file's copy; the plan and checksums are tracked.
    assert.deepEqual(await e.blobs.get(expected.id), data);
    const tracked = await e.owner.holders.get(expected.id);
    assert.deepEqual(
      tracked?.checksums,
      expected.fragments.map((f) => f.id.checksum),
    );
    assert.equal(
      await assertHoldersExact(e.net, expected.id, data),
      tier === "small" ? 7 : shards,
    );
    assert.equal(await stagingLeft(e), 0);
    // The input file is untouched and may change afterwards.
    assert.deepEqual(await Deno.readFile(path), data);
  }
});

Deno.test("putTesseraFile failures: missing file, no peers, abort; staging always removed", async () => {
  await using e = await env(0);
  await assert.rejects(
    e.owner.service.putTesseraFile(join(e.dir, "nope.bin")),
    (err) => isTesserasError(err, "NOT_FOUND"),
  );
  assert.equal(await stagingLeft(e), 0);

  const data = testBytes(5000, 3);
  const path = await writeInput(e, data);
  await assert.rejects(
    e.owner.service.putTesseraFile(path),
    (err) => isTesserasError(err, "UNREACHABLE"),
  );
  // Kept and tracked: repair places it once peers appear.
  const id = blake3Hex(data);
  assert.deepEqual(await e.blobs.get(id), data);
  assert.ok(await e.owner.holders.get(id));
  assert.equal(await stagingLeft(e), 0);

  const ctrl = new AbortController();
  ctrl.abort(new Error("stop"));
  await assert.rejects(
    e.owner.service.putTesseraFile(path, { signal: ctrl.signal }),
    /stop/,
  );
  assert.equal(await stagingLeft(e), 0);
});

Deno.test("putTesseraFile on a memory blob store runs the same byte path (staging in memory)", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  await assert.rejects(
    owner.service.putTesseraFile("/nonexistent"),
    (err) => isTesserasError(err, "NOT_FOUND"),
  );
  const dir = await Deno.makeTempDir({ prefix: "tesseras-stream-mem-" });
  try {
    const data = testBytes(5000, 3);
    const path = join(dir, "input.bin");
    await Deno.writeFile(path, data);
    const report = await owner.service.putTesseraFile(path);
    const expected = encodeTessera(data, { thresholds: TEST_THRESHOLDS });
    assert.equal(report.tesseraId, expected.id);
    assert.equal(report.placed.length, 24);
    assert.deepEqual(await owner.blobs.get(expected.id), data);
    assert.equal(await assertHoldersExact(net, expected.id, data), 24);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("health with the blob file: chunk proofs, a checksum-only holder fails, a corrupt blob is the scrub's to report", async () => {
  await using e = await env(30);
  const data = testBytes(40_000, 7);
  const report = await e.owner.service.putTesseraFile(
    await writeInput(e, data),
  );
  const id = report.tesseraId;
  const healthy = await e.owner.service.inspectTessera(id);
  assert.equal(healthy.verification, "chunk");
  assert.deepEqual(healthy.health, { kind: "healthy" });
  assert.equal(healthy.liveIndices.length, 72);

  // One holder forgets its bytes but answers with the right checksums.
  const liar = e.net.node(report.placed[0].peerId);
  const its = report.placed.filter((p) => p.peerId === liar.id).map((p) =>
    p.index
  );
  const tracked = (await e.owner.holders.get(id))!;
  liar.attestBehaviour = (req) =>
    liar.service.onAttest(req, e.owner.info).then((a) => ({
      ...a,
      entries: its.map((index) => ({
        index,
        checksum: tracked.checksums[index],
        proof: "00".repeat(32),
      })),
    }));
  const check = await e.owner.service.attestHolder(id, liar.id);
  assert.equal(check.verification, "chunk");
  assert.deepEqual(check.proven, []);
  assert.deepEqual(check.failed, its);
  const after = await e.owner.service.inspectTessera(id);
  assert.deepEqual(after.lostIndices, [...its].sort((a, b) => a - b));

  // Flip a byte of the blob file: audits read none of it, the scrub does.
  const blobPath = e.blobs.blobPath(id);
  const bytes = await Deno.readFile(blobPath);
  bytes[123] ^= 1;
  await Deno.writeFile(blobPath, bytes);
  assert.deepEqual(
    (await e.owner.service.inspectTessera(id)).lostIndices,
    after.lostIndices,
  );
  assert.deepEqual((await e.owner.service.scrubHeld()).corruptBlobs, [id]);
});

Deno.test("repair from the blob file: lost data and parity shards rebuilt exactly, staging removed", async () => {
  await using e = await env(40);
  const data = testBytes(40_000, 11);
  const report = await e.owner.service.putTesseraFile(
    await writeInput(e, data),
  );
  const id = report.tesseraId;
  const gone = [...new Set(report.placed.slice(0, 30).map((p) => p.peerId))]
    .slice(0, 3);
  for (const p of gone) e.net.node(p).online = false;
  const lost = report.placed.filter((p) => gone.includes(p.peerId)).map((p) =>
    p.index
  ).sort((a, b) => a - b);
  assert.ok(lost.some((i) => i < 48) && lost.length > 0);
  const repair = await e.owner.service.repairTessera(id);
  assert.equal(repair.source, "blob");
  assert.deepEqual(repair.after, { kind: "healthy" });
  assert.deepEqual(repair.rebuilt, lost);
  assert.equal(await stagingLeft(e), 0);
  // Every shard on an online holder is byte-exact.
  for (const p of gone) e.net.node(p).online = true;
  for (const p of gone) await e.net.node(p).fragments.delete(id);
  assert.equal(await assertHoldersExact(e.net, id, data), 72);
});

Deno.test("repair without the blob, streaming: survivors staged, lost shards rebuilt stripe-wise and verified", async () => {
  await using e = await env(40);
  const data = testBytes(40_000, 12);
  const report = await e.owner.service.putTesseraFile(
    await writeInput(e, data),
  );
  const id = report.tesseraId;
  await e.blobs.delete(id);
  const gone = [...new Set(report.placed.map((p) => p.peerId))].slice(0, 4);
  for (const p of gone) e.net.node(p).online = false;
  const repair = await e.owner.service.repairTessera(id);
  assert.equal(repair.source, "network");
  assert.deepEqual(repair.after, { kind: "healthy" });
  assert.ok(repair.bytesFetched >= 48 * report.plan.shardSize);
  assert.equal(await stagingLeft(e), 0);
  for (const p of gone) await e.net.node(p).fragments.delete(id);
  assert.equal(await assertHoldersExact(e.net, id, data), 72);
});

Deno.test("retrieveTesseraTo from our blob file, and from peers when the blob is corrupt (sink reset)", async () => {
  await using e = await env(30);
  const data = testBytes(5000, 13);
  const { tesseraId: id } = await e.owner.service.putTesseraFile(
    await writeInput(e, data),
  );
  const fetches = e.net.traffic.fetch;
  const sink = memorySink();
  const got = await e.owner.service.retrieveTesseraTo(id, sink);
  assert.deepEqual(got, {
    tesseraId: id,
    size: 5000,
    source: "blob",
    bytesFetched: 0,
  });
  assert.deepEqual(sink.bytes(), data);
  assert.equal(e.net.traffic.fetch, fetches);

  const blobPath = e.blobs.blobPath(id);
  const bytes = await Deno.readFile(blobPath);
  bytes[4999] ^= 0xff;
  await Deno.writeFile(blobPath, bytes);
  const again = memorySink();
  const viaNet = await e.owner.service.retrieveTesseraTo(id, again);
  assert.equal(viaNet.source, "network");
  assert.equal(again.resets, 1);
  assert.deepEqual(again.bytes(), data);
  assert.equal(await stagingLeft(e), 0);
});

Deno.test("retrieveTesseraTo from peers rebuilds missing data shards stripe-wise, within the fetch budget", async () => {
  await using e = await env(80);
  const data = testBytes(40_000, 14);
  const report = await e.owner.service.putTesseraFile(
    await writeInput(e, data),
  );
  const id = report.tesseraId;
  // Holders of data shards 0..9 go away: those must be rebuilt.
  for (const p of report.placed.filter((p) => p.index < 10)) {
    e.net.node(p.peerId).online = false;
  }
  const sink = memorySink();
  const got = await e.owner.service.retrieveTesseraTo(id, sink, {
    preferLocal: false,
  });
  assert.equal(got.source, "network");
  assert.equal(got.size, data.length);
  assert.deepEqual(sink.bytes(), data);
  assert.equal(sink.resets, 0);
  assert.equal(await stagingLeft(e), 0);
});

Deno.test("a stranger with a file blob store retrieves Small, Medium, Large and zero-ended files by id", async () => {
  for (
    const [size, zeros] of [[0, 0], [700, 0], [5000, 0], [40_000, 0], [
      5000,
      300,
    ], [
      40_000,
      47,
    ]]
  ) {
    await using e = await env(80);
    const data = testBytes(size, size + zeros);
    data.fill(0, size - zeros);
    const { tesseraId: id } = await e.owner.service.putTesseraFile(
      await writeInput(e, data),
    );
    const blobs = new FsBlobStore({ root: join(e.dir, "stranger-blobs") });
    const stranger = e.net.add("stranger", "10.98.0.1", { blobs });
    const sink = memorySink();
    const got = await stranger.service.retrieveTesseraTo(id, sink);
    assert.equal(got.source, "network");
    assert.equal(got.size, size, `size ${size} with ${zeros} zeros`);
    assert.deepEqual(sink.bytes(), data);
    assert.deepEqual(await blobs.list(), []);
  }
});

Deno.test("retrieveTesseraTo caps shards in flight by bytes (at least two)", async () => {
  const cases = [[5, 5], [1, 2]].flatMap(([budgetShards, cap]) =>
    [true, false].map((manifests) => ({ budgetShards, cap, manifests }))
  );
  for (const { budgetShards, cap, manifests } of cases) {
    await using e = await env(80);
    const data = testBytes(48_000, 15);
    const { tesseraId: id, plan } = await e.owner.service.putTesseraFile(
      await writeInput(e, data),
    );
    // Holders that keep no manifest (older nodes) leave the size unknown.
    if (!manifests) {
      for (const n of e.net.nodes.values()) await n.manifests.delete(id);
    }
    const blobs = new FsBlobStore({ root: join(e.dir, "stranger-blobs") });
    const stranger = e.net.add("stranger", "10.98.0.1", {
      blobs,
      transferBudgetBytes: budgetShards * plan.shardSize,
    });
    e.net.traffic.maxFetchInFlight = 0;
    const sink = memorySink();
    await stranger.service.retrieveTesseraTo(id, sink, { hedge: 40 });
    assert.deepEqual(sink.bytes(), data);
    // Never the 48 + 40 asked for. A holder's manifest gives the shard
    // size before the first fetch; without one, four go out to learn it.
    assert.equal(
      e.net.traffic.maxFetchInFlight,
      manifests ? cap : Math.max(cap, 4),
    );
  }
});

Deno.test("replicateTessera of a file blob re-places it from a streaming pass", async () => {
  await using e = await env(30);
  const data = testBytes(40_000, 16);
  const id = blake3Hex(data);
  await e.blobs.put(id, data);
  const report = await e.owner.service.replicateTessera(id);
  assert.equal(report.placed.length, 72);
  assert.deepEqual(report.unplaced, []);
  assert.equal(await assertHoldersExact(e.net, id, data), 72);
  assert.equal(await stagingLeft(e), 0);
  await assert.rejects(
    e.owner.service.replicateTessera("ab".repeat(32)),
    (err) => isTesserasError(err, "NOT_FOUND"),
  );
});

Deno.test("memory blobs shared without copies: repeated checks stay healthy, and a replaced corrupt blob is still caught by the scrub", async () => {
  const net = new MiniNetwork();
  const blobs = new MemoryBlobStore({ copy: false });
  const owner = net.add("owner", "10.99.0.1", { blobs });
  net.addMany(30);
  const data = testBytes(40_000, 9);
  const { tesseraId: id } = await owner.service.putTessera(data);
  for (let round = 0; round < 2; round++) {
    const report = await owner.service.inspectTessera(id);
    assert.equal(report.verification, "chunk");
    assert.deepEqual(report.health, { kind: "healthy" });
    assert.equal(report.liveIndices.length, 72);
  }
  // A corrupt version of the blob under the same id (new bytes, so the
  // memory of the old bytes' hash does not apply).
  const bad = data.slice();
  bad[5] ^= 1;
  await blobs.put(id, bad);
  assert.deepEqual((await owner.service.scrubHeld()).corruptBlobs, [id]);
});

Deno.test("putTesseraFile's onEncoded: the id before anything is kept, tracked or pushed; a rejection fails the put and leaves nothing", async () => {
  await using e = await env(30);
  const data = testBytes(40_000, 11);
  const path = await writeInput(e, data);
  const seen: string[] = [];
  const report = await e.owner.service.putTesseraFile(path, {
    onEncoded: async (id) => {
      seen.push(id);
      assert.equal(await e.blobs.has(id), false);
      assert.equal(await e.owner.holders.get(id), null);
      assert.equal(await assertHoldersExact(e.net, id, data), 0);
    },
  });
  assert.deepEqual(seen, [blake3Hex(data)]);
  assert.equal(report.tesseraId, seen[0]);

  const other = testBytes(40_000, 12);
  const refused = await writeInput(e, other);
  await assert.rejects(
    e.owner.service.putTesseraFile(refused, {
      onEncoded: () => Promise.reject(new Error("no key recorded")),
    }),
    /no key recorded/,
  );
  const id = blake3Hex(other);
  assert.equal(await e.blobs.has(id), false);
  assert.equal(await e.owner.holders.get(id), null);
  assert.equal(await assertHoldersExact(e.net, id, other), 0);
  assert.equal(await stagingLeft(e), 0);
});

Deno.test("putTesseraFile: data shard checksums from the import, or hashed by the encode when the import's slices are not the plan's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-stream-slices-" });
  try {
    const data = testBytes(100_001, 17);
    const expected = encodeTessera(data, { thresholds: TEST_THRESHOLDS });
    const path = join(dir, "input.bin");
    await Deno.writeFile(path, data);
    // 100,001 bytes cut 48 ways are shards of 2,084 bytes; 105,001 would
    // be 2,188: slices of that plan are not this one's shards.
    for (const lie of [0, 5000]) {
      // A store that plans slices for a size `lie` bytes off, as when the
      // source changes between its stat and its copy.
      const blobs = new MemoryBlobStore();
      const open = blobs.openStaging.bind(blobs);
      const asked: number[] = [];
      blobs.openStaging = async (o) => {
        const staging = await open(o);
        const importFile = staging.importFile.bind(staging);
        staging.importFile = (source, options = {}) =>
          importFile(source, {
            ...options,
            slices: (size) => {
              asked.push(size);
              return options.slices?.(size + lie);
            },
          });
        return staging;
      };
      const net = new MiniNetwork();
      const owner = net.add("owner", "10.99.0.1", { blobs });
      net.addMany(30);
      const report = await owner.service.putTesseraFile(path);
      assert.deepEqual(asked, [data.length]);
      assert.equal(report.tesseraId, expected.id, `lie ${lie}`);
      const tracked = await owner.holders.get(expected.id);
      assert.deepEqual(
        tracked?.checksums,
        expected.fragments.map((f) => f.id.checksum),
        `checksums with a lie of ${lie}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
