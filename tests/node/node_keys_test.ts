import assert from "node:assert/strict";
import { join } from "node:path";
import { isTesserasError } from "../../lib/core/mod.ts";
import { parsePhrase } from "../../lib/crypto/mod.ts";
import { loadOrCreateIdentity } from "../../lib/net/mod.ts";
import {
  dataLayout,
  prepareNodeKeys,
  readRecoveryPhrase,
  recoverDataDir,
  rekeyDataDir,
} from "../../lib/node/mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-node-keys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a new node's phrase is kept 0600 and derives the identity recover restores", async () => {
  await withDir(async (root) => {
    const layout = dataLayout(join(root, "a"));
    await Deno.mkdir(layout.root);
    const keys = await prepareNodeKeys(layout);
    assert.ok(keys !== null);
    assert.equal((await Deno.stat(layout.recovery)).mode! & 0o777, 0o600);
    // Loading again gives the same keys; a widened mode is tightened.
    await Deno.chmod(layout.recovery, 0o644);
    const again = await prepareNodeKeys(layout);
    assert.deepEqual(again?.identitySeed, keys.identitySeed);
    assert.equal((await Deno.stat(layout.recovery)).mode! & 0o777, 0o600);
    const { peerId } = await loadOrCreateIdentity(layout.identity, {
      seed: keys.identitySeed,
    });
    const phrase = await readRecoveryPhrase(layout.root);
    const restored = await recoverDataDir(join(root, "b"), parsePhrase(phrase));
    assert.equal(restored.peerId, peerId);
  });
});

Deno.test("a pre-phrase node gets no phrase until re-keyed; a bad recovery key is named", async () => {
  await withDir(async (root) => {
    const layout = dataLayout(root);
    const old = await loadOrCreateIdentity(layout.identity);
    assert.equal(await prepareNodeKeys(layout), null);
    await assert.rejects(
      () => readRecoveryPhrase(root),
      (e) => isTesserasError(e, "INVALID_INPUT") && /--rekey/.test(e.message),
    );
    const done = await rekeyDataDir(root);
    assert.equal(done.oldPeerId, old.peerId);
    assert.notEqual(done.peerId, old.peerId);
    assert.equal(await readRecoveryPhrase(root), done.phrase);
    // The old key is kept, whole, beside the new one.
    const kept = await loadOrCreateIdentity(`${layout.identity}.pre-phrase`);
    assert.equal(kept.peerId, old.peerId);
    await Deno.writeFile(layout.recovery, new Uint8Array(5));
    await assert.rejects(
      () => prepareNodeKeys(layout),
      (e) =>
        isTesserasError(e, "STORAGE_ERROR") &&
        /not a recovery key/.test(e.message),
    );
    await assert.rejects(
      () => readRecoveryPhrase(join(root, "nothing-here")),
      (e) => isTesserasError(e, "NOT_FOUND"),
    );
  });
});
