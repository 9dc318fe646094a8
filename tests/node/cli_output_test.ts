import assert from "node:assert/strict";
import {
  formatLedger,
  formatRepairReport,
  plural,
} from "../../lib/node/cli/mod.ts";

const ID = "ab".repeat(32);

Deno.test("repair report: counts agree with their nouns", () => {
  assert.equal(plural(1, "peer"), "1 peer");
  assert.equal(plural(0, "peer"), "0 peers");
  const one = formatRepairReport({
    tesseras: [{
      id: ID,
      before: "needs_replication",
      after: "needs_replication",
      rebuiltShards: 1,
      newHolders: 1,
    }],
  });
  assert.equal(
    one,
    `checked 1 tessera\n${ID}: needs_replication -> needs_replication (rebuilt 1 shard, placed on 1 peer)`,
  );
  const many = formatRepairReport({
    tesseras: [
      { id: ID, before: "a", after: "b", rebuiltShards: 3, newHolders: 2 },
      { id: ID, before: "a", after: "a", rebuiltShards: 0 },
    ],
  });
  assert.match(many, /^checked 2 tesseras\n/);
  assert.match(many, /\(rebuilt 3 shards, placed on 2 peers\)/);
});

Deno.test("ledger: the header spells out its columns", () => {
  const text = formatLedger([{
    peerId: "12D3KooWpeer",
    bytesStoredForThem: 2048,
    bytesTheyStoreForUs: 0,
    balance: -2048,
    institutional: true,
  }]);
  const [header, row] = text.split("\n");
  assert.deepEqual(header.split(/\s{2,}/), [
    "peer",
    "stored for them",
    "they store for us",
    "balance",
    "institutional",
  ]);
  assert.match(row, /2\.0 KiB\s+0 B\s+-2\.0 KiB\s+yes$/);
});
