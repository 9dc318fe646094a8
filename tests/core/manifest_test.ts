import assert from "node:assert/strict";
import { generateKeyPair } from "@libp2p/crypto/keys";
import {
  checkShardInManifest,
  decodeManifest,
  encodeManifest,
  isTesserasError,
  type Manifest,
  MAX_MANIFEST_BYTES,
  signManifest,
  validateManifest,
} from "../../lib/core/mod.ts";
import { blake3Hex } from "../../lib/codec/mod.ts";
import { MemoryKeyring } from "../../lib/memory/mod.ts";
import { Libp2pNodeIdentity } from "../../lib/net/identity.ts";

const enc = new TextEncoder();
const TID = "ab".repeat(32);

function mediumManifest(owner: string): Manifest {
  const size = 5 * 1024 * 1024;
  return {
    tesseraId: TID,
    owner,
    createdAt: 1_700_000_000_000,
    plan: {
      size,
      tier: "medium",
      dataShards: 16,
      parityShards: 8,
      shardCount: 24,
      shardSize: Math.ceil(size / 16),
    },
    checksums: Array.from(
      { length: 24 },
      (_, i) => blake3Hex(enc.encode(`s${i}`)),
    ),
  };
}

Deno.test("manifest: canonical bytes round-trip, whatever the key order", () => {
  const m = mediumManifest("owner");
  const shuffled = {
    checksums: m.checksums,
    plan: { ...m.plan },
    createdAt: m.createdAt,
    owner: m.owner,
    tesseraId: m.tesseraId,
  };
  const bytes = encodeManifest(m);
  assert.deepEqual(encodeManifest(shuffled), bytes);
  assert.deepEqual(decodeManifest(bytes), m);
  assert.ok(bytes.length < MAX_MANIFEST_BYTES);
});

Deno.test("manifest: non-canonical, malformed or oversized bytes are refused", () => {
  const m = mediumManifest("owner");
  const spaced = enc.encode(
    JSON.stringify(
      JSON.parse(new TextDecoder().decode(encodeManifest(m))),
      null,
      1,
    ),
  );
  const bad: Uint8Array[] = [
    spaced,
    enc.encode("not json"),
    new Uint8Array([0xff, 0xfe]),
    enc.encode(JSON.stringify({ v: 2 })),
    new Uint8Array(MAX_MANIFEST_BYTES + 1),
  ];
  for (const bytes of bad) {
    assert.throws(
      () => decodeManifest(bytes),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  }
  // A plan that lies about its tier, a checksum short, a bad id.
  for (
    const wrong of [
      { ...m, plan: { ...m.plan, dataShards: 15 } },
      { ...m, plan: { ...m.plan, shardSize: 1 } },
      { ...m, checksums: m.checksums.slice(1) },
      { ...m, checksums: [...m.checksums.slice(1), "zz"] },
      { ...m, tesseraId: "../x" },
      { ...m, owner: "" },
      { ...m, createdAt: -1 },
    ]
  ) {
    assert.throws(
      () => encodeManifest(wrong),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  }
  // Canonical JSON whose checksums are 64 characters of text but not
  // lowercase hex (upper case, an escape, non-ASCII), wherever they are,
  // is refused on decode.
  const canonical = new TextDecoder().decode(encodeManifest(m));
  for (
    const c of [
      "A" + "a".repeat(63),
      "\\u0061" + "a".repeat(58),
      "é".repeat(64),
    ]
  ) {
    for (const at of [0, 11, 23]) {
      const text = canonical.replace(m.checksums[at], c);
      assert.notEqual(text, canonical);
      assert.throws(
        () => decodeManifest(enc.encode(text)),
        (e) => isTesserasError(e, "INVALID_INPUT"),
      );
    }
  }
});

Deno.test("manifest: Ed25519 owner signs; anyone validates; forgeries fail", async () => {
  const owner = new Libp2pNodeIdentity(await generateKeyPair("Ed25519"));
  const other = new Libp2pNodeIdentity(await generateKeyPair("Ed25519"));
  const m = mediumManifest(owner.peerId);
  const signed = await signManifest(owner, m);
  assert.equal(signed.signature.length, 64);
  // Any node validates with its own identity: the key is in the peer id.
  assert.deepEqual(
    await validateManifest(signed, { identity: other, tesseraId: TID }),
    m,
  );
  // Someone else cannot sign for the owner.
  await assert.rejects(
    () => signManifest(other, m),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  // Another key's signature over a manifest naming the owner: forged.
  const forged = {
    bytes: signed.bytes,
    signature: await other.sign(signed.bytes),
  };
  await assert.rejects(
    () => validateManifest(forged, { identity: other }),
    (e) => isTesserasError(e, "UNAUTHORIZED"),
  );
  // A checksum altered after signing: the signature no longer covers it.
  const altered = {
    ...m,
    checksums: m.checksums.map((c, i) => (i === 3 ? "00".repeat(32) : c)),
  };
  await assert.rejects(
    () =>
      validateManifest({
        bytes: encodeManifest(altered),
        signature: signed.signature,
      }, {
        identity: other,
      }),
    (e) => isTesserasError(e, "UNAUTHORIZED"),
  );
  // The other claims the tessera as its own: its signature is valid but
  // the expected owner or tessera differs.
  const claimed = await signManifest(other, { ...m, owner: other.peerId });
  await assert.rejects(
    () => validateManifest(claimed, { identity: owner, owner: owner.peerId }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  await assert.rejects(
    () =>
      validateManifest(signed, { identity: owner, tesseraId: "cd".repeat(32) }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  // A signature of the raw bytes (no domain) is not a manifest signature.
  const undomained = {
    bytes: signed.bytes,
    signature: await owner.sign(signed.bytes),
  };
  await assert.rejects(
    () => validateManifest(undomained, { identity: other }),
    (e) => isTesserasError(e, "UNAUTHORIZED"),
  );
  // An owner that is no key at all.
  const nokey = await new MemoryKeyring().identity("nokey");
  const junk = await signManifest(nokey, { ...m, owner: "nokey" });
  await assert.rejects(
    () => validateManifest(junk, { identity: other }),
    (e) => isTesserasError(e, "UNAUTHORIZED"),
  );
  await assert.rejects(
    () =>
      validateManifest({ bytes: signed.bytes, signature: new Uint8Array() }, {
        identity: other,
      }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("manifest: a shard must match the manifest's plan and checksum", () => {
  const m = mediumManifest("owner");
  const shard = (index: number, checksum: string) => ({
    fragment: { tesseraId: TID, index, shardCount: 24, checksum },
    plan: m.plan,
  });
  for (let i = 0; i < 24; i++) {
    checkShardInManifest(m, shard(i, m.checksums[i]));
  }
  const cases = [
    shard(0, m.checksums[1]),
    shard(24, m.checksums[0]),
    { ...shard(0, m.checksums[0]), plan: { ...m.plan, size: m.plan.size - 1 } },
    {
      ...shard(0, m.checksums[0]),
      fragment: {
        ...shard(0, m.checksums[0]).fragment,
        tesseraId: "cd".repeat(32),
      },
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => checkShardInManifest(m, c),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
  }
});
