import assert from "node:assert/strict";
import { checksumsDigest } from "../../lib/replication/mod.ts";
import { MiniNetwork, testBytes } from "./test_network.ts";

/** An owner places a Medium tessera; a node with no copy takes it back. */
async function setup() {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, 5));
  // Joins afterwards, as a recovered owner does: it holds no shard.
  const heir = net.add("heir", "10.98.0.1");
  const tracked = (await owner.holders.get(report.tesseraId))!;
  const claim = {
    plan: tracked.plan,
    digest: checksumsDigest(tracked.checksums),
  };
  return { net, owner, heir, report, id: report.tesseraId, claim, tracked };
}

Deno.test("adopt: plan, checksums and holders rebuilt from the holders' answers, nothing fetched", async () => {
  const { net, heir, id, claim, tracked, report } = await setup();
  const fetches = net.traffic.fetch;
  const { holders } = await heir.service.adoptTessera(id, claim);
  assert.equal(net.traffic.fetch, fetches);
  assert.equal(holders, report.placed.length);
  const adopted = (await heir.holders.get(id))!;
  assert.deepEqual(adopted.plan, tracked.plan);
  assert.deepEqual(adopted.checksums, tracked.checksums);
  assert.equal(await heir.blobs.has(id), false);
  // Audited as ours: every holder proves its shard.
  const r = await heir.service.inspectTessera(id);
  assert.deepEqual(r.health, { kind: "healthy" });
  // And repaired as ours, from the holders (no blob to rebuild from).
  for (const p of report.placed.slice(0, 3)) net.node(p.peerId).online = false;
  const rep = await heir.service.repairTessera(id);
  assert.deepEqual(rep.after, { kind: "healthy" });
  assert.notEqual(rep.source, "blob");
});

Deno.test("adopt: refused when the digest is not the holders' checksums", async () => {
  const { heir, id, claim } = await setup();
  await assert.rejects(
    () => heir.service.adoptTessera(id, { ...claim, digest: "00".repeat(32) }),
    (e: Error & { code?: string }) => e.code === "CHECKSUM_MISMATCH",
  );
  assert.equal(await heir.holders.get(id), null);
});

Deno.test("adopt: refused when a shard has no holder answering", async () => {
  const { net, heir, id, claim, report } = await setup();
  for (const p of report.placed.filter((p) => p.index === 0)) {
    net.node(p.peerId).online = false;
  }
  await assert.rejects(
    () => heir.service.adoptTessera(id, claim),
    (e: Error & { code?: string }) => e.code === "INSUFFICIENT_SHARDS",
  );
  assert.equal(await heir.holders.get(id), null);
});
