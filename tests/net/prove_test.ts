import assert from "node:assert/strict";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { Uint8ArrayList } from "uint8arraylist";
import {
  bytesReadAt,
  GROUP_BYTES,
  outboardOf,
  proveGroups,
  sampleGroups,
} from "../../lib/codec/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";
import { Libp2pNodeIdentity } from "../../lib/net/identity.ts";
import {
  checkProofAnswer,
  encodeProveRequest,
  encodeProveResponse,
  parseProveRequest,
  parseProveResponse,
  type ProofAnswer,
  proofAnswerSigningBytes,
  type ProveRequest,
  type ShardProofs,
} from "../../lib/net/protocol/prove.ts";
import { bytes } from "../storage/helpers.ts";

const TESSERA = "ab".repeat(32);

async function identity() {
  return new Libp2pNodeIdentity(await generateKeyPair("Ed25519"));
}

/** Two shards as a holder keeps them, and what the requester knows. */
function shards() {
  return [0, 3].map((index) => {
    const data = bytes(index === 0 ? 300 * GROUP_BYTES + 77 : 5000, index + 1);
    const { root, outboard } = outboardOf(data);
    return { index, data, outboard, checksum: toHex(root) };
  });
}

/** The holder's side: sample, prove, sign, encode, as the handler will. */
async function answer(
  holder: Libp2pNodeIdentity,
  request: ProveRequest,
  held = shards(),
): Promise<Uint8Array> {
  const proofs: ShardProofs[] = [];
  for (const s of held) {
    const groups = sampleGroups({
      nonce: request.nonce,
      holder: holder.peerId,
      tessera: request.tesseraId,
      index: s.index,
    }, s.data.length);
    proofs.push({
      index: s.index,
      checksum: s.checksum,
      size: s.data.length,
      groups: await proveGroups({
        size: s.data.length,
        shard: bytesReadAt(s.data),
        outboard: bytesReadAt(s.outboard),
      }, groups),
    });
  }
  const unsigned = {
    tesseraId: request.tesseraId,
    holder: holder.peerId,
    nonce: request.nonce,
    shards: proofs,
    timestamp: 1_700_000_000_000,
  };
  const signature = await holder.sign(proofAnswerSigningBytes(unsigned));
  return encodeProveResponse({ answer: { ...unsigned, signature } });
}

function known() {
  return new Map(
    shards().map((
      s,
    ) => [s.index, { checksum: s.checksum, size: s.data.length }]),
  );
}

