import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  apiGet,
  type DaemonProcess,
  runTesseras,
  startDaemon,
  waitFor,
  withTempDir,
} from "./daemon_process.ts";

Deno.test("daemon: api.json, /health, refuses a second daemon, SIGTERM exits 0 within 5 s", async () => {
  await withTempDir(async (dir) => {
    const daemon = await startDaemon(dir, [
      "--listen",
      "/ip4/127.0.60.1/tcp/0",
    ]);
    try {
      const info = JSON.parse(await Deno.readTextFile(join(dir, "api.json")));
      assert.equal(info.pid, daemon.child.pid);
      assert.match(info.token, /^[0-9a-f]{64}$/);
      assert.equal(
        (await Deno.stat(join(dir, "api.json"))).mode! & 0o777,
        0o600,
      );
      assert.equal(
        (await Deno.stat(join(dir, "identity.key"))).mode! & 0o777,
        0o600,
      );
      await Deno.stat(join(dir, "db", "tesseras.db"));

      const health = await (await fetch(`${daemon.url}/health`)).json();
      assert.equal(health.status, "OK");
      assert.equal(health.peer_id, daemon.peerId);
      assert.equal(health.peer_count, 0);
      assert.equal(typeof health.uptime_seconds, "number");
      assert.deepEqual(health.storage, {
        total_peers: 0,
        total_addresses: 0,
        stale_peers: 0,
      });
      const unauthorized = await fetch(`${daemon.url}/v1/id`);
      assert.equal(unauthorized.status, 401);
      await unauthorized.body?.cancel();

      const id = await runTesseras(["--data-dir", dir, "id"]);
      assert.equal(id.code, 0);
      const [peer, ...lines] = id.stdout.trim().split("\n");
      assert.equal(peer, daemon.peerId);
      // Loopback only: nobody outside this machine can dial it.
      assert.ok(lines.includes("reachability: private"), id.stdout);
      const addrs = lines.filter((l) => l.startsWith("/"));
      assert.ok(addrs.length > 0);
      for (const a of addrs) assert.ok(a.endsWith(`/p2p/${daemon.peerId}`));

      const second = await runTesseras([
        "start",
        "--data-dir",
        dir,
        "--api",
        "127.0.0.1:0",
        "--listen",
        "/ip4/127.0.60.1/tcp/0",
      ]);
      assert.equal(second.code, 6);
      assert.match(second.stderr, /already using this data directory/);
    } finally {
      const started = Date.now();
      const status = await daemon.stop({ signal: "SIGTERM", timeoutMs: 5_000 });
      assert.equal(status.code, 0, daemon.stderr());
      assert.ok(Date.now() - started < 5_000);
    }
    // A clean stop removes api.json, so commands report the node as stopped.
    const after = await runTesseras(["--data-dir", dir, "peers"]);
    assert.equal(after.code, 5);
    assert.match(after.stderr, /no running node/);
  });
});

Deno.test("CLI: unknown commands and bad input exit non-zero with a clear error", async () => {
  const unknown = await runTesseras(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badId = await runTesseras([
    "--data-dir",
    "/nonexistent",
    "status",
    "../../etc",
  ]);
  assert.equal(badId.code, 2);
  assert.match(badId.stderr, /not a tessera id/);
  const version = await runTesseras(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^tesseras \d+\.\d+\.\d+ \(.+\)/);
});

function countPeers(dbPath: string): { peers: number; addresses: number } {
  const db = new DatabaseSync(dbPath);
  try {
    const row = db.prepare(
      "SELECT COUNT(DISTINCT peer_id) AS peers, COUNT(*) AS addresses FROM dht_peers",
    ).get() as { peers: number; addresses: number };
    return { peers: Number(row.peers), addresses: Number(row.addresses) };
  } finally {
    db.close();
  }
}

Deno.test("bootstrap persistence: peers survive a restart, stale peers are cleaned", async () => {
  await withTempDir(async (root) => {
    const bootDir = join(root, "boot");
    const peerDir = join(root, "peer");
    let boot: DaemonProcess | undefined = await startDaemon(bootDir, [
      "--bootstrap-mode",
      "--listen",
      "/ip4/127.0.61.1/tcp/0",
    ]);
    let peer: DaemonProcess | undefined;
    try {
      const addr = (await apiGet<{ addresses: string[] }>(boot, "/v1/id"))
        .addresses[0];
      peer = await startDaemon(peerDir, [
        "--listen",
        "/ip4/127.0.62.1/tcp/0",
        "--bootstrap",
        addr,
      ]);
      const peerId = peer.peerId;
      await waitFor("the bootstrap node to persist the peer", async () => {
        const h = await (await fetch(`${boot!.url}/health`)).json();
        return h.peer_count >= 1 && h.storage.total_peers >= 1;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      assert.equal((await boot.stop()).code, 0);
      boot = undefined;

      const dbPath = join(bootDir, "db", "tesseras.db");
      const before = countPeers(dbPath);
      assert.ok(before.peers >= 1);
      // Exactly the seed's "how to test" insertion of an old fake peer.
      const db = new DatabaseSync(dbPath);
      db.exec(`INSERT INTO dht_peers (peer_id, multiaddr, first_seen, last_seen)
        VALUES ('fake_peer', '/ip4/1.2.3.4/tcp/4001',
                strftime('%s', 'now', '-30 days'),
                strftime('%s', 'now', '-30 days'))`);
      const firstSeen = Number(
        (db.prepare(
          "SELECT MIN(first_seen) AS f FROM dht_peers WHERE peer_id = ?",
        ).get(peerId) as { f: number }).f,
      );
      db.close();

      boot = await startDaemon(bootDir, [
        "--bootstrap-mode",
        "--listen",
        "/ip4/127.0.61.1/tcp/0",
      ]);
      assert.match(boot.stderr(), /cleaned up 1 stale peer records/);
      assert.match(
        boot.stderr(),
        /loaded [1-9]\d* peers with [1-9]\d* addresses/,
      );
      // The restarted node may record the running peer again between two
      // reads: /health must agree with one reading of the table taken
      // right after it.
      let after = countPeers(dbPath);
      let health = { storage: { total_peers: -1, total_addresses: -1 } };
      await waitFor("/health to report the peer table's counts", async () => {
        health = await (await fetch(`${boot!.url}/health`)).json();
        after = countPeers(dbPath);
        return health.storage.total_peers === after.peers &&
          health.storage.total_addresses === after.addresses;
      }, { timeoutMs: 5_000, intervalMs: 100 });
      assert.equal(
        (health.storage as { stale_peers?: number }).stale_peers,
        0,
      );
      const check = new DatabaseSync(dbPath);
      assert.equal(
        (check.prepare(
          "SELECT COUNT(*) AS n FROM dht_peers WHERE peer_id = 'fake_peer'",
        ).get() as { n: number }).n,
        0,
      );
      const kept = check.prepare(
        "SELECT MIN(first_seen) AS f FROM dht_peers WHERE peer_id = ?",
      ).get(peerId) as { f: number };
      check.close();
      assert.equal(Number(kept.f), firstSeen, "first_seen is kept");

      // The restarted bootstrap node dials the remembered peer by itself.
      await waitFor("the restarted bootstrap node to reconnect", async () => {
        const h = await (await fetch(`${boot!.url}/health`)).json();
        return h.peer_count >= 1;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      const peers = await apiGet<{ known: { peerId: string }[] }>(
        boot,
        "/v1/peers",
      );
      assert.ok(peers.known.some((p) => p.peerId === peerId));
    } finally {
      await peer?.stop();
      await boot?.stop();
    }
  });
});
