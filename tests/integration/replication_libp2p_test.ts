/**
 * The replication service over real parts: SQLite files and shard files in
 * temp directories, and real libp2p nodes on distinct loopback /24s, all in
 * one process.
 */
import { PROBE_BYTES } from "../../lib/replication/probe.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  attestationSigningBytes,
  cryptoRng,
  type FragmentEnvelope,
  type ReplicationConfig,
  systemClock,
  validateManifest,
} from "../../lib/core/mod.ts";
import { encodeTessera, judgeProofs } from "../../lib/codec/mod.ts";
import {
  createTesserasNode,
  Libp2pDhtPort,
  loadOrCreateIdentity,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import {
  ReplicationService,
  verifyAttestation,
} from "../../lib/replication/mod.ts";
import {
  type Database,
  FsBlobStore,
  FsFragmentStore,
  openDatabase,
  SqliteHolderRegistry,
  SqliteManifestStore,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";

interface TestNode {
  node: TesserasNode;
  dht: Libp2pDhtPort;
  service: ReplicationService;
  fragments: FsFragmentStore;
  blobs: FsBlobStore;
  ledger: SqliteReciprocityLedger;
  db: Database;
}

async function makeNode(
  root: string,
  n: number,
  config: Partial<ReplicationConfig> = {},
): Promise<TestNode> {
  const dir = join(root, `n${n}`);
  const db = await openDatabase(join(dir, "db", "tesseras.db"));
  const { privateKey } = await loadOrCreateIdentity(join(dir, "identity.key"));
  const node = await createTesserasNode({
    privateKey,
    listen: [`/ip4/127.0.${100 + n}.1/tcp/0`],
    peerInfoMapper: "passthrough",
  });
  const dht = new Libp2pDhtPort(node);
  const fragments = new FsFragmentStore(db, { root: join(dir, "fragments") });
  const ledger = new SqliteReciprocityLedger(db);
  const blobs = new FsBlobStore({ root: join(dir, "blobs") });
  const service = new ReplicationService({
    dht,
    fragments,
    ledger,
    blobs,
    holders: new SqliteHolderRegistry(db),
    manifests: new SqliteManifestStore(db),
    identity: node.identity,
    clock: systemClock,
    rng: cryptoRng,
    config,
  });
  node.setInboundHandlers(service);
  await node.start();
  return { node, dht, service, fragments, blobs, ledger, db };
}

async function withNetwork(
  count: number,
  fn: (nodes: TestNode[]) => Promise<void>,
  configOf: (n: number) => Partial<ReplicationConfig> = () => ({}),
) {
  const root = await Deno.makeTempDir({ prefix: "tesseras-int-" });
  const nodes: TestNode[] = [];
  try {
    for (let n = 0; n < count; n++) {
      nodes.push(await makeNode(root, n, configOf(n)));
    }
    const hub = nodes[0].node.multiaddrs()[0];
    await Promise.all(nodes.slice(1).map((t) => t.node.connect(hub)));
    // Everyone meets everyone, so closest-peer answers are complete.
    for (const a of nodes) {
      await Promise.all(
        nodes.filter((b) => b !== a).map((b) =>
          a.node.connect(b.node.multiaddrs()[0])
        ),
      );
    }
    await fn(nodes);
  } finally {
    for (const t of nodes) await t.node.stop();
    for (const t of nodes) t.db.close();
    await Deno.remove(root, { recursive: true });
  }
}

function randomBytes(n: number): Uint8Array {
  return cryptoRng.bytes(n);
}

Deno.test("integration: medium and small tesseras placed on real nodes, retrieved by a stranger", async () => {
  await withNetwork(9, async (nodes) => {
    const [owner, stranger] = [nodes[1], nodes[8]];
    const medium = randomBytes(5 * 1024 * 1024 + 17);
    const m = await owner.service.putTessera(medium);
    assert.equal(m.plan.tier, "medium");
    assert.equal(m.unplaced.length, 0);
    assert.equal(m.placed.length, 24);
    assert.ok(m.peers >= 7);
    assert.ok(m.tolerance >= 2);
    // Shards really are files on the holders' disks, with rows.
    let onDisk = 0;
    for (const t of nodes) {
      onDisk += (await t.fragments.list(m.tesseraId)).length;
    }
    assert.equal(onDisk, 24);

    const small = randomBytes(100_000);
    const s = await owner.service.putTessera(small);
    assert.equal(s.plan.tier, "small");
    assert.equal(s.placed.length, 7);
    assert.equal(new Set(s.placed.map((p) => p.peerId)).size, 7);

    assert.deepEqual(
      await stranger.service.retrieveTessera(m.tesseraId),
      medium,
    );
    assert.deepEqual(
      await stranger.service.retrieveTessera(s.tesseraId),
      small,
    );
    // A holder's answer carries the owner's signed manifest over the wire
    // (attest fields 7 and 8): the plan a stranger reads.
    // (Another node's: the stranger may hold shards of it too.)
    const holder = m.placed.find((p) => p.peerId !== stranger.node.peerId)!;
    const answer = await stranger.dht.requestAttestation(holder.peerId, {
      tesseraId: m.tesseraId,
      nonce: randomBytes(32),
      indices: [],
    });
    assert.ok(answer.manifest, "the holder sent its kept manifest");
    const manifest = await validateManifest(answer.manifest, {
      identity: stranger.node.identity,
      tesseraId: m.tesseraId,
      owner: owner.node.peerId,
    });
    assert.deepEqual(manifest.plan, m.plan);
    assert.equal(
      (await owner.service.checkTesseraHealth(m.tesseraId)).kind,
      "healthy",
    );
  });
});

Deno.test("integration: a tampered fragment is refused with CHECKSUM_MISMATCH and not stored", async () => {
  await withNetwork(2, async ([a, b]) => {
    const { id, plan, fragments } = encodeTessera(randomBytes(4096));
    const f = fragments[0];
    const tampered = f.data.slice();
    tampered[7] ^= 1;
    const envelope: FragmentEnvelope = {
      fragment: f.id,
      plan,
      originalSize: plan.size,
      fragmentSize: tampered.length,
      data: tampered,
    };
    const ack = await a.dht.replicate(b.node.peerId, envelope);
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, "CHECKSUM_MISMATCH");
    assert.deepEqual(await b.fragments.list(id), []);
    assert.equal(await b.ledger.balance(a.node.peerId), 0);

    const honest = await a.dht.replicate(b.node.peerId, {
      ...envelope,
      data: f.data,
    });
    assert.equal(honest.accepted, true);
    assert.deepEqual(honest.heldIndices, [0]);
    // b probed a before taking its shard on credit: a keeps b's probe.
    assert.equal(await b.ledger.balance(a.node.peerId), -4096 + PROBE_BYTES);
  });
});

Deno.test("integration: a sender beyond the deficit tolerance is refused", async () => {
  await withNetwork(2, async ([a, b]) => {
    const envelopeOf = (bytes: number): FragmentEnvelope => {
      const { plan, fragments } = encodeTessera(randomBytes(bytes));
      return {
        fragment: fragments[0].id,
        plan,
        originalSize: plan.size,
        fragmentSize: fragments[0].data.length,
        data: fragments[0].data,
      };
    };
    const first = await a.dht.replicate(b.node.peerId, envelopeOf(600_000));
    assert.equal(first.accepted, true, first.reason);
    const second = await a.dht.replicate(b.node.peerId, envelopeOf(600_000));
    assert.equal(second.accepted, false);
    assert.equal(second.errorCode, "DEFICIT_EXCEEDED");
    assert.equal(
      await b.ledger.balance(a.node.peerId),
      -600_000 + PROBE_BYTES,
    );
  }, () => ({ deficitToleranceBytes: 1_000_000 }));
});

Deno.test("integration: an attestation replayed against a new nonce fails", async () => {
  await withNetwork(3, async ([owner, holder]) => {
    const data = randomBytes(50_000);
    const { id, fragments } = encodeTessera(data);
    const report = await owner.service.putTessera(data);
    assert.ok(report.placed.some((p) => p.peerId === holder.node.peerId));

    const oldNonce = cryptoRng.bytes(32);
    const answer = await owner.dht.requestAttestation(holder.node.peerId, {
      tesseraId: id,
      nonce: oldNonce,
    });
    const expect = {
      tesseraId: id,
      peer: holder.node.peerId,
      indices: [0],
      checksums: [fragments[0].id.checksum],
      shards: [fragments[0].data],
      now: Date.now(),
      maxSkewMs: 300_000,
      verify: (
        peer: string,
        signed: { data: Uint8Array; signature: Uint8Array },
      ) => owner.node.identity.verify(peer, signed),
    };
    const fresh = await verifyAttestation(answer, {
      ...expect,
      nonce: oldNonce,
    });
    assert.equal(fresh.authentic, true);
    assert.deepEqual(fresh.proven, [0]);

    const replay = await verifyAttestation(answer, {
      ...expect,
      nonce: cryptoRng.bytes(32),
    });
    assert.equal(replay.authentic, false);
    assert.deepEqual(replay.proven, []);

    // The service's own check challenges with a fresh nonce and passes.
    const live = await owner.service.attestHolder(id, holder.node.peerId);
    assert.equal(live.authentic, true);
    assert.deepEqual(live.proven, [0]);
  });
});

/** Counts the shard reads (`read`, `keyedHash`) of a disk store from now on. */
function countShardReads(store: FsFragmentStore): () => number {
  let n = 0;
  const real = {
    read: store.read.bind(store),
    hash: store.keyedHash.bind(store),
  };
  store.read = (...args) => (n++, real.read(...args));
  store.keyedHash = (...args) => (n++, real.hash(...args));
  return () => n;
}

Deno.test("integration: a listing over libp2p gives the stored checksums, signed, and the holder reads no shard for it", async () => {
  await withNetwork(4, async ([owner, a, b, stranger]) => {
    const data = randomBytes(5 * 1024 * 1024 + 11);
    const report = await owner.service.putTessera(data);
    const id = report.tesseraId;
    const holder = [a, b].find((t) =>
      report.placed.some((p) => p.peerId === t.node.peerId)
    )!;
    const stored = await holder.fragments.list(id);
    assert.ok(stored.length > 0);
    const reads = countShardReads(holder.fragments);
    const nonce = cryptoRng.bytes(32);
    // Checked by the port: our nonce, the holder, its signature.
    const listing = await stranger.dht.requestAttestation(holder.node.peerId, {
      tesseraId: id,
      nonce,
      indices: [],
      listing: true,
    });
    assert.equal(reads(), 0, "the holder read no shard for a listing");
    assert.deepEqual(
      listing.entries,
      stored.map((f) => ({ index: f.index, checksum: f.checksum, proof: "" })),
    );
    assert.ok(listing.manifest, "the owner's manifest rides along");
    assert.equal(
      await stranger.node.identity.verify(holder.node.peerId, {
        data: attestationSigningBytes(listing),
        signature: listing.signature,
      }),
      true,
    );
    // The contrast: "indices: []" without the flag still proves every
    // shard, each hashed under the nonce.
    const proofs = await stranger.dht.requestAttestation(holder.node.peerId, {
      tesseraId: id,
      nonce,
      indices: [],
    });
    assert.equal(reads(), stored.length);
    assert.ok(proofs.entries.every((e) => /^[0-9a-f]{64}$/.test(e.proof)));
    // A stranger's get locates through listings and still gets it back.
    const before = reads();
    assert.deepEqual(await stranger.service.retrieveTessera(id), data);
    // The holder reads a shard only to send it: at most once each (a
    // locate that proved would hash every shard first).
    assert.ok(reads() - before <= stored.length, "only what was fetched");
  });
});

Deno.test("integration: chunk proofs over libp2p check from the checksums alone; a holder whose shard was cut to half fails that shard", async () => {
  await withNetwork(3, async ([owner, a, b]) => {
    const { id, plan, fragments } = encodeTessera(
      randomBytes(5 * 1024 * 1024 + 3),
    );
    // Two holders, 12 shards each, stored as the daemon stores them.
    for (const f of fragments) {
      const holder = f.id.index % 2 === 0 ? a : b;
      const ack = await owner.dht.replicate(holder.node.peerId, {
        fragment: f.id,
        plan,
        originalSize: plan.size,
        fragmentSize: f.data.length,
        data: f.data,
      });
      assert.equal(ack.accepted, true);
    }
    // What the requester knows: each shard's checksum and size, no bytes.
    const known = new Map(
      fragments.map((
        f,
      ) => [f.id.index, { checksum: f.id.checksum, size: f.data.length }]),
    );
    const audit = async (holder: TestNode) => {
      const request = { tesseraId: id, nonce: cryptoRng.bytes(32) };
      const answer = await owner.dht.requestProof(holder.node.peerId, request);
      return judgeProofs(answer, { request, peer: holder.node.peerId, known });
    };
    const first = await audit(a);
    assert.equal(first.length, 12);
    assert.ok(first.every((v) => v.ok), JSON.stringify(first));
    // Half of shard 4's file gone: the holder cannot prove it any more.
    const path = a.fragments.shardPath(id, 4);
    await Deno.truncate(path, Math.floor((await Deno.stat(path)).size / 2));
    const second = await audit(a);
    assert.deepEqual(second.map((v) => v.index).sort((x, y) => x - y), [
      0,
      2,
      6,
      8,
      10,
      12,
      14,
      16,
      18,
      20,
      22,
    ]);
    assert.ok(second.every((v) => v.ok));
    assert.ok((await audit(b)).every((v) => v.ok));
    // Each answer is a small part of the shards it proves.
    const metrics = owner.node.metrics.snapshot().prove;
    assert.equal(metrics.outbound, 3);
    assert.equal(metrics.outboundErrors, 0);
  });
});

Deno.test("integration: an owner without its local copy audits with chunk proofs, detects a lost holder and repairs from the survivors", async () => {
  await withNetwork(9, async (nodes) => {
    const owner = nodes[1];
    const data = randomBytes(5 * 1024 * 1024 + 11);
    const put = await owner.service.putTessera(data);
    assert.equal(put.placed.length, 24);
    // The owner lets go of its copy: audits need only the checksums.
    await owner.blobs.delete(put.tesseraId);
    assert.equal(await owner.blobs.size(put.tesseraId), null);
    const healthy = await owner.service.inspectTessera(put.tesseraId);
    assert.equal(healthy.verification, "chunk");
    assert.equal(healthy.health.kind, "healthy");
    // One holder's shard cut to half, another holder gone.
    const holders = nodes.filter((t) => t !== owner);
    const cut = holders.find((t) => t.fragments.count() > 0)!;
    const [victim] = await cut.fragments.list(put.tesseraId);
    const path = cut.fragments.shardPath(put.tesseraId, victim.index);
    await Deno.truncate(path, Math.floor((await Deno.stat(path)).size / 2));
    const gone = holders.find((t) => t !== cut && t.fragments.count() > 0)!;
    const goneIndices = (await gone.fragments.list(put.tesseraId)).map((f) =>
      f.index
    );
    await gone.node.stop();
    const report = await owner.service.repairTessera(put.tesseraId);
    assert.equal(report.before.kind, "needs_replication");
    for (const i of [victim.index, ...goneIndices]) {
      assert.ok(report.lostIndices.includes(i), `shard ${i} not found lost`);
    }
    assert.equal(report.source, "network");
    assert.equal(report.after.kind, "healthy", report.error?.message);
    // The tessera still comes back whole, without the owner's copy.
    const stranger = holders.find((t) => t !== gone)!;
    assert.deepEqual(
      await stranger.service.retrieveTessera(put.tesseraId),
      data,
    );
  });
});
