import assert from "node:assert/strict";
import {
  type Attestation,
  attestationSigningBytes,
  type AttestRequest,
  isTesserasError,
  type ProofAnswer,
} from "../../lib/core/mod.ts";
import { proofAnswerSigningBytes } from "../../lib/codec/mod.ts";
import { verifyAttestation } from "../../lib/replication/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";
import { MemoryBlobStore } from "../../lib/memory/mod.ts";

async function placed(size = 4000, peers = 24, blobs?: MemoryBlobStore) {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1", blobs ? { blobs } : {});
  net.addMany(peers);
  const report = await owner.service.putTessera(testBytes(size, 21));
  return { net, owner, report };
}

Deno.test("a genuine holder proves its shards with chunk proofs, and the owner with its copy reads none of it", async () => {
  const { net, owner, report } = await placed();
  const h = report.placed[5];
  const reads = countReads(owner.blobs);
  const check = await owner.service.attestHolder(report.tesseraId, h.peerId);
  assert.equal(check.answered, true);
  assert.equal(check.authentic, true);
  assert.equal(check.verification, "chunk");
  assert.deepEqual(check.proven, [h.index]);
  assert.deepEqual(check.failed, []);
  assert.equal(reads(), 0);
  const a = check.attestation!;
  assert.equal(a.holder, h.peerId);
  assert.equal(a.entries.length, 1);
  const shard = await net.node(h.peerId).fragments.list(report.tesseraId);
  assert.equal(a.entries[0].checksum, shard[0].checksum);
});

/** Counts the blob store's reads from now on. */
function countReads(blobs: { readRange: unknown; get: unknown }): () => number {
  let n = 0;
  const b = blobs as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ["readRange", "get"]) {
    const real = b[name].bind(blobs);
    b[name] = (...args: unknown[]) => {
      n++;
      return real(...args);
    };
  }
  return () => n;
}

Deno.test("a holder that kept only checksums fails; so does one that corrupted its bytes", async () => {
  const { net, owner, report } = await placed();
  const [a, b] = [report.placed[0], report.placed[1]];
  const cheater = net.node(a.peerId);
  const stored = await cheater.fragments.list(report.tesseraId);
  await cheater.fragments.delete(report.tesseraId);
  const identity = net.keyring.identity(a.peerId);
  cheater.proveBehaviour = (req: AttestRequest) =>
    (async (): Promise<ProofAnswer> => {
      const unsigned = {
        tesseraId: req.tesseraId,
        holder: a.peerId,
        nonce: req.nonce,
        // The best it can do without the bytes: checksums, no groups.
        shards: stored.map((f) => ({
          index: f.index,
          checksum: f.checksum,
          size: 4000,
          groups: [],
        })),
        timestamp: net.clock.now(),
      };
      return {
        ...unsigned,
        signature: await identity.sign(proofAnswerSigningBytes(unsigned)),
      };
    })();
  const check = await owner.service.attestHolder(report.tesseraId, a.peerId);
  assert.equal(check.authentic, true);
  assert.deepEqual(check.proven, []);
  assert.deepEqual(check.failed, [a.index]);

  net.node(b.peerId).fragments.corrupt(report.tesseraId, b.index, 3);
  const check2 = await owner.service.attestHolder(report.tesseraId, b.peerId);
  assert.deepEqual([check2.proven, check2.failed], [[], [b.index]]);
});

Deno.test("replaying an old answer (old nonce) fails", async () => {
  const { net, owner, report } = await placed();
  const h = report.placed[2];
  const first = await owner.service.attestHolder(report.tesseraId, h.peerId);
  assert.equal(first.authentic, true);
  net.node(h.peerId).attestBehaviour = () =>
    Promise.resolve(first.attestation!);
  const replay = await owner.service.attestHolder(report.tesseraId, h.peerId);
  assert.equal(replay.answered, true);
  assert.equal(replay.authentic, false);
  assert.match(replay.reason!, /nonce/);
  assert.deepEqual(replay.failed, [h.index]);
});

