import assert from "node:assert/strict";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  DEFAULT_PEER_MAX_AGE_SECONDS,
  openDatabase,
  SqlitePeerStore,
} from "../../lib/storage/mod.ts";
import { ManualClock, withDb, withTempDir } from "./helpers.ts";

const DAY = 24 * 60 * 60;
const T0 = 1_768_867_200; // 2026-01-20T00:00:00Z, unix seconds

Deno.test("addPeer upserts: first_seen kept, last_seen moved forward, never back", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(T0 * 1000 + 999);
    const peers = new SqlitePeerStore(db, { clock });
    await peers.addPeer("peerA", "/ip4/10.0.0.1/tcp/4001");
    clock.ms = (T0 + 60) * 1000;
    await peers.addPeer("peerA", "/ip4/10.0.0.1/tcp/4001");
    await peers.addPeer("peerA", "/ip4/10.0.0.1/udp/4001/quic-v1");
    clock.ms = (T0 + 30) * 1000; // a clock that stepped back
    await peers.addPeer("peerA", "/ip4/10.0.0.1/tcp/4001");
    assert.deepEqual(await peers.listAddresses(), [
      {
        peerId: "peerA",
        multiaddr: "/ip4/10.0.0.1/tcp/4001",
        firstSeen: T0,
        lastSeen: T0 + 60,
      },
      {
        peerId: "peerA",
        multiaddr: "/ip4/10.0.0.1/udp/4001/quic-v1",
        firstSeen: T0 + 60,
        lastSeen: T0 + 60,
      },
    ]);
    // Stored as whole unix seconds, as the seed's SQL expects.
    assert.deepEqual(
      {
        ...db.prepare(
          "SELECT typeof(first_seen) AS t, datetime(first_seen, 'unixepoch') AS d FROM dht_peers ORDER BY first_seen LIMIT 1",
        ).get(),
      },
      { t: "integer", d: "2026-01-20 00:00:00" },
    );
  });
});

Deno.test("loadPeers groups addresses by peer, most recently seen first", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock(T0 * 1000);
    const peers = new SqlitePeerStore(db, { clock });
    await peers.addPeer("old", "/ip4/1.1.1.1/tcp/1");
    clock.ms += 10_000;
    await peers.addPeerAddresses("new", [
      "/ip4/2.2.2.2/tcp/2",
      "/dns4/x/tcp/3",
    ]);
    clock.ms += 10_000;
    await peers.addPeer("new", "/ip4/2.2.2.2/tcp/2");
    await peers.addPeer("old", "/ip4/1.1.1.2/tcp/1");
    clock.ms += 10_000;
    await peers.addPeer("mid", "/ip6/::1/tcp/5");
    assert.deepEqual(await peers.loadPeers(), [
      { peerId: "mid", multiaddrs: ["/ip6/::1/tcp/5"] },
      { peerId: "new", multiaddrs: ["/ip4/2.2.2.2/tcp/2", "/dns4/x/tcp/3"] },
      {
        peerId: "old",
        multiaddrs: ["/ip4/1.1.1.2/tcp/1", "/ip4/1.1.1.1/tcp/1"],
      },
    ]);
    assert.equal(await peers.removePeer("new", "/dns4/x/tcp/3"), 1);
    assert.equal(await peers.removePeer("old"), 2);
    assert.equal(await peers.removePeer("nobody"), 0);
    assert.deepEqual(await peers.loadPeers(), [
      { peerId: "mid", multiaddrs: ["/ip6/::1/tcp/5"] },
      { peerId: "new", multiaddrs: ["/ip4/2.2.2.2/tcp/2"] },
    ]);
  });
});

