import assert from "node:assert/strict";
import type { PeerInfo } from "../../lib/core/mod.ts";
import {
  BACKOFF_CODES,
  FORGET_AFTER_INTERVALS,
  LIAR_BAN_INTERVALS,
  MAX_BACKOFF_INTERVALS,
  PeerStanding,
  rankCandidates,
} from "../../lib/replication/standing.ts";
import { makeContext } from "../../lib/replication/context.ts";
import type { ReplicationServiceInit } from "../../lib/replication/mod.ts";
import {
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryReciprocityLedger,
} from "../../lib/memory/mod.ts";

/** Memory ports for one service context (the network is never used). */
function contextInit(id: string): ReplicationServiceInit {
  const identity = new MemoryKeyring().identity(id);
  const offline = () => Promise.reject(new Error("offline"));
  return {
    dht: {
      selfId: identity.peerId,
      findClosestPeers: () => Promise.resolve([]),
      replicate: offline,
      requestAttestation: offline,
      ping: offline,
      fetch: offline,
    },
    fragments: new MemoryFragmentStore(),
    ledger: new MemoryReciprocityLedger(),
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry(),
    identity,
    config: { repairIntervalMs: DAY },
  };
}

const DAY = 24 * 3_600_000;

Deno.test("a refusal backs off shards at least as large, doubling per refusal in a row, until accepted", () => {
  const s = new PeerStanding(DAY);
  assert.equal(s.empty, true);
  s.refused("a", { code: "INSUFFICIENT_SPACE", size: 1000, at: 0, credit: 0 });
  assert.equal(s.empty, false);
  const avoid = (size: number, at: number) =>
    s.avoid("a", { size, at, credit: 0 });
  assert.equal(avoid(1000, 1), "backoff");
  assert.equal(avoid(5000, DAY - 1), "backoff");
  assert.equal(avoid(999, 1), null); // a smaller shard may still fit
  assert.equal(avoid(1000, DAY), null); // one interval
  // Second refusal in a row, of a smaller shard: two intervals, and the
  // threshold drops to it.
  s.refused("a", { code: "INSUFFICIENT_SPACE", size: 400, at: DAY, credit: 0 });
  assert.equal(avoid(400, 3 * DAY - 1), "backoff");
  assert.equal(avoid(399, 2 * DAY), null);
  assert.equal(avoid(400, 3 * DAY), null);
  // Third: four intervals; an acceptance forgets it all.
  s.refused("a", {
    code: "PEER_LIMIT_EXCEEDED",
    size: 400,
    at: 3 * DAY,
    credit: 0,
  });
  assert.equal(avoid(400, 7 * DAY - 1), "backoff");
  assert.equal(avoid(400, 7 * DAY), null);
  s.accepted("a");
  assert.equal(avoid(400, 3 * DAY + 1), null);
  assert.equal(s.empty, true);
});

Deno.test("a peer backing off a refusal for want of room is extended no free credit; a deficit refusal is not held against it", () => {
  const s = new PeerStanding(DAY);
  s.refused("full", { code: "INSUFFICIENT_SPACE", size: 10, at: 0, credit: 0 });
  s.refused("cap", { code: "PEER_LIMIT_EXCEEDED", size: 10, at: 0, credit: 0 });
  s.refused("owed", { code: "DEFICIT_EXCEEDED", size: 10, at: 0, credit: 0 });
  assert.equal(s.withholds("full", DAY - 1), true);
  assert.equal(s.withholds("cap", DAY - 1), true);
  assert.equal(s.withholds("owed", DAY - 1), false);
  assert.equal(s.withholds("full", DAY), false);
  assert.equal(s.withholds("stranger", 0), false);
  s.accepted("full");
  assert.equal(s.withholds("full", 1), false);
});

Deno.test("the back-off is capped; codes that are not refusals of us are ignored", () => {
  const s = new PeerStanding(DAY);
  for (let i = 0; i < 10; i++) {
    s.refused("a", { code: "INSUFFICIENT_SPACE", size: 10, at: 0, credit: 0 });
  }
  assert.equal(
    s.avoid("a", { size: 10, at: MAX_BACKOFF_INTERVALS * DAY - 1, credit: 0 }),
    "backoff",
  );
  assert.equal(
    s.avoid("a", { size: 10, at: MAX_BACKOFF_INTERVALS * DAY, credit: 0 }),
    null,
  );
  for (const code of ["UNREACHABLE", "CHECKSUM_MISMATCH", "TOO_LARGE"]) {
    assert.equal(BACKOFF_CODES.has(code), false);
    s.refused("b", { code, size: 10, at: 0, credit: 0 });
  }
  assert.equal(s.avoid("b", { size: 10, at: 1, credit: 0 }), null);
});

Deno.test("a deficit refusal stands until we store more for the peer (or the longest back-off ends)", () => {
  const s = new PeerStanding(DAY);
  s.refused("a", { code: "DEFICIT_EXCEEDED", size: 1000, at: 0, credit: -500 });
  const at = 10 * DAY;
  assert.equal(s.avoid("a", { size: 1000, at, credit: -500 }), "backoff");
  assert.equal(s.avoid("a", { size: 999, at, credit: -500 }), null);
  // We stored 300 bytes for it since: a 1300-byte shard is still sure to
  // be refused, a 1299-byte one may not be.
  assert.equal(s.avoid("a", { size: 1300, at, credit: -200 }), "backoff");
  assert.equal(s.avoid("a", { size: 1299, at, credit: -200 }), null);
  assert.equal(
    s.avoid("a", {
      size: 1000,
      at: MAX_BACKOFF_INTERVALS * DAY,
      credit: -500,
    }),
    null,
  );
});

