import assert from "node:assert/strict";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import {
  DERIVATION_INFO,
  DERIVATION_SALT,
  derivePhraseKeys,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  RECORD_KEY_DOMAIN,
} from "../../lib/crypto/mod.ts";
import { toHex } from "../../lib/core/mod.ts";

// Computed once from lib/crypto (2026-12-01) and cross-checked below with
// @noble/hashes and @libp2p/crypto: any change to the derivation breaks
// every existing phrase, so these must never change.
const VECTORS = [
  {
    entropy: "00".repeat(32),
    identitySeed:
      "17743679dafe3f3dd263463c637fe287bdd149f09ed4c9075720c645db6dcbc4",
    catalogueKey:
      "ee91da0c350d488a265901d725a3886923bb875edb87394ec2783825a69bf3f5",
    signingPublic:
      "d1ded61703ed5ff824bcb2c0177fa16e2719123f75f4516654633cc869548514",
    recordKey:
      "cece49c484487d917070dea158d8a097fd24e137507625f0938c4d5d0309f7e8",
  },
  {
    entropy: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    identitySeed:
      "ecc442c6e001fbf14e55728e37b453f9858fd327bc73bdc987a87dfca44153ae",
    catalogueKey:
      "c2405b27407eb7ee110738cfc7e1deaf3aee6f2b19567b7a46663b795304d4bb",
    signingPublic:
      "f48d0d2d75bddbabaff51f4fb1476443c70bbb68ee7fd8e94476f9a82f64f31f",
    recordKey:
      "1878c0a7ff569e8ba1b86ced6d16f21775d60c1d1b00c1d53045990040b4e40b",
  },
];

const bytes = (hex: string) =>
  Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("phrase keys match the fixed vectors", async () => {
  for (const v of VECTORS) {
    const keys = await derivePhraseKeys(bytes(v.entropy));
    assert.equal(toHex(keys.identitySeed), v.identitySeed);
    assert.equal(toHex(keys.catalogueKey), v.catalogueKey);
    assert.equal(toHex(keys.catalogueSigner.publicKey), v.signingPublic);
    assert.equal(toHex(keys.recordKey), v.recordKey);
  }
});

Deno.test("an independent HKDF (@noble/hashes) gives the same keys", () => {
  for (const v of VECTORS) {
    const derive = (info: string) =>
      toHex(
        hkdf(sha256, bytes(v.entropy), text(DERIVATION_SALT), text(info), 32),
      );
    assert.equal(derive(DERIVATION_INFO.nodeIdentity), v.identitySeed);
    assert.equal(derive(DERIVATION_INFO.catalogueKey), v.catalogueKey);
    const recordKey = sha256(
      new Uint8Array([...text(RECORD_KEY_DOMAIN), ...bytes(v.signingPublic)]),
    );
    assert.equal(toHex(recordKey), v.recordKey);
  }
});

Deno.test("libp2p makes the same Ed25519 keys from a seed as WebCrypto", async () => {
  for (const v of VECTORS) {
    const signingSeed = hkdf(
      sha256,
      bytes(v.entropy),
      text(DERIVATION_SALT),
      text(DERIVATION_INFO.catalogueSigning),
      32,
    );
    const libp2p = await generateKeyPairFromSeed("Ed25519", signingSeed);
    assert.equal(toHex(libp2p.publicKey.raw), v.signingPublic);
    const ours = await ed25519FromSeed(signingSeed);
    const data = text("cross-signed");
    // Each side verifies the other's signature.
    const fromLibp2p = await libp2p.sign(data);
    assert.ok(
      await ed25519Verify(ours.publicKey, { data, signature: fromLibp2p }),
    );
    const fromOurs = await ed25519Sign(ours, data);
    assert.ok(await libp2p.publicKey.verify(data, fromOurs));
  }
});

Deno.test("the node identity seed gives a libp2p peer whose key differs from the catalogue signer", async () => {
  const keys = await derivePhraseKeys(bytes(VECTORS[0].entropy));
  const node = await generateKeyPairFromSeed("Ed25519", keys.identitySeed);
  assert.notEqual(toHex(node.publicKey.raw), VECTORS[0].signingPublic);
  assert.notEqual(toHex(node.publicKey.raw), VECTORS[0].recordKey);
  // Every derived key is distinct from every other.
  const all = [
    toHex(keys.identitySeed),
    toHex(keys.catalogueKey),
    toHex(keys.catalogueSigner.publicKey),
    toHex(keys.recordKey),
    toHex(node.publicKey.raw),
  ];
  assert.equal(new Set(all).size, all.length);
});

Deno.test("entropy of a wrong size is refused", async () => {
  await assert.rejects(
    () => derivePhraseKeys(new Uint8Array(16)),
    /32 bytes, got 16/,
  );
  await assert.rejects(() => ed25519FromSeed(new Uint8Array(31)), /32 bytes/);
});

Deno.test("ed25519Verify says false for bad keys and signatures", async () => {
  const pair = await ed25519FromSeed(new Uint8Array(32).fill(3));
  const data = text("x");
  const signature = await ed25519Sign(pair, data);
  assert.ok(await ed25519Verify(pair.publicKey, { data, signature }));
  const flipped = signature.slice();
  flipped[10] ^= 1;
  assert.equal(
    await ed25519Verify(pair.publicKey, { data, signature: flipped }),
    false,
  );
  assert.equal(
    await ed25519Verify(new Uint8Array(31), { data, signature }),
    false,
  );
  assert.equal(
    await ed25519Verify(pair.publicKey, {
      data,
      signature: signature.subarray(1),
    }),
    false,
  );
  assert.equal(
    await ed25519Verify(pair.publicKey, { data: text("y"), signature }),
    false,
  );
});