Deno.test("cleanupStale removes addresses older than the max age (7 days by default); stats agree", async () => {
  await withDb(async (db) => {
    const clock = new ManualClock((T0 - 30 * DAY) * 1000);
    const peers = new SqlitePeerStore(db, { clock });
    await peers.addPeer("gone", "/ip4/9.9.9.9/tcp/1"); // 30 days old
    await peers.addPeer("half", "/ip4/8.8.8.8/tcp/1"); // 30 days old
    clock.ms = (T0 - 7 * DAY) * 1000;
    await peers.addPeer("edge", "/ip4/7.7.7.7/tcp/1"); // exactly 7 days
    clock.ms = (T0 - DAY) * 1000;
    await peers.addPeer("half", "/ip4/8.8.8.8/tcp/2"); // 1 day old
    await peers.addPeer("fresh", "/ip4/6.6.6.6/tcp/1");
    clock.ms = T0 * 1000;
    assert.deepEqual(await peers.stats(), {
      totalPeers: 4,
      totalAddresses: 5,
      stalePeers: 1, // "gone"; "half" still has a fresh address
      staleAddresses: 2,
    });
    assert.deepEqual(await peers.stats(2 * DAY), {
      totalPeers: 4,
      totalAddresses: 5,
      stalePeers: 2,
      staleAddresses: 3,
    });
    assert.equal(DEFAULT_PEER_MAX_AGE_SECONDS, 7 * DAY);
    assert.equal(await peers.cleanupStale(), 2);
    assert.equal(await peers.cleanupStale(), 0);
    assert.deepEqual(
      (await peers.loadPeers()).map((p) => [p.peerId, p.multiaddrs]),
      [
        ["fresh", ["/ip4/6.6.6.6/tcp/1"]],
        ["half", ["/ip4/8.8.8.8/tcp/2"]],
        ["edge", ["/ip4/7.7.7.7/tcp/1"]],
      ],
    );
    assert.deepEqual(await peers.stats(), {
      totalPeers: 3,
      totalAddresses: 3,
      stalePeers: 0,
      staleAddresses: 0,
    });
    // Max age 0: everything not seen in this very second goes.
    assert.equal(await peers.cleanupStale(0), 3);
    await assert.rejects(
      peers.cleanupStale(-1),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  });
});

Deno.test("peer store input is checked", async () => {
  await withDb(async (db) => {
    const peers = new SqlitePeerStore(db);
    for (const id of ["", "a\0b", "a\nb", "x".repeat(300)]) {
      await assert.rejects(
        peers.addPeer(id, "/ip4/1.2.3.4/tcp/1"),
        (e) => isTesserasError(e, "INVALID_ID"),
      );
    }
    for (
      const addr of ["", "ip4/1.2.3.4", "/ip4/1\0", "/" + "a".repeat(1024)]
    ) {
      await assert.rejects(
        peers.addPeer("p", addr),
        (e) => isTesserasError(e, "INVALID_INPUT"),
      );
    }
    await assert.rejects(
      peers.addPeer("p", "/ip4/1.2.3.4/tcp/1", { signal: AbortSignal.abort() }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
    assert.deepEqual((await peers.stats()).totalAddresses, 0);
  });
});

const sqlite3 = await (async () => {
  try {
    const out = await new Deno.Command("sqlite3", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
})();

async function shell(path: string, sql: string): Promise<string> {
  const out = await new Deno.Command("sqlite3", {
    args: [path, sql],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.success, true, err);
  assert.equal(err, "");
  return new TextDecoder().decode(out.stdout);
}

function isoSeconds(s: number): string {
  return new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ");
}

Deno.test({
  name:
    "the bootstrap document's SQL queries work on the file with the sqlite3 shell",
  ignore: !sqlite3,
  async fn() {
    await withTempDir(async (dir) => {
      const path = `${dir}/db/tesseras.db`;
      const db = await openDatabase(path);
      try {
        // Real time: the seed's queries compare with julianday('now').
        const now = Math.floor(Date.now() / 1000);
        const clock = new ManualClock((now - 3 * DAY) * 1000);
        const peers = new SqlitePeerStore(db, { clock });
        await peers.addPeer("peerOld", "/ip4/1.2.3.4/tcp/4001");
        clock.ms = (now - 60) * 1000;
        await peers.addPeer("peerNew", "/ip4/5.6.7.8/tcp/4001");
        await peers.addPeer("peerNew", "/ip4/5.6.7.8/udp/4001/quic-v1");

        // While our connection is open (WAL: readers do not block).
        assert.equal(
          await shell(path, "SELECT COUNT(*) FROM dht_peers"),
          "3\n",
        );
        assert.equal(
          await shell(
            path,
            "SELECT peer_id, multiaddr, datetime(last_seen, 'unixepoch') FROM dht_peers ORDER BY last_seen DESC, multiaddr;",
          ),
          [
            `peerNew|/ip4/5.6.7.8/tcp/4001|${isoSeconds(now - 60)}`,
            `peerNew|/ip4/5.6.7.8/udp/4001/quic-v1|${isoSeconds(now - 60)}`,
            `peerOld|/ip4/1.2.3.4/tcp/4001|${isoSeconds(now - 3 * DAY)}`,
            "",
          ].join("\n"),
        );
        assert.equal(
          await shell(
            path,
            `SELECT peer_id, datetime(first_seen, 'unixepoch') as joined
             FROM dht_peers ORDER BY first_seen ASC LIMIT 10;`,
          ),
          `peerOld|${isoSeconds(now - 3 * DAY)}\npeerNew|${
            isoSeconds(now - 60)
          }\npeerNew|${isoSeconds(now - 60)}\n`,
        );
        assert.equal(
          await shell(
            path,
            `SELECT peer_id, datetime(last_seen, 'unixepoch') as last_active
             FROM dht_peers ORDER BY last_seen DESC LIMIT 1;`,
          ),
          `peerNew|${isoSeconds(now - 60)}\n`,
        );
        assert.equal(
          await shell(
            path,
            `SELECT
                CASE
                    WHEN julianday('now') - julianday(last_seen, 'unixepoch') < 1 THEN 'last 24h'
                    WHEN julianday('now') - julianday(last_seen, 'unixepoch') < 7 THEN 'last week'
                    ELSE 'older'
                END as age_group,
                COUNT(*) as count
            FROM dht_peers
            GROUP BY age_group;`,
          ),
          "last 24h|2\nlast week|1\n",
        );
        assert.equal(
          await shell(
            path,
            "SELECT peer_id, COUNT(*) as addr_count FROM dht_peers GROUP BY peer_id",
          ),
          "peerNew|2\npeerOld|1\n",
        );
        const schema = await shell(path, ".schema dht_peers");
        assert.match(schema, /CREATE TABLE dht_peers \(/);
        assert.match(
          schema,
          /CREATE INDEX idx_last_seen ON dht_peers \(last_seen\);/,
        );

        // The seed's garbage-collection test: a fake peer 30 days old,
        // inserted by the shell, is gone after cleanup_stale(7 days).
        await shell(
          path,
          `INSERT INTO dht_peers (peer_id, multiaddr, first_seen, last_seen)
           VALUES ('fake_peer', '/ip4/1.2.3.4/tcp/4001',
                   strftime('%s', 'now', '-30 days'),
                   strftime('%s', 'now', '-30 days'));`,
        );
        const real = new SqlitePeerStore(db);
        assert.deepEqual(await real.stats(), {
          totalPeers: 3,
          totalAddresses: 4,
          stalePeers: 1,
          staleAddresses: 1,
        });
        assert.equal(await real.cleanupStale(7 * DAY), 1);
        assert.deepEqual(
          (await real.loadPeers()).map((p) => p.peerId),
          ["peerNew", "peerOld"],
        );
      } finally {
        db.close();
      }
      // And after our connection is closed.
      assert.equal(
        await shell(
          path,
          "SELECT peer_id FROM dht_peers WHERE peer_id = 'fake_peer'",
        ),
        "",
      );
      assert.equal(await shell(path, "PRAGMA journal_mode"), "wal\n");
    });
  },
});

Deno.test("peers survive a reopen", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/p.db`;
    const db1 = await openDatabase(path);
    await new SqlitePeerStore(db1).addPeer("p", "/ip4/1.2.3.4/tcp/1");
    db1.close();
    const db2 = await openDatabase(path);
    try {
      assert.deepEqual(await new SqlitePeerStore(db2).loadPeers(), [
        { peerId: "p", multiaddrs: ["/ip4/1.2.3.4/tcp/1"] },
      ]);
    } finally {
      db2.close();
    }
  });
});
