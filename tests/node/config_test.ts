import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acquireDaemonLock,
  DEFAULT_API,
  DEFAULT_LISTEN,
  defaultDataDir,
  loadNodeConfig,
  resolveDataDir,
} from "../../lib/node/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";

Deno.test("default data dir follows each platform's convention", () => {
  const env = (vars: Record<string, string>) => (k: string) => vars[k];
  assert.equal(
    defaultDataDir({ os: "linux", env: env({ HOME: "/home/ana" }) }),
    "/home/ana/.local/share/tesseras",
  );
  assert.equal(
    defaultDataDir({
      os: "linux",
      env: env({ HOME: "/home/ana", XDG_DATA_HOME: "/data" }),
    }),
    "/data/tesseras",
  );
  assert.equal(
    defaultDataDir({
      os: "linux",
      env: env({ HOME: "/home/ana", XDG_DATA_HOME: "rel" }),
    }),
    "/home/ana/.local/share/tesseras",
  );
  assert.equal(
    defaultDataDir({ os: "darwin", env: env({ HOME: "/Users/ana" }) }),
    "/Users/ana/Library/Application Support/tesseras",
  );
  assert.equal(
    resolveDataDir(undefined, {
      os: "linux",
      env: env({ HOME: "/h", TESSERAS_DATA_DIR: "/srv/t" }),
    }),
    "/srv/t",
  );
  assert.equal(
    resolveDataDir("/flag", { env: env({ TESSERAS_DATA_DIR: "/srv/t" }) }),
    "/flag",
  );
});

Deno.test("config: flags over environment over file over defaults", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const none = await loadNodeConfig(dir, {}, { env: () => undefined });
    assert.deepEqual(none.listen, [DEFAULT_LISTEN]);
    assert.equal(none.api, DEFAULT_API);
    assert.equal(none.replication.maxPerSubnet, 2);

    await Deno.writeTextFile(
      join(dir, "tesseras.json"),
      JSON.stringify({
        api: "127.0.0.1:9000",
        bootstrap: ["/ip4/10.0.0.1/tcp/4001"],
        replication: { maxPerSubnet: 3 },
      }),
    );
    const fromFile = await loadNodeConfig(dir, {}, { env: () => undefined });
    assert.equal(fromFile.api, "127.0.0.1:9000");
    assert.equal(fromFile.replication.maxPerSubnet, 3);
    assert.equal(fromFile.replication.concurrentTransfers, 4);

    const env = (k: string) =>
      ({ TESSERAS_API: "127.0.0.1:9100", TESSERAS_BOOTSTRAP: "/a, /b" })[k];
    const fromEnv = await loadNodeConfig(dir, {}, { env });
    assert.equal(fromEnv.api, "127.0.0.1:9100");
    assert.deepEqual(fromEnv.bootstrap, ["/a", "/b"]);

    const fromFlags = await loadNodeConfig(dir, { api: "127.0.0.1:1" }, {
      env,
    });
    assert.equal(fromFlags.api, "127.0.0.1:1");

    await Deno.writeTextFile(join(dir, "tesseras.json"), "[not json");
    await assert.rejects(
      loadNodeConfig(dir, {}, { env: () => undefined }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the daemon lock is exclusive and released", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "daemon.lock");
    const lock = acquireDaemonLock(path);
    assert.throws(
      () => acquireDaemonLock(path),
      (e) => isTesserasError(e, "ALREADY_RUNNING"),
    );
    lock.release();
    acquireDaemonLock(path).release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the steward delays default to 3 days and 2 days, the lazy rebuild to half the parity, set by flag over variable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vars = (pairs: Record<string, string>) => (k: string) => pairs[k];
    const defaults = await loadNodeConfig(dir, {}, { env: vars({}) });
    assert.equal(defaults.replication.stewardAfterMs, 72 * 3_600_000);
    assert.equal(defaults.replication.stewardGraceMs, 48 * 3_600_000);
    assert.equal(defaults.replication.stewardRebuildAtPercent, 50);
    const env = vars({
      TESSERAS_STEWARD_AFTER_MS: "5000",
      TESSERAS_STEWARD_GRACE_MS: "2000",
      TESSERAS_STEWARD_REBUILD_AT: "0",
    });
    const set = await loadNodeConfig(dir, {}, { env });
    assert.equal(set.replication.stewardAfterMs, 5000);
    assert.equal(set.replication.stewardGraceMs, 2000);
    assert.equal(set.replication.stewardRebuildAtPercent, 0);
    const flagged = await loadNodeConfig(dir, {
      stewardAfterMs: 7,
      stewardRebuildAtPercent: 25,
    }, { env });
    assert.equal(flagged.replication.stewardAfterMs, 7);
    assert.equal(flagged.replication.stewardRebuildAtPercent, 25);
    assert.equal(flagged.replication.stewardGraceMs, 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the repair jitter follows the interval unless set, by flag, variable or file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vars = (pairs: Record<string, string>) => (k: string) => pairs[k];
    const defaults = await loadNodeConfig(dir, {}, { env: vars({}) });
    assert.equal(defaults.replication.repairIntervalMs, 24 * 3_600_000);
    assert.equal(defaults.replication.repairJitterMs, 2 * 3_600_000);

    // An interval of 4 s alone: the first sweep waits at most ~333 ms.
    const short = await loadNodeConfig(dir, {}, {
      env: vars({ TESSERAS_REPAIR_INTERVAL_MS: "4000" }),
    });
    assert.equal(short.replication.repairIntervalMs, 4000);
    assert.equal(short.replication.repairJitterMs, 333);

    const both = await loadNodeConfig(dir, {}, {
      env: vars({
        TESSERAS_REPAIR_INTERVAL_MS: "4000",
        TESSERAS_REPAIR_JITTER_MS: "50",
      }),
    });
    assert.equal(both.replication.repairJitterMs, 50);

    const flagged = await loadNodeConfig(dir, {
      repairIntervalMs: 60_000,
      repairJitterMs: 7,
    }, { env: vars({ TESSERAS_REPAIR_JITTER_MS: "50" }) });
    assert.equal(flagged.replication.repairIntervalMs, 60_000);
    assert.equal(flagged.replication.repairJitterMs, 7);

    await Deno.writeTextFile(
      join(dir, "tesseras.json"),
      JSON.stringify({ replication: { repairIntervalMs: 12_000 } }),
    );
    const file = await loadNodeConfig(dir, {}, { env: vars({}) });
    assert.equal(file.replication.repairJitterMs, 1000);
    await Deno.writeTextFile(
      join(dir, "tesseras.json"),
      JSON.stringify({ replication: { repairJitterMs: 9 } }),
    );
    const fileJitter = await loadNodeConfig(dir, {}, { env: vars({}) });
    assert.equal(fileJitter.replication.repairJitterMs, 9);
    assert.equal(fileJitter.replication.repairIntervalMs, 24 * 3_600_000);

    await assert.rejects(
      loadNodeConfig(dir, {}, {
        env: vars({ TESSERAS_REPAIR_JITTER_MS: "soon" }),
      }),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
