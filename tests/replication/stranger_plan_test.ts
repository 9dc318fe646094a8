import assert from "node:assert/strict";
import {
  decodeManifest,
  isTesserasError,
  signManifest,
} from "../../lib/core/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

/** A Large tessera (48 + 24) placed by "owner" on 80 peers, and a stranger. */
async function placedLarge() {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(80);
  const data = testBytes(20_000, 5);
  const report = await owner.service.putTessera(data);
  // Joins after the put: it holds nothing and keeps no manifest.
  const stranger = net.add("stranger", "10.98.0.1");
  assert.equal(report.plan.tier, "large");
  assert.equal(report.plan.dataShards, 48);
  return { net, owner, stranger, report, data, id: report.tesseraId };
}

/** Takes every holder of an index >= `keep` off line: fewer than 16 stay. */
function keepOnlyLowIndices(
  { net, report }: Awaited<ReturnType<typeof placedLarge>>,
  keep: number,
): void {
  for (const p of report.placed) {
    if (p.index >= keep) net.node(p.peerId).online = false;
  }
}

Deno.test("a stranger's failed get names the plan the holders keep, not a guessed shape", async () => {
  const placed = await placedLarge();
  keepOnlyLowIndices(placed, 10);
  await assert.rejects(
    placed.stranger.service.retrieveTessera(placed.id),
    (e) =>
      isTesserasError(e, "INSUFFICIENT_SHARDS") &&
      /of the 48 shards needed/.test(e.message),
  );
});

Deno.test("without kept manifests (older holders) the stranger still guesses the shape", async () => {
  // The contrast that shows the test above can fail: the guess reports the
  // Medium shape (16 needed) for this Large tessera's surviving low indices.
  const placed = await placedLarge();
  for (const n of placed.net.nodes.values()) {
    await n.manifests.delete(placed.id);
  }
  keepOnlyLowIndices(placed, 10);
  await assert.rejects(
    placed.stranger.service.retrieveTessera(placed.id),
    (e) =>
      isTesserasError(e, "INSUFFICIENT_SHARDS") &&
      /of the 16 shards needed/.test(e.message),
  );
});

Deno.test("a forged manifest from one holder loses to the checksums the others vouch for", async () => {
  const { net, stranger, report, data, id } = await placedLarge();
  const liar = net.node(report.placed[0].peerId);
  const kept = (await liar.manifests.get(id))!;
  const real = decodeManifest(kept.bytes);
  // Signed by the liar, naming itself owner: a valid signature over a
  // wrong plan and reversed checksums.
  const forged = await signManifest(net.keyring.identity(liar.id), {
    ...real,
    owner: liar.id,
    plan: { ...real.plan, size: real.plan.size - 1 },
    checksums: [...real.checksums].reverse(),
  });
  await liar.manifests.delete(id);
  await liar.manifests.put(id, forged);
  // Another holder sends bytes that are no manifest at all.
  const garbler = net.node(report.placed[1].peerId);
  await garbler.manifests.delete(id);
  await garbler.manifests.put(id, {
    bytes: new TextEncoder().encode("{not a manifest"),
    signature: new Uint8Array(64),
  });
  assert.deepEqual(await stranger.service.retrieveTessera(id), data);
});

Deno.test("a stranger that holds a shard reads the plan from its own kept manifest", async () => {
  const placed = await placedLarge();
  const { net, report, id } = placed;
  // A holder of index 0 becomes the getter; every other holder forgets
  // its manifest, so only the getter's own one can name the plan.
  const getter = net.node(report.placed.find((p) => p.index === 0)!.peerId);
  for (const n of net.nodes.values()) {
    if (n.id !== getter.id) await n.manifests.delete(id);
  }
  for (const p of report.placed) {
    if (p.index >= 10 && p.peerId !== getter.id) {
      net.node(p.peerId).online = false;
    }
  }
  await assert.rejects(
    getter.service.retrieveTessera(id),
    (e) =>
      isTesserasError(e, "INSUFFICIENT_SHARDS") &&
      /of the 48 shards needed/.test(e.message),
  );
});