Deno.test("a liar is banned for 90 intervals, doubling on repeat, and loses its proven mark", () => {
  const s = new PeerStanding(DAY);
  s.proven("a");
  assert.equal(s.isProven("a"), true);
  s.refused("a", { code: "INSUFFICIENT_SPACE", size: 1, at: 0, credit: 0 });
  s.lied("a", 0);
  assert.equal(LIAR_BAN_INTERVALS, 90);
  assert.equal(s.lies("a"), 1);
  assert.equal(s.isProven("a"), false);
  assert.equal(s.distrusted("a", 90 * DAY - 1), true);
  assert.equal(s.avoid("a", { size: 1, at: 90 * DAY - 1, credit: 0 }), "liar");
  assert.equal(s.distrusted("a", 90 * DAY), false);
  assert.equal(s.avoid("a", { size: 1, at: 90 * DAY, credit: 0 }), null);
  s.lied("a", 100 * DAY);
  assert.equal(s.lies("a"), 2);
  assert.equal(s.distrusted("a", 280 * DAY - 1), true);
  assert.equal(s.distrusted("a", 280 * DAY), false);
  assert.equal(s.distrusted("b", 0), false);
  assert.equal(s.lies("b"), 0);
});

Deno.test("acknowledged shards stay pending until a check settles them", () => {
  const s = new PeerStanding(DAY);
  s.placed("a", "t/1", 100);
  s.placed("a", "t/2", 50);
  s.placed("a", "t/2", 50); // the same shard acknowledged twice
  s.placed("b", "t/1", 7);
  assert.equal(s.pendingBytes("a"), 150);
  s.settled("a", "t/1");
  assert.equal(s.pendingBytes("a"), 50);
  s.settled("a", "t/9");
  s.settled("c", "t/1");
  assert.equal(s.pendingBytes("a"), 50);
  s.settled("a", "t/2");
  assert.equal(s.pendingBytes("a"), 0);
  assert.equal(s.pendingBytes("b"), 7);
});

Deno.test("rankCandidates: liars and backed-off peers out; then fit, peers that owe us, proven, tightest fit, distance", () => {
  const s = new PeerStanding(DAY);
  const peer = (id: string): PeerInfo => ({ id, addresses: [] });
  const ps = [
    "liar",
    "full",
    "far",
    "fresh1",
    "holder",
    "proven",
    "fresh2",
    "partner",
    "friend",
  ].map(peer);
  s.lied("liar", 0);
  s.refused("far", { code: "INSUFFICIENT_SPACE", size: 100, at: 0, credit: 0 });
  s.proven("proven");
  const credits = new Map([
    ["full", -1000], // we are 1000 bytes in its debt: no room for 100 more
    ["holder", -300], // it holds some of our data
    ["proven", -50],
    ["partner", 200], // we store for it: it owes us
    ["friend", 900], // owes us more
  ]);
  const { usable, avoided } = rankCandidates(ps, {
    standing: s,
    credits,
    size: 100,
    tolerance: 1000,
    at: 1,
  });
  assert.deepEqual([...avoided].sort(), ["far", "liar"]);
  assert.deepEqual(usable.map((p) => p.id), [
    "friend",
    "partner",
    "proven",
    "holder",
    "fresh1",
    "fresh2",
    "full",
  ]);
  // Smaller shards than the refused one go to the backed-off peer again.
  const small = rankCandidates(ps, {
    standing: s,
    credits,
    size: 99,
    tolerance: 1000,
    at: 1,
  });
  assert.deepEqual([...small.avoided], ["liar"]);
  assert.deepEqual(small.usable.map((p) => p.id), [
    "friend",
    "partner",
    "proven",
    "holder",
    "far",
    "fresh1",
    "fresh2",
    "full",
  ]);
});

Deno.test("one standing memory per service context", () => {
  const a = makeContext(contextInit("a"));
  const b = makeContext(contextInit("b"));
  assert.equal(a.standing, a.standing);
  assert.notEqual(a.standing, b.standing);
  a.standing.lied("x", 0);
  assert.equal(a.standing.lies("x"), 1);
  assert.equal(b.standing.lies("x"), 0);
});

Deno.test("a running memory forgets a lie or refusal that ended long ago, as a restart does", () => {
  const s = new PeerStanding(DAY);
  s.lied("p", 0);
  const firstBanEnds = LIAR_BAN_INTERVALS * DAY;
  // Lying again while the record is recent doubles the ban ...
  s.lied("q", 0);
  s.lied("q", firstBanEnds + FORGET_AFTER_INTERVALS * DAY);
  assert.equal(s.lies("q"), 2);
  // ... but a lie long after the last ban ended starts over.
  s.lied("p", firstBanEnds + FORGET_AFTER_INTERVALS * DAY + 1);
  assert.equal(s.lies("p"), 1);
  const refusal = { code: "INSUFFICIENT_SPACE", size: 10, credit: 0 };
  s.refused("r", { ...refusal, at: 0 });
  s.refused("r", { ...refusal, at: DAY + 1 }); // 2 strikes: 2 days
  const ends = DAY + 1 + 2 * DAY;
  s.refused("r", { ...refusal, at: ends + FORGET_AFTER_INTERVALS * DAY + 1 });
  const at = ends + FORGET_AFTER_INTERVALS * DAY + 1;
  // One strike again: backed off for one interval, not four.
  assert.equal(
    s.avoid("r", { size: 10, at: at + DAY - 1, credit: 0 }),
    "backoff",
  );
  assert.equal(s.avoid("r", { size: 10, at: at + DAY, credit: 0 }), null);
});
