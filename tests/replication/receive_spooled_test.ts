/**
 * A shard that the transport spooled to a temp file is stored from that
 * file over real SQLite and shard files: renamed into place with its
 * outboard, its row and credit in one transaction, the shard never read
 * into memory; refused, mismatched or already held, the temp file is
 * removed and nothing else changes. Only the DHT (port) is a stand-in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { outboardOf } from "../../lib/codec/mod.ts";
import {
  type FragmentEnvelope,
  type PeerInfo,
  toHex,
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
  service: ReplicationService;
  root: string;
  credited(): Promise<number>;
}

async function withHolder(
  tolerance: number,
  fn: (h: Holder) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_spooled_" });
  const db = await openDatabase(join(dir, "db", "tesseras.db"));
  try {
    const root = join(dir, "fragments");
    const fragments = new FsFragmentStore(db, { root });
    const ledger = new SqliteReciprocityLedger(db);
    const service = new ReplicationService({
      dht: offlineDht(SELF),
      fragments,
      ledger,
      blobs: new MemoryBlobStore(),
      holders: new MemoryHolderRegistry(),
      identity: new MemoryKeyring("spooled").identity(SELF),
      clock: new ManualClock(1_700_000_000_000),
      rng: seededRng(5),
      thresholds: TEST_THRESHOLDS,
      config: { deficitToleranceBytes: tolerance },
    });
    const credited = async () =>
      (await ledger.get(OWNER.id))?.bytesStoredForThem ?? 0;
    await fn({ fragments, service, root, credited });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the transport does: the bytes to a spool file, hashed. */
async function spool(
  h: Holder,
  envelope: FragmentEnvelope,
  bytes = envelope.data,
): Promise<FragmentEnvelope> {
  const path = await h.service.spoolTarget();
  assert.ok(path !== null);
  await Deno.writeFile(path, bytes);
  const built = outboardOf(bytes);
  return {
    ...envelope,
    data: new Uint8Array(0),
    spooled: {
      path,
      size: bytes.length,
      checksum: toHex(built.root),
      outboard: built.outboard,
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

const data = testBytes(2_000_000, 21);

Deno.test("a spooled shard is stored from its file with its outboard and credited once; a spooled re-push only removes its file", async () => {
  await withHolder(16 * 2 ** 20, async (h) => {
    const e = envelopeFor(data, 2);
    const spooled = await spool(h, e);
    const ack = await h.service.receiveFragment(spooled, OWNER);
    assert.deepEqual(ack, { accepted: true, heldIndices: [2] });
    assert.equal(await exists(spooled.spooled!.path), false);
    const id = e.fragment.tesseraId;
    assert.deepEqual(await h.fragments.read(id, 2), e.data);
    assert.deepEqual(
      await Deno.readFile(join(h.root, id, "002.obao")),
      outboardOf(e.data).outboard,
    );
    assert.equal(await h.credited(), e.data.length);
    assert.equal(await h.fragments.verify(id, 2), true);
    const again = await spool(h, e);
    assert.equal(
      (await h.service.receiveFragment(again, OWNER)).accepted,
      true,
    );
    assert.equal(await exists(again.spooled!.path), false);
    assert.equal(await h.credited(), e.data.length);
  });
});

Deno.test("a refused or mismatched spooled shard leaves no file, no row, no credit", async () => {
  await withHolder(1_000, async (h) => {
    const e = envelopeFor(data, 3);
    const refused = await spool(h, e);
    const ack = await h.service.receiveFragment(refused, OWNER);
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.equal(await exists(refused.spooled!.path), false);
    // Bytes that are not the shard the envelope names.
    const wrong = await spool(h, e, testBytes(e.data.length, 99));
    const bad = await h.service.receiveFragment(wrong, OWNER);
    assert.equal(bad.errorCode, "CHECKSUM_MISMATCH");
    assert.equal(await exists(wrong.spooled!.path), false);
    assert.equal(await h.fragments.totalBytes(), 0);
    assert.equal(await h.credited(), 0);
    // Nothing left under the root but the (empty) staging area.
    const left = [];
    for await (const entry of Deno.readDir(h.root)) left.push(entry.name);
    assert.deepEqual(left, []);
  });
});

Deno.test("a store that cannot take a spooled shard offers no spool file", async () => {
  const service = new ReplicationService({
    dht: offlineDht(SELF),
    fragments: new MemoryFragmentStore(),
    ledger: new MemoryReciprocityLedger(),
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry(),
    identity: new MemoryKeyring("spooled").identity(SELF),
    thresholds: TEST_THRESHOLDS,
  });
  assert.equal(await service.spoolTarget(), null);
});
