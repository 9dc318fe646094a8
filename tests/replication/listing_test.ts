/**
 * A stranger's discovery asks for a signed listing (`AttestRequest.listing`):
 * the holder answers from its store's rows, reading and hashing nothing,
 * and a listing is never taken for a proof.
 */
import assert from "node:assert/strict";
import {
  type Attestation,
  attestationSigningBytes,
  type AttestRequest,
  isTesserasError,
} from "../../lib/core/mod.ts";
import { verifyAttestation } from "../../lib/replication/mod.ts";
import { MiniNetwork, testBytes, type TestNode } from "./test_network.ts";

/** A Medium tessera placed by "owner" on 24 peers, and a stranger. */
async function placed() {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(24);
  const data = testBytes(4000, 31);
  const report = await owner.service.putTessera(data);
  assert.equal(report.plan.tier, "medium");
  const stranger = net.add("stranger", "10.98.0.1");
  const id = report.tesseraId;
  const checksums = (await owner.holders.get(id))!.checksums;
  return { net, owner, stranger, report, data, id, checksums };
}

/**
 * Counts the shard reads of a node's fragment store from now on (`read`,
 * and `keyedHash` if it has one): the port the holder's answer uses.
 */
function countShardReads(node: TestNode): () => number {
  let n = 0;
  const store = node.fragments as unknown as Record<
    string,
    ((...a: unknown[]) => unknown) | undefined
  >;
  for (const name of ["read", "keyedHash"]) {
    const real = store[name]?.bind(node.fragments);
    if (!real) continue;
    store[name] = (...args: unknown[]) => {
      n++;
      return real(...args);
    };
  }
  return () => n;
}

Deno.test("a listing carries the stored indices and checksums, signed, and reads no shard", async () => {
  const { net, stranger, report, id } = await placed();
  const h = report.placed[3];
  const holder = net.node(h.peerId);
  const reads = countShardReads(holder);
  const nonce = new Uint8Array(32).fill(7);
  const listing = await holder.service.onAttest(
    { tesseraId: id, nonce, indices: [], listing: true },
    stranger.info,
  );
  assert.equal(reads(), 0, "a listing reads no shard");
  const stored = await holder.fragments.list(id);
  assert.ok(stored.length > 0);
  assert.deepEqual(
    listing.entries,
    stored.map((f) => ({ index: f.index, checksum: f.checksum, proof: "" })),
  );
  assert.ok(listing.entries.some((e) => e.index === h.index));
  assert.deepEqual(listing.nonce, nonce);
  assert.equal(listing.holder, h.peerId);
  assert.ok(listing.manifest, "the owner's manifest rides along");
  const verify = net.keyring.identity("stranger").verify;
  assert.equal(
    await verify(h.peerId, {
      data: attestationSigningBytes(listing),
      signature: listing.signature,
    }),
    true,
  );
  // The contrast: a proof request of the same shards does read them.
  const proof = await holder.service.onAttest(
    { tesseraId: id, nonce, indices: [] },
    stranger.info,
  );
  assert.equal(reads(), stored.length);
  assert.ok(proof.entries.every((e) => /^[0-9a-f]{64}$/.test(e.proof)));
  // A listing of some indices lists only those.
  const some = await holder.service.onAttest(
    { tesseraId: id, nonce, indices: [h.index], listing: true },
    stranger.info,
  );
  assert.deepEqual(some.entries.map((e) => e.index), [h.index]);
});

Deno.test("a listing is not accepted where a proof was asked", async () => {
  const { net, owner, report, id, checksums } = await placed();
  const h = report.placed[2];
  const nonce = new Uint8Array(32).fill(3);
  const listing = await net.node(h.peerId).service.onAttest(
    { tesseraId: id, nonce, listing: true },
    owner.info,
  );
  const base = {
    tesseraId: id,
    peer: h.peerId,
    nonce,
    checksums,
    now: net.clock.now(),
    maxSkewMs: 300_000,
    verify: net.keyring.identity("owner").verify,
  };
  // Authentic (signed, our nonce), but no shard proven: by index, every
  // shard ("indices: []" proves every shard held), or with no bytes to
  // check a proof against (checksums only).
  for (const indices of [[h.index], []]) {
    const check = await verifyAttestation(listing, { ...base, indices });
    assert.equal(check.authentic, true);
    assert.deepEqual(check.proven, [], `indices ${indices}`);
    assert.match(check.reason!, /a listing proves nothing/);
  }
  // Asked as a listing, the same answer lists the shard.
  const asListing = await verifyAttestation(listing, {
    ...base,
    indices: [],
    listing: true,
  });
  assert.equal(asListing.verification, "checksum");
  assert.deepEqual(asListing.proven, [h.index]);
  // And a holder that answers every challenge with a listing fails the
  // owner's audit (chunk proofs) and a keyed-proof challenge alike.
  net.node(h.peerId).attestBehaviour = (req: AttestRequest) =>
    net.node(h.peerId).service.onAttest({ ...req, listing: true }, owner.info);
  const audit = await owner.service.attestHolder(id, h.peerId);
  assert.deepEqual([audit.proven, audit.failed], [[], [h.index]]);
});

