import assert from "node:assert/strict";
import {
  formatLedger,
  formatRepairReport,
  formatStatus,
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

const ONE_SUBNET = {
  peerLosses: 2,
  subnetLosses: 0,
  peers: 5,
  subnets: 1,
  shards: 24,
  largestSubnetShards: 24,
};

Deno.test("status says what each tessera survives, in words, under the table", () => {
  const row = {
    id: ID,
    tier: "medium",
    size: 20 * 1024 * 1024,
    shardCount: 24,
    liveShards: 24,
    lostShards: 0,
    holderCount: 5,
    health: "healthy",
    safety: ONE_SUBNET,
  };
  const one = formatStatus(row).split("\n");
  assert.equal(
    one.at(-1),
    "survives any 2 peer losses; 1 /24 holds all 24 shards: not safe from a subnet outage",
  );
  const two = formatStatus([row, { ...row, id: "cd".repeat(32) }]).split("\n");
  assert.equal(
    two.at(-1),
    `${
      "cd".repeat(6)
    }…  survives any 2 peer losses; 1 /24 holds all 24 shards: not safe from a subnet outage`,
  );
  // Without the figure (an old daemon), no words and no blank line.
  const { safety: _, ...bare } = row;
  assert.equal(formatStatus(bare).split("\n").length, 2);
});

Deno.test("repair says why a tessera stays short, and what it survives", () => {
  const text = formatRepairReport({
    tesseras: [{
      id: ID,
      before: "needs_replication",
      after: "needs_replication",
      rebuiltShards: 0,
      shortBecause: "only 1 peer could take it",
      safety: { ...ONE_SUBNET, peerLosses: 0, peers: 1, shards: 1 },
    }],
  });
  assert.match(
    text,
    /needs_replication: only 1 peer could take it; survives no peer loss;/,
  );
});
