import assert from "node:assert/strict";
import {
  isTesserasError,
  type PeerStandingChange,
} from "../../lib/core/mod.ts";
import {
  appliedMigrations,
  openDatabase,
  SqlitePeerStandingStore,
} from "../../lib/storage/mod.ts";
import { withDb, withTempDir } from "./helpers.ts";

const T = 1_700_000_000_000;
const DAY = 86_400_000;

Deno.test("SqlitePeerStandingStore: every record kind survives closing and reopening the database file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/db/tesseras.db`;
    const db1 = await openDatabase(path);
    const a = new SqlitePeerStandingStore(db1);
    await a.save({
      kind: "refused",
      refusal: {
        peerId: "peerB",
        code: "INSUFFICIENT_SPACE",
        strikes: 1,
        until: T + DAY,
        size: 4096,
        credit: 0,
      },
    });
    // A second refusal replaces the first.
    await a.save({
      kind: "refused",
      refusal: {
        peerId: "peerB",
        code: "DEFICIT_EXCEEDED",
        strikes: 2,
        until: T + 16 * DAY,
        size: 1024,
        credit: -300,
      },
    });
    await a.save({
      kind: "refused",
      refusal: {
        peerId: "peerC",
        code: "PEER_LIMIT_EXCEEDED",
        strikes: 3,
        until: T + 4 * DAY,
        size: 77,
        credit: 12,
      },
    });
    await a.save({
      kind: "lied",
      liar: { peerId: "peerL", lies: 2, until: T + 180 * DAY },
    });
    await a.save({ kind: "proven", peerId: "peerP" });
    await a.save({ kind: "proven", peerId: "peerP" }); // twice: one row
    await a.save({ kind: "proven", peerId: "peerA" });
    const key0 = `${"ab".repeat(32)}/0`;
    const key7 = `${"ab".repeat(32)}/7`;
    await a.save({
      kind: "placed",
      pending: { peerId: "peerP", key: key0, size: 500 },
    });
    await a.save({
      kind: "placed",
      pending: { peerId: "peerP", key: key7, size: 600 },
    });
    await a.save({
      kind: "placed",
      pending: { peerId: "peerC", key: key7, size: 600 },
    });
    await a.save({ kind: "settled", peerId: "peerP", key: key0 });
    db1.close();

    const db2 = await openDatabase(path);
    try {
      assert.deepEqual(
        appliedMigrations(db2).map((m) => m.name).includes(
          "005_peer_standing.sql",
        ),
        true,
      );
      const b = new SqlitePeerStandingStore(db2);
      assert.deepEqual(await b.load(), {
        refusals: [
          {
            peerId: "peerB",
            code: "DEFICIT_EXCEEDED",
            strikes: 2,
            until: T + 16 * DAY,
            size: 1024,
            credit: -300,
          },
          {
            peerId: "peerC",
            code: "PEER_LIMIT_EXCEEDED",
            strikes: 3,
            until: T + 4 * DAY,
            size: 77,
            credit: 12,
          },
        ],
        liars: [{ peerId: "peerL", lies: 2, until: T + 180 * DAY }],
        proven: ["peerA", "peerP"],
        pending: [
          { peerId: "peerC", key: key7, size: 600 },
          { peerId: "peerP", key: key7, size: 600 },
        ],
      });
      // accepted ends a refusal; settling an unknown shard changes nothing.
      await b.save({ kind: "accepted", peerId: "peerB" });
      await b.save({ kind: "settled", peerId: "peerC", key: key0 });
      const after = await b.load();
      assert.deepEqual(after.refusals.map((r) => r.peerId), ["peerC"]);
      assert.equal(after.pending.length, 2);
    } finally {
      db2.close();
    }
  });
});