Deno.test("a request round-trips and is validated on parse", () => {
  const request = {
    tesseraId: TESSERA,
    nonce: new Uint8Array(32).fill(1),
    indices: [0, 3],
  };
  const parsed = parseProveRequest(
    new Uint8ArrayList(encodeProveRequest(request)),
  );
  assert.equal(parsed.tesseraId, TESSERA);
  assert.deepEqual(parsed.nonce, request.nonce);
  assert.deepEqual(parsed.indices, [0, 3]);
  assert.throws(
    () => encodeProveRequest({ ...request, nonce: new Uint8Array(31) }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  assert.throws(
    () => encodeProveRequest({ ...request, indices: [1, 1] }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  assert.throws(
    () => encodeProveRequest({ ...request, tesseraId: "x" }),
    (e) => isTesserasError(e, "INVALID_ID"),
  );
});

Deno.test("an honest answer checks from the checksums alone, shard by shard", async () => {
  const holder = await identity();
  const request = {
    tesseraId: TESSERA,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  };
  const parsed = parseProveResponse(
    await answer(holder, request),
    holder.peerId,
  );
  assert.equal(parsed.shards[0].groups.length, 20);
  assert.equal(parsed.shards[1].groups.length, 1);
  const verdicts = await checkProofAnswer(parsed, {
    request,
    peer: holder.peerId,
    known: known(),
  });
  assert.deepEqual(verdicts, [{ index: 0, ok: true }, { index: 3, ok: true }]);
});

Deno.test("a tampered group fails its shard by fault; a tampered byte breaks the signature", async () => {
  const holder = await identity();
  const request = {
    tesseraId: TESSERA,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  };
  const honest = parseProveResponse(
    await answer(holder, request),
    holder.peerId,
  );
  // Re-signed lies: the envelope passes, the proofs do not.
  const lie = async (edit: (a: ProofAnswer) => ProofAnswer) => {
    const edited = edit(honest);
    const signature = await holder.sign(proofAnswerSigningBytes(edited));
    return await checkProofAnswer({ ...edited, signature }, {
      request,
      peer: holder.peerId,
      known: known(),
    });
  };
  const first = honest.shards[0];
  const flip = (b: Uint8Array) => {
    const c = b.slice();
    c[0] ^= 1;
    return c;
  };
  const withShard0 = (s: ShardProofs) => (a: ProofAnswer) => ({
    ...a,
    shards: [s, a.shards[1]],
  });
  const cases: [string, ShardProofs][] = [
    ["mismatch", {
      ...first,
      groups: [
        { ...first.groups[0], bytes: flip(first.groups[0].bytes) },
        ...first.groups.slice(1),
      ],
    }],
    ["mismatch", {
      ...first,
      groups: [
        { ...first.groups[0], siblings: flip(first.groups[0].siblings) },
        ...first.groups.slice(1),
      ],
    }],
    ["count", { ...first, groups: first.groups.slice(1) }],
    ["position", {
      ...first,
      groups: [
        { ...first.groups[0], group: first.groups[0].group + 1 },
        ...first.groups.slice(1),
      ],
    }],
    ["length", {
      ...first,
      groups: [
        { ...first.groups[0], bytes: first.groups[0].bytes.subarray(1) },
        ...first.groups.slice(1),
      ],
    }],
    ["depth", {
      ...first,
      groups: [{
        ...first.groups[0],
        siblings: first.groups[0].siblings.subarray(32),
      }, ...first.groups.slice(1)],
    }],
    ["checksum", { ...first, checksum: "cd".repeat(32) }],
    ["size", { ...first, size: first.size - 1 }],
    ["unasked", { ...first, index: 5 }],
  ];
  for (const [fault, bad] of cases) {
    const [v0, v1] = await lie(withShard0(bad));
    assert.equal(v0.ok, false, fault);
    assert.equal(!v0.ok && v0.fault, fault, !v0.ok ? v0.reason : "");
    assert.deepEqual(v1, { index: 3, ok: true });
  }
  // Unsigned edits: the signature covers every proof byte.
  const unsigned = {
    ...honest,
    shards: [{
      ...first,
      groups: [
        { ...first.groups[0], bytes: flip(first.groups[0].bytes) },
        ...first.groups.slice(1),
      ],
    }, honest.shards[1]],
  };
  await assert.rejects(
    checkProofAnswer(unsigned, {
      request,
      peer: holder.peerId,
      known: known(),
    }),
    (e) =>
      isTesserasError(e, "ATTESTATION_FAILED") &&
      /signature/.test((e as Error).message),
  );
});

Deno.test("a replayed answer fails: another nonce, another holder's, another tessera", async () => {
  const holder = await identity();
  const other = await identity();
  const request = {
    tesseraId: TESSERA,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  };
  const old = parseProveResponse(await answer(holder, request), holder.peerId);
  const fresh = {
    ...request,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
  };
  await assert.rejects(
    checkProofAnswer(old, {
      request: fresh,
      peer: holder.peerId,
      known: known(),
    }),
    /nonce/,
  );
  // The other holder passes on the first one's answer as its own.
  await assert.rejects(
    checkProofAnswer(old, { request, peer: other.peerId, known: known() }),
    /another holder/,
  );
  // Re-signed by the other holder: the samples were drawn for the first.
  const stolen = { ...old, holder: other.peerId };
  const signature = await other.sign(proofAnswerSigningBytes(stolen));
  const verdicts = await checkProofAnswer({ ...stolen, signature }, {
    request,
    peer: other.peerId,
    known: known(),
  });
  assert.equal(verdicts[0].ok, false);
  assert.equal(!verdicts[0].ok && verdicts[0].fault, "position");
  await assert.rejects(
    checkProofAnswer(old, {
      request: { ...request, tesseraId: "cd".repeat(32) },
      peer: holder.peerId,
      known: known(),
    }),
    /another tessera/,
  );
});

Deno.test("error replies carry the peer's code; malformed frames are PROTOCOL_ERROR", () => {
  const frame = encodeProveResponse({
    error: { code: "NOT_FOUND", message: "no shard\u0000 held" },
  });
  assert.throws(
    () => parseProveResponse(frame, "p"),
    (e) =>
      isTesserasError(e, "NOT_FOUND") &&
      !(e as Error).message.includes("\u0000"),
  );
  assert.throws(
    () => parseProveResponse(new Uint8Array([0xff, 0xff, 0xff]), "p"),
    (e) => isTesserasError(e, "PROTOCOL_ERROR"),
  );
  assert.throws(
    () => parseProveResponse(new Uint8Array(0), "p"),
    (e) => isTesserasError(e, "PROTOCOL_ERROR"),
  );
});
