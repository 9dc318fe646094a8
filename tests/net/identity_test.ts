import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  Libp2pNodeIdentity,
  loadOrCreateIdentity,
  verifyPeerSignature,
} from "../../lib/net/mod.ts";

Deno.test("identity is created once with mode 0600 and reloaded with the same peer id", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/identity.key`;
    const first = await loadOrCreateIdentity(path);
    assert.equal(first.created, true);
    assert.match(first.peerId, /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    // No temporary file is left behind.
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name),
      ["identity.key"],
    );
    const again = await loadOrCreateIdentity(path);
    assert.equal(again.created, false);
    assert.equal(again.peerId, first.peerId);
    assert.deepEqual(again.privateKey.raw, first.privateKey.raw);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("identity: concurrent creators end up with one key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/identity.key`;
    const all = await Promise.all(
      Array.from({ length: 5 }, () => loadOrCreateIdentity(path)),
    );
    assert.equal(new Set(all.map((i) => i.peerId)).size, 1);
    assert.equal(all.filter((i) => i.created).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("identity: a world-readable key file is tightened to 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/identity.key`;
    const first = await loadOrCreateIdentity(path);
    await Deno.chmod(path, 0o644);
    const again = await loadOrCreateIdentity(path);
    assert.equal(again.peerId, first.peerId);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("identity: a corrupt key file is refused, never overwritten", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/identity.key`;
    await Deno.writeTextFile(path, "not a key");
    await assert.rejects(
      loadOrCreateIdentity(path),
      (e) => isTesserasError(e, "STORAGE_ERROR") && e.message.includes(path),
    );
    assert.equal(await Deno.readTextFile(path), "not a key");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NodeIdentity signs; anyone verifies from the peer id alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = new Libp2pNodeIdentity(
      (await loadOrCreateIdentity(`${dir}/a.key`)).privateKey,
    );
    const b = new Libp2pNodeIdentity(
      (await loadOrCreateIdentity(`${dir}/b.key`)).privateKey,
    );
    const data = new TextEncoder().encode("tesseras");
    const sig = await a.sign(data);
    assert.equal(sig.length, 64);
    assert.equal(
      await b.verify(a.peerId, { data, signature: sig }),
      true,
    );
    assert.equal(
      await verifyPeerSignature(a.peerId, { data, signature: sig }),
      true,
    );
    assert.equal(
      await b.verify(b.peerId, { data, signature: sig }),
      false,
    );
    const tampered = data.slice();
    tampered[0] ^= 1;
    assert.equal(
      await b.verify(a.peerId, { data: tampered, signature: sig }),
      false,
    );
    assert.equal(
      await b.verify("not-a-peer-id", { data, signature: sig }),
      false,
    );
    assert.equal(
      await b.verify(a.peerId, { data, signature: sig.subarray(1) }),
      false,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
