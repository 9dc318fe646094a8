/**
 * The holder's ledger matches what it holds, over real SQLite and shard
 * files: a received shard and its credit are one transaction (a failure
 * at the credit keeps nothing), a re-push never credits twice but heals a
 * row the old two-write code left uncredited, the repair sweep releases
 * the credit of the corrupt shards it deletes, and a sweep of chosen ids
 * does not re-hash every held shard. Only the DHT (port) is a stand-in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type {
  FragmentEnvelope,
  PeerInfo,
  ReciprocityLedger,
} from "../../lib/core/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryReciprocityLedger,
  seededRng,
} from "../../lib/memory/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";
import {
  type Database,
  FsFragmentStore,
  MIGRATIONS,
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

/** A ledger port whose credit call fails: the service must not need it. */
function noCreditCalls(ledger: ReciprocityLedger): ReciprocityLedger {
  return new Proxy(ledger, {
    get(target, prop) {
      if (prop === "recordStoredForThem") {
        return () => Promise.reject(new Error("credit through the port"));
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

function envelope(size: number, seed: number, index = 0): FragmentEnvelope {
  return envelopeFor(testBytes(size, seed), index);
}

interface Holder {
  db: Database;
  fragments: FsFragmentStore;
  ledger: SqliteReciprocityLedger;
  service: ReplicationService;
  credited(peer?: string): Promise<number>;
}

async function withHolder(
  fn: (h: Holder, dir: string) => Promise<void>,
  options: { before?: (dir: string) => Promise<void> } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_held_credit_" });
  try {
    await options.before?.(dir);
    const db = await openDatabase(join(dir, "db", "tesseras.db"), {
      synchronous: "NORMAL",
    });
    try {
      const fragments = new FsFragmentStore(db, {
        root: join(dir, "fragments"),
      });
      const ledger = new SqliteReciprocityLedger(db);
      const service = new ReplicationService({
        dht: offlineDht(SELF),
        fragments,
        ledger: noCreditCalls(ledger),
        blobs: new MemoryBlobStore(),
        holders: new MemoryHolderRegistry(),
        identity: new MemoryKeyring("held").identity(SELF),
        clock: new ManualClock(1_700_000_000_000),
        rng: seededRng(1),
        thresholds: TEST_THRESHOLDS,
      });
      const credited = async (peer = OWNER.id) =>
        (await ledger.get(peer))?.bytesStoredForThem ?? 0;
      await fn({ db, fragments, ledger, service, credited }, dir);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("receive: the shard and its credit are one transaction; a re-push is not credited twice", async () => {
  await withHolder(async (h) => {
    const e = envelope(4000, 1, 2);
    assert.deepEqual(await h.service.receiveFragment(e, OWNER), {
      accepted: true,
      heldIndices: [2],
    });
    // The owner never got our ack and pushes again, twice at once.
    const again = await Promise.all([
      h.service.receiveFragment(e, OWNER),
      h.service.receiveFragment(e, OWNER),
    ]);
    assert.deepEqual(again.map((a) => a.accepted), [true, true]);
    assert.equal(await h.credited(), e.data.length);
    assert.equal(await h.fragments.totalBytes(), e.data.length);
    assert.equal(
      h.fragments.get(e.fragment.tesseraId, 2)?.sender,
      OWNER.id,
    );
  });
});

Deno.test("receive: a full disk at the credit refuses INSUFFICIENT_SPACE and keeps no shard; the next push is credited once", async () => {
  await withHolder(async (h, dir) => {
    const first = envelope(300, 2);
    await h.service.receiveFragment(first, OWNER);
    h.db.exec(
      `CREATE TRIGGER full BEFORE UPDATE ON reciprocity_balances
       BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
    );
    const e = envelope(4000, 3, 0);
    const ack = await h.service.receiveFragment(e, OWNER);
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, "INSUFFICIENT_SPACE", ack.reason);
    assert.deepEqual(ack.heldIndices, []);
    assert.deepEqual(await h.fragments.list(e.fragment.tesseraId), []);
    assert.equal(await h.credited(), first.data.length);
    const shardFiles: string[] = [];
    for await (const d of Deno.readDir(join(dir, "fragments"))) {
      if (d.name !== e.fragment.tesseraId) continue;
      for await (const f of Deno.readDir(join(dir, "fragments", d.name))) {
        shardFiles.push(f.name);
      }
    }
    assert.deepEqual(shardFiles, []);
    h.db.exec("DROP TRIGGER full");
    assert.equal((await h.service.receiveFragment(e, OWNER)).accepted, true);
    assert.equal(await h.credited(), first.data.length + e.data.length);
    assert.equal(
      await h.fragments.totalBytes(),
      first.data.length + e.data.length,
    );
  });
});

Deno.test("receive: a row the old code left uncredited (pre-004, crash between the two writes) is credited by the re-push", async () => {
  const e = envelope(4000, 4, 1);
  await withHolder(async (h) => {
    assert.equal(await h.credited(), 0);
    assert.equal(h.fragments.get(e.fragment.tesseraId, 1)?.sender, null);
    const ack = await h.service.receiveFragment(e, OWNER);
    assert.deepEqual(ack, { accepted: true, heldIndices: [1] });
    assert.equal(await h.credited(), e.data.length);
    assert.equal(h.fragments.get(e.fragment.tesseraId, 1)?.sender, OWNER.id);
    assert.deepEqual((await h.fragments.reconcileLedger()).corrections, []);
  }, {
    // The row was committed by a build before 004; the process died
    // before its second write, the credit.
    before: async (dir) => {
      const old = await openDatabase(join(dir, "db", "tesseras.db"), {
        migrations: MIGRATIONS.slice(0, 3),
      });
      const t = join(dir, "fragments", e.fragment.tesseraId);
      await Deno.mkdir(t, { recursive: true });
      await Deno.writeFile(join(t, "001.shard"), e.data);
      old.prepare(
        `INSERT INTO fragments (tessera_id, shard_index, shard_count,
           checksum, size_bytes, stored_at) VALUES (?, 1, ?, ?, ?, 1)`,
      ).run(
        e.fragment.tesseraId,
        e.fragment.shardCount,
        e.fragment.checksum,
        e.data.length,
      );
      old.close();
    },
  });
});

Deno.test("repairSweep releases the credit of a corrupt held shard it deletes; with ids it does not re-hash held shards", async () => {
  await withHolder(async (h) => {
    const bad = envelope(4000, 5, 3);
    const good = envelope(300, 6);
    await h.service.receiveFragment(bad, OWNER);
    await h.service.receiveFragment(good, OWNER);
    const path = h.fragments.shardPath(bad.fragment.tesseraId, 3);
    const bytes = await Deno.readFile(path);
    bytes[7] ^= 0xff;
    await Deno.writeFile(path, bytes);

    // `tesseras repair ID`: only that tessera; held shards untouched.
    const other = "ab".repeat(32);
    const one = await h.service.repairSweep({ ids: [other] });
    assert.deepEqual(one.heldCorrupt, []);
    assert.equal(await h.fragments.verify(bad.fragment.tesseraId, 3), false);
    assert.equal(await h.credited(), bad.data.length + good.data.length);

    // Asked explicitly (else the scrub does it): dropped, with its credit.
    const asked = await h.service.repairSweep({
      ids: [other],
      verifyHeld: true,
    });
    assert.deepEqual(asked.heldCorrupt, [{
      tesseraId: bad.fragment.tesseraId,
      index: 3,
    }]);
    assert.equal(await h.credited(), good.data.length);
    assert.equal(await h.fragments.totalBytes(), good.data.length);
    const full = await h.service.repairSweep();
    assert.deepEqual(full.heldCorrupt, []);
    assert.equal(await h.credited(), good.data.length);
    // The owner places it again: stored and credited once more.
    assert.equal((await h.service.receiveFragment(bad, OWNER)).accepted, true);
    assert.equal(await h.credited(), bad.data.length + good.data.length);
  });
});

Deno.test("a store without storeForPeer (unlinked memory store): the service credits through the ledger port", async () => {
  const ledger = new MemoryReciprocityLedger();
  const fragments = new MemoryFragmentStore();
  assert.equal(fragments.storeForPeer, undefined);
  const service = new ReplicationService({
    dht: offlineDht(SELF),
    fragments,
    ledger,
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry(),
    identity: new MemoryKeyring("held").identity(SELF),
    clock: new ManualClock(1),
    rng: seededRng(2),
    thresholds: TEST_THRESHOLDS,
  });
  const e = envelope(4000, 7);
  await service.receiveFragment(e, OWNER);
  await service.receiveFragment(e, OWNER);
  assert.equal(
    (await ledger.get(OWNER.id))?.bytesStoredForThem,
    e.data.length,
  );
});
