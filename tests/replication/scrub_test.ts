/**
 * The holder's scrub over real SQLite and shard files: a flipped byte
 * anywhere and a shard cut to half are found by a full read, removed with
 * their credit and reported as `CorruptLocal`; a damaged outboard beside a
 * sound shard is rewritten, not counted against the shard; our own
 * tesseras are left to their health check; the loop runs on its interval
 * in virtual time. Only the DHT (port) is a stand-in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { PeerInfo } from "../../lib/core/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  seededRng,
} from "../../lib/memory/mod.ts";
import { ReplicationService, ScrubLoop } from "../../lib/replication/mod.ts";
import {
  type Database,
  FsFragmentStore,
  openDatabase,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";
import {
  envelopeFor,
  offlineDht,
  TEST_THRESHOLDS,
  testBytes,
} from "./test_network.ts";

const SELF = "holder";
const OWNER: PeerInfo = { id: "owner", addresses: [], ip: "10.0.1.1" };

interface Holder {
  fragments: FsFragmentStore;
  ledger: SqliteReciprocityLedger;
  service: ReplicationService;
  clock: ManualClock;
  holders: MemoryHolderRegistry;
}

async function withHolder(fn: (h: Holder) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_scrub_" });
  let db: Database | null = null;
  try {
    db = await openDatabase(join(dir, "db", "tesseras.db"), {
      synchronous: "NORMAL",
    });
    const fragments = new FsFragmentStore(db, { root: join(dir, "frags") });
    const ledger = new SqliteReciprocityLedger(db);
    const clock = new ManualClock(1_700_000_000_000);
    const holders = new MemoryHolderRegistry();
    const service = new ReplicationService({
      dht: offlineDht(SELF),
      fragments,
      ledger,
      blobs: new MemoryBlobStore(),
      holders,
      identity: new MemoryKeyring("scrub").identity(SELF),
      clock,
      rng: seededRng(1),
      thresholds: TEST_THRESHOLDS,
      config: { scrubIntervalMs: 60_000 },
    });
    await fn({ fragments, ledger, service, clock, holders });
  } finally {
    db?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Three held shards of three tesseras, each several 8 KiB groups long. */
async function holdThree(h: Holder) {
  const envelopes = [1, 2, 3].map((seed) =>
    envelopeFor(testBytes(1_600_000, seed), seed)
  );
  for (const e of envelopes) {
    assert.ok(e.data.length > 3 * 8192, `shard of ${e.data.length} B`);
    assert.equal((await h.service.receiveFragment(e, OWNER)).accepted, true);
  }
  return envelopes;
}

const credit = async (h: Holder) =>
  (await h.ledger.get(OWNER.id))?.bytesStoredForThem ?? 0;

Deno.test("scrub: a flipped byte and a shard cut to half are removed as CorruptLocal, with their credit; a sound shard stays", async () => {
  await withHolder(async (h) => {
    const [flipped, cut, sound] = await holdThree(h);
    const clean = await h.service.scrubHeld();
    assert.equal(clean.checked, 3);
    assert.deepEqual(clean.corrupt, []);

    // One byte deep inside the shard, far from where a sample would
    // likely land, and a truncation to half.
    const fPath = h.fragments.shardPath(flipped.fragment.tesseraId, 1);
    const bytes = await Deno.readFile(fPath);
    bytes[bytes.length - 5] ^= 0x01;
    await Deno.writeFile(fPath, bytes);
    const cPath = h.fragments.shardPath(cut.fragment.tesseraId, 2);
    await Deno.truncate(cPath, Math.floor(cut.data.length / 2));

    const before = await credit(h);
    const report = await h.service.scrubHeld();
    assert.equal(report.checked, 3);
    assert.deepEqual(
      report.corrupt.map((c) => [c.index, c.tesseraId, c.checksum]).sort(),
      [
        [1, flipped.fragment.tesseraId, flipped.fragment.checksum],
        [2, cut.fragment.tesseraId, cut.fragment.checksum],
      ],
    );
    assert.deepEqual(await h.fragments.list(flipped.fragment.tesseraId), []);
    assert.deepEqual(await h.fragments.list(cut.fragment.tesseraId), []);
    assert.equal(await h.fragments.verify(sound.fragment.tesseraId, 3), true);
    assert.equal(
      await credit(h),
      before - flipped.data.length - cut.data.length,
    );
    await assert.rejects(Deno.stat(fPath), Deno.errors.NotFound);
    // The owner places it again: stored and credited once more.
    assert.equal(
      (await h.service.receiveFragment(flipped, OWNER)).accepted,
      true,
    );
    assert.deepEqual((await h.service.scrubHeld()).corrupt, []);
  });
});

Deno.test("scrub: a damaged outboard beside a sound shard is rewritten, the shard kept", async () => {
  await withHolder(async (h) => {
    const [e] = await holdThree(h);
    const shard = h.fragments.shardPath(e.fragment.tesseraId, 1);
    const obao = shard.replace(/\.shard$/, ".obao");
    const good = await Deno.readFile(obao);
    assert.ok(good.length >= 64);
    const bad = good.slice();
    bad[3] ^= 0xff;
    await Deno.writeFile(obao, bad);
    const report = await h.service.scrubHeld();
    assert.deepEqual(report.corrupt, []);
    assert.deepEqual(await Deno.readFile(obao), good);
    // Removed entirely: rebuilt too.
    await Deno.remove(obao);
    assert.deepEqual((await h.service.scrubHeld()).corrupt, []);
    assert.deepEqual(await Deno.readFile(obao), good);
  });
});

Deno.test("scrub: shards of our own tracked tesseras are left to the health check", async () => {
  await withHolder(async (h) => {
    const [e] = await holdThree(h);
    await h.holders.track(e.fragment.tesseraId, {
      plan: e.plan,
      checksums: [],
    });
    const path = h.fragments.shardPath(e.fragment.tesseraId, 1);
    await Deno.truncate(path, 10);
    const report = await h.service.scrubHeld();
    assert.equal(report.checked, 2);
    assert.deepEqual(report.corrupt, []);
    assert.equal((await h.fragments.list(e.fragment.tesseraId)).length, 1);
  });
});

Deno.test("scrub loop: one pass per interval on the service's clock, stopped cleanly", async () => {
  await withHolder(async (h) => {
    const [e] = await holdThree(h);
    const reports: number[] = [];
    const loop = new ScrubLoop((o) => h.service.scrubHeld(o), {
      intervalMs: h.service.config.scrubIntervalMs,
      clock: h.clock,
      onScrub: (r) => reports.push(r.corrupt.length),
    });
    loop.start();
    await Deno.truncate(h.fragments.shardPath(e.fragment.tesseraId, 1), 100);
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && reports.length < n; i++) {
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await h.clock.advance(59_999);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reports.length, 0);
    await h.clock.advance(1);
    await waitFor(1);
    assert.deepEqual(reports, [1]);
    await h.clock.advance(60_000);
    await waitFor(2);
    assert.deepEqual(reports, [1, 0]);
    await loop.stop();
    assert.equal(loop.passes, 2);
  });
});