Deno.test("SqlitePeerStandingStore: a lie ends the peer's back-off and proof in the same write, and keeps its pending shards", async () => {
  await withDb(async (db) => {
    const s = new SqlitePeerStandingStore(db);
    await s.save({
      kind: "refused",
      refusal: {
        peerId: "x",
        code: "INSUFFICIENT_SPACE",
        strikes: 1,
        until: T,
        size: 1,
        credit: 0,
      },
    });
    await s.save({ kind: "proven", peerId: "x" });
    await s.save({ kind: "proven", peerId: "y" });
    await s.save({
      kind: "placed",
      pending: { peerId: "x", key: "k/1", size: 9 },
    });
    await s.save({
      kind: "lied",
      liar: { peerId: "x", lies: 1, until: T + 90 * DAY },
    });
    await s.save({
      kind: "lied",
      liar: { peerId: "x", lies: 2, until: T + 180 * DAY },
    });
    assert.deepEqual(await s.load(), {
      refusals: [],
      liars: [{ peerId: "x", lies: 2, until: T + 180 * DAY }],
      proven: ["y"],
      pending: [{ peerId: "x", key: "k/1", size: 9 }],
    });
  });
});

Deno.test("SqlitePeerStandingStore: load with forgetBefore deletes refusals and bans that ended earlier, for good", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/t.db`;
    const db1 = await openDatabase(path);
    const s1 = new SqlitePeerStandingStore(db1);
    const refusal = (peerId: string, until: number) =>
      s1.save({
        kind: "refused",
        refusal: {
          peerId,
          code: "INSUFFICIENT_SPACE",
          strikes: 1,
          until,
          size: 1,
          credit: 0,
        },
      });
    await refusal("oldR", T - 1);
    await refusal("edgeR", T);
    await refusal("newR", T + 1);
    await s1.save({
      kind: "lied",
      liar: { peerId: "oldL", lies: 1, until: T - DAY },
    });
    await s1.save({
      kind: "lied",
      liar: { peerId: "edgeL", lies: 3, until: T },
    });
    await s1.save({ kind: "proven", peerId: "oldR" });
    await s1.save({
      kind: "placed",
      pending: { peerId: "oldL", key: "k/0", size: 5 },
    });
    const loaded = await s1.load({ forgetBefore: T });
    assert.deepEqual(loaded.refusals.map((r) => r.peerId), ["edgeR", "newR"]);
    assert.deepEqual(loaded.liars, [{ peerId: "edgeL", lies: 3, until: T }]);
    // Proofs and pending shards have no end: they stay.
    assert.deepEqual(loaded.proven, ["oldR"]);
    assert.deepEqual(loaded.pending, [{ peerId: "oldL", key: "k/0", size: 5 }]);
    db1.close();
    // Deleted, not merely skipped.
    const db2 = await openDatabase(path);
    try {
      const all = await new SqlitePeerStandingStore(db2).load();
      assert.deepEqual(all.refusals.map((r) => r.peerId), ["edgeR", "newR"]);
      assert.deepEqual(all.liars.map((l) => l.peerId), ["edgeL"]);
    } finally {
      db2.close();
    }
  });
});

Deno.test("SqlitePeerStandingStore: malformed changes are refused and write nothing; an aborted signal stops a write", async () => {
  await withDb(async (db) => {
    const s = new SqlitePeerStandingStore(db);
    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return "none";
      } catch (e) {
        return isTesserasError(e) ? e.code : `other: ${e}`;
      }
    };
    assert.equal(
      await codeOf(s.save({ kind: "proven", peerId: "" })),
      "INVALID_ID",
    );
    assert.equal(
      await codeOf(s.save(null as unknown as PeerStandingChange)),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(
        s.save({ kind: "lied", liar: { peerId: "x", lies: 0, until: T } }),
      ),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(
        s.save({ kind: "lied", liar: { peerId: "x", lies: 1, until: 1.5 } }),
      ),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(
        s.save({
          kind: "placed",
          pending: { peerId: "x", key: "a\nb", size: 1 },
        }),
      ),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(
        s.save({
          kind: "placed",
          pending: { peerId: "x", key: "k", size: -1 },
        }),
      ),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(
        s.save({ kind: "bogus" } as unknown as Parameters<typeof s.save>[0]),
      ),
      "INVALID_INPUT",
    );
    assert.equal(
      await codeOf(s.load({ forgetBefore: Number.NaN })),
      "INVALID_INPUT",
    );
    const aborted = AbortSignal.abort(new Error("stop"));
    await assert.rejects(
      s.save({ kind: "proven", peerId: "x" }, { signal: aborted }),
      /stop/,
    );
    assert.deepEqual(await s.load(), {
      refusals: [],
      liars: [],
      proven: [],
      pending: [],
    });
  });
});
