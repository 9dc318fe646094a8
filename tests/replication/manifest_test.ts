import assert from "node:assert/strict";
import {
  decodeManifest,
  signManifest,
  validateManifest,
} from "../../lib/core/mod.ts";
import { MiniNetwork, shardEnvelope, testBytes } from "./test_network.ts";

async function placedMedium() {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(5000, 7));
  assert.equal(report.plan.tier, "medium");
  return { net, owner, report };
}

Deno.test("every holder keeps the owner's signed manifest with its shard", async () => {
  const { net, owner, report } = await placedMedium();
  const tracked = await owner.holders.get(report.tesseraId);
  const own = await owner.manifests.get(report.tesseraId);
  assert.ok(own, "the owner keeps the manifest it signed");
  for (const p of report.placed) {
    const holder = net.node(p.peerId);
    const kept = await holder.manifests.get(report.tesseraId);
    assert.ok(kept, `holder ${p.peerId} keeps the manifest`);
    assert.deepEqual(kept, own);
    const m = await validateManifest(kept, {
      identity: net.keyring.identity(p.peerId),
      tesseraId: report.tesseraId,
      owner: "owner",
    });
    assert.deepEqual(m.checksums, tracked?.checksums);
    assert.deepEqual(m.plan, report.plan);
  }
  // A node that holds nothing keeps no manifest.
  const idle = [...net.nodes.values()].find((n) =>
    n.id !== "owner" && !report.placed.some((p) => p.peerId === n.id)
  )!;
  assert.equal(await idle.manifests.get(report.tesseraId), null);
});

Deno.test("a shard that does not match the kept manifest is refused, and nothing is stored", async () => {
  const { net, report } = await placedMedium();
  const holder = net.node(report.placed[0].peerId);
  const held = (await holder.fragments.list(report.tesseraId)).map((f) =>
    f.index
  );
  const index = [...Array(report.plan.shardCount).keys()].find((i) =>
    !held.includes(i)
  )!;
  // A stranger's shard of the right plan and size, hashing to its own
  // checksum: the transport checks pass, the manifest does not.
  const data = testBytes(report.plan.shardSize, 99);
  const envelope = shardEnvelope(report, { index, data });
  const hostile = net.node("p29");
  const ack = await hostile.dht.replicate(holder.id, envelope);
  assert.equal(ack.accepted, false);
  assert.equal(ack.errorCode, "CHECKSUM_MISMATCH");
  assert.match(ack.reason ?? "", /manifest/);
  assert.equal(await holder.fragments.read(report.tesseraId, index), null);
});

Deno.test("a forged or altered manifest is refused by a fresh node, which keeps nothing", async () => {
  const { net, report } = await placedMedium();
  const own = (await net.node("owner").manifests.get(report.tesseraId))!;
  const manifest = decodeManifest(own.bytes);
  const fresh = net.add("fresh", "10.77.0.1");
  const hostile = net.node("p28");
  const index = 0;
  const holderOf0 = report.placed.find((p) => p.index === index)!.peerId;
  const data =
    (await net.node(holderOf0).fragments.read(report.tesseraId, index))!;
  const base = shardEnvelope(report, { index, data });
  // Signed by the hostile peer's key but naming the owner.
  const forged = {
    bytes: own.bytes,
    signature: await net.keyring.identity("p28").sign(own.bytes),
  };
  // The owner's signature over bytes the hostile peer changed.
  const altered = {
    bytes: new TextEncoder().encode(
      new TextDecoder().decode(own.bytes).replace(
        manifest.checksums[5],
        "00".repeat(32),
      ),
    ),
    signature: own.signature,
  };
  for (const bad of [forged, altered]) {
    const ack = await hostile.dht.replicate("fresh", {
      ...base,
      manifest: bad,
    });
    assert.equal(ack.accepted, false);
    assert.equal(ack.errorCode, "UNAUTHORIZED");
  }
  // The hostile peer's own valid manifest of the same tessera, with a
  // checksum swapped: it signs what it likes, but the shard must match.
  const mine = await signManifest(net.keyring.identity("p28"), {
    ...manifest,
    owner: "p28",
    checksums: manifest.checksums.map((
      c,
      i,
    ) => (i === 0 ? "11".repeat(32) : c)),
  });
  const ack = await hostile.dht.replicate("fresh", { ...base, manifest: mine });
  assert.equal(ack.errorCode, "CHECKSUM_MISMATCH");
  assert.equal(await fresh.fragments.read(report.tesseraId, index), null);
  assert.equal(await fresh.manifests.get(report.tesseraId), null);
  // The genuine one is taken, with its manifest.
  const good = await hostile.dht.replicate("fresh", { ...base, manifest: own });
  assert.equal(good.accepted, true, good.reason);
  assert.deepEqual(await fresh.manifests.get(report.tesseraId), own);
});