Deno.test("answers signed by another key, naming another holder, or stale fail", async () => {
  const { net, owner, report } = await placed();
  const h = report.placed[3];
  const other = report.placed[4].peerId;
  const node = net.node(h.peerId);
  const resign = (
    change: (a: Attestation) => Omit<Attestation, "signature">,
    signer = h.peerId,
  ) =>
  async (req: AttestRequest): Promise<Attestation> => {
    const real = await node.service.onAttest(req, owner.info);
    const unsigned = change(real);
    return {
      ...unsigned,
      signature: await net.keyring.identity(signer).sign(
        attestationSigningBytes(unsigned),
      ),
    };
  };
  const strip = ({ signature: _s, ...rest }: Attestation) => rest;
  const cases: [
    string,
    (req: AttestRequest) => Promise<Attestation>,
    RegExp,
  ][] = [
    ["forged signature", resign(strip, other), /signature/],
    [
      "other holder",
      resign((a) => ({ ...strip(a), holder: other }), other),
      /holder/,
    ],
    [
      "stale",
      resign((a) => ({ ...strip(a), timestamp: a.timestamp - 3_600_000 })),
      /timestamp/,
    ],
    ["tampered after signing", async (req) => {
      const real = await node.service.onAttest(req, owner.info);
      return { ...real, entries: [{ ...real.entries[0], index: 7 }] };
    }, /signature/],
  ];
  for (const [name, behaviour, reason] of cases) {
    node.attestBehaviour = behaviour;
    const check = await owner.service.attestHolder(report.tesseraId, h.peerId);
    assert.equal(check.authentic, false, name);
    assert.match(check.reason!, reason, name);
  }
});

Deno.test("without our blob, checks are the same chunk proofs", async () => {
  const { owner, report } = await placed(500, 10);
  await owner.blobs.delete(report.tesseraId);
  const check = await owner.service.attestHolder(
    report.tesseraId,
    report.placed[0].peerId,
  );
  assert.equal(check.verification, "chunk");
  assert.deepEqual(check.proven, [0]);
});

Deno.test("onAttest rejects malformed requests and answers empty for unknown tesseras", async () => {
  const { net, report } = await placed(500, 8);
  const holder = net.node(report.placed[0].peerId);
  const from = { id: "x", addresses: [] };
  await assert.rejects(
    holder.service.onAttest({
      tesseraId: report.tesseraId,
      nonce: new Uint8Array(5),
    }, from),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  await assert.rejects(
    holder.service.onAttest(
      { tesseraId: "nope", nonce: new Uint8Array(32) },
      from,
    ),
    (e) => isTesserasError(e, "INVALID_ID"),
  );
  await assert.rejects(
    holder.service.onAttest({
      tesseraId: report.tesseraId,
      nonce: new Uint8Array(32),
      indices: [-1],
    }, from),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  const empty = await holder.service.onAttest({
    tesseraId: "cd".repeat(32),
    nonce: new Uint8Array(32),
  }, from);
  assert.deepEqual(empty.entries, []);
});

Deno.test("verifyAttestation checks offline what challenge checks online", async () => {
  const { net, report } = await placed(500, 8);
  const h = report.placed[0];
  const nonce = new Uint8Array(32).fill(9);
  const a = await net.node(h.peerId).service.onAttest({
    tesseraId: report.tesseraId,
    nonce,
  }, { id: "owner", addresses: [] });
  const base = {
    tesseraId: report.tesseraId,
    peer: h.peerId,
    indices: [0],
    nonce,
    checksums: [report.tesseraId],
    now: net.clock.now(),
    maxSkewMs: 1000,
    verify: net.keyring.identity("owner").verify,
  };
  assert.deepEqual((await verifyAttestation(a, base)).proven, [0]);
  const other = await verifyAttestation(a, {
    ...base,
    nonce: new Uint8Array(32),
  });
  assert.equal(other.authentic, false);
  const late = await verifyAttestation(a, { ...base, now: base.now + 5000 });
  assert.equal(late.authentic, false);
});

for (const copy of [true, false]) {
  Deno.test(`audits read none of our blob: a corrupt one leaves them as they were, the scrub reports it (blob store copy: ${copy})`, async () => {
    const { owner, report } = await placed(
      4000,
      24,
      new MemoryBlobStore({ copy }),
    );
    const h = report.placed[7];
    const id = report.tesseraId;
    for (let i = 0; i < 2; i++) {
      const check = await owner.service.attestHolder(id, h.peerId);
      assert.deepEqual([check.proven, check.failed], [[h.index], []]);
    }
    const good = (await owner.blobs.get(id))!;
    const bad = good.slice();
    bad[10] ^= 1;
    await owner.blobs.put(id, bad);
    const still = await owner.service.attestHolder(id, h.peerId);
    assert.deepEqual([still.proven, still.failed], [[h.index], []]);
    assert.deepEqual((await owner.service.scrubHeld()).corruptBlobs, [id]);
    await owner.blobs.put(id, good);
    assert.deepEqual((await owner.service.scrubHeld()).corruptBlobs, []);
    const again = await owner.service.attestHolder(id, h.peerId);
    assert.deepEqual([again.proven, again.failed], [[h.index], []]);
  });
}
