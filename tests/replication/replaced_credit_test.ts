/**
 * Credit for holders that are gone (issue 16 §2): when a repair places a
 * silent holder's shards elsewhere, the ledger no longer counts what the
 * silent holder stored for us.
 */
import assert from "node:assert/strict";
import { MiniNetwork, testBytes } from "./test_network.ts";

Deno.test("a repair that re-places a dead holder's shards takes its credit back", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.50.0.1");
  net.addMany(30);
  const data = testBytes(5000, 8); // Medium: 24 shards on 24 peers
  const put = await owner.service.putTessera(data);
  const size = put.plan.shardSize;
  const dead = put.placed[0].peerId;
  const held = put.placed.filter((p) => p.peerId === dead).length;
  const before = (await owner.ledger.get(dead))!.bytesTheyStoreForUs;
  assert.equal(before, held * size);
  net.node(dead).online = false;
  const repair = await owner.service.repairTessera(put.tesseraId);
  assert.deepEqual(repair.after, { kind: "healthy" });
  assert.ok(repair.removed.some((r) => r.peerId === dead));
  assert.equal((await owner.ledger.get(dead))!.bytesTheyStoreForUs, 0);
  // The credit now sits with the new holders, once per shard.
  let total = 0;
  for (const row of await owner.ledger.list()) total += row.bytesTheyStoreForUs;
  assert.equal(total, 24 * size);
});
