import assert from "node:assert/strict";
import { generateKeyPair, generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { Uint8ArrayList } from "uint8arraylist";
import { verifyEd25519, withCachedSigning } from "../../lib/net/mod.ts";

Deno.test("cached signing gives libp2p's exact signatures and keeps the key's identity", async () => {
  const key = await generateKeyPairFromSeed("Ed25519", new Uint8Array(32));
  const fast = withCachedSigning(key);
  const data = new TextEncoder().encode("tesseras");
  const expected = await key.sign(data);
  assert.deepEqual(await fast.sign(data), expected);
  assert.deepEqual(
    await fast.sign(new Uint8ArrayList(data.subarray(0, 3), data.subarray(3))),
    expected,
  );
  assert.equal(fast.type, "Ed25519");
  assert.equal(fast.equals(key), true);
  assert.deepEqual(fast.raw, key.raw);
  assert.equal(
    peerIdFromPrivateKey(fast).toString(),
    peerIdFromPrivateKey(key).toString(),
  );
  const aborted = AbortSignal.abort(new Error("stop"));
  assert.throws(() => fast.sign(data, { signal: aborted }), /stop/);
});

Deno.test("verifyEd25519: true, false, or undefined when the peer id has no Ed25519 key", async () => {
  const key = await generateKeyPair("Ed25519");
  const other = await generateKeyPair("Ed25519");
  const peer = peerIdFromPrivateKey(key).toString();
  const data = new TextEncoder().encode("attest");
  const signature = await key.sign(data);
  for (let i = 0; i < 2; i++) { // second round: cached key
    assert.equal(
      verifyEd25519(peer, { data, signature }),
      true,
    );
    assert.equal(
      verifyEd25519(peer, { data: data.subarray(1), signature }),
      false,
    );
    assert.equal(
      verifyEd25519(peer, { data, signature: signature.subarray(1) }),
      false,
    );
    assert.equal(
      verifyEd25519(peer, { data, signature: await other.sign(data) }),
      false,
    );
  }
  assert.equal(
    verifyEd25519("not-a-peer-id", { data, signature }),
    undefined,
  );
});