Deno.test("a listing answered with proofs (a holder before the flag) still lists", async () => {
  const { net, owner, report, id, checksums } = await placed();
  const h = report.placed[1];
  const nonce = new Uint8Array(32).fill(5);
  const proofs = await net.node(h.peerId).service.onAttest(
    { tesseraId: id, nonce },
    owner.info,
  );
  const check = await verifyAttestation(proofs, {
    tesseraId: id,
    peer: h.peerId,
    indices: [],
    listing: true,
    nonce,
    checksums,
    now: net.clock.now(),
    maxSkewMs: 300_000,
    verify: net.keyring.identity("owner").verify,
  });
  assert.deepEqual(check.proven, [h.index]);
});

Deno.test("a forged or replayed listing is not authentic", async () => {
  const { net, owner, report, id } = await placed();
  const h = report.placed[4];
  const nonce = new Uint8Array(32).fill(8);
  const real = await net.node(h.peerId).service.onAttest(
    { tesseraId: id, nonce, listing: true },
    owner.info,
  );
  const expect = {
    tesseraId: id,
    peer: h.peerId,
    indices: [],
    listing: true,
    nonce,
    now: net.clock.now(),
    maxSkewMs: 300_000,
    verify: net.keyring.identity("owner").verify,
  };
  const cases: [string, Attestation, Partial<typeof expect>, RegExp][] = [
    [
      "checksum changed after signing",
      {
        ...real,
        entries: [{ ...real.entries[0], checksum: "ab".repeat(32) }],
      },
      {},
      /signature/,
    ],
    [
      "an index added after signing",
      {
        ...real,
        entries: [...real.entries, { ...real.entries[0], index: 23 }],
      },
      {},
      /signature/,
    ],
    ["another nonce", real, { nonce: new Uint8Array(32) }, /nonce/],
  ];
  for (const [name, answer, change, reason] of cases) {
    const check = await verifyAttestation(answer, { ...expect, ...change });
    assert.equal(check.authentic, false, name);
    assert.deepEqual(check.proven, [], name);
    assert.match(check.reason!, reason, name);
  }
});

Deno.test("a stranger's get locates by listings: no holder reads a shard until it is fetched", async () => {
  const { net, stranger, report, data, id } = await placed();
  const asked: AttestRequest[] = [];
  const reads = new Map<string, () => number>();
  for (const p of report.placed) {
    const node = net.node(p.peerId);
    if (reads.has(node.id)) continue;
    reads.set(node.id, countShardReads(node));
    node.attestBehaviour = (req) => {
      asked.push(req);
      return undefined;
    };
  }
  const fetchesBefore = net.traffic.fetch;
  assert.deepEqual(await stranger.service.retrieveTessera(id), data);
  const fetches = net.traffic.fetch - fetchesBefore;
  assert.ok(asked.length > 0, "the stranger asked the holders");
  assert.ok(asked.every((r) => r.listing === true), "only listings");
  const total = [...reads.values()].reduce((sum, n) => sum + n(), 0);
  assert.ok(fetches >= report.plan.dataShards);
  // The holders read only what the stranger fetched (some fetches are
  // hedges cancelled before their holder reads).
  assert.ok(total <= fetches, `${total} reads, ${fetches} fetches`);
});

Deno.test("prove refuses a listing: chunk proofs prove", async () => {
  const { net, owner, report, id } = await placed();
  const holder = net.node(report.placed[0].peerId);
  await assert.rejects(
    holder.service.onProve(
      { tesseraId: id, nonce: new Uint8Array(32), listing: true },
      owner.info,
    ),
    (e) => isTesserasError(e, "INVALID_INPUT") && /listing/.test(e.message),
  );
});
