import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  appliedMigrations,
  type Migration,
  MIGRATIONS,
  openDatabase,
} from "../../lib/storage/mod.ts";
import { ManualClock, withTempDir } from "./helpers.ts";

Deno.test("openDatabase creates parent dirs, WAL, foreign keys, busy timeout, all migrations in order", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a/b/db/tesseras.db`;
    const clock = new ManualClock(1_000);
    const db = await openDatabase(path, { clock, busyTimeoutMs: 1234 });
    try {
      assert.deepEqual(
        appliedMigrations(db).map((m) => [m.version, m.name, m.appliedAt]),
        [
          [1, "001_initial.sql", 1_000],
          [2, "002_replication.sql", 1_000],
          [3, "003_peers.sql", 1_000],
          [4, "004_fragment_sender.sql", 1_000],
          [5, "005_peer_standing.sql", 1_000],
          [6, "006_catalogue.sql", 1_000],
          [7, "007_manifests.sql", 1_000],
        ],
      );
      assert.equal(
        db.prepare("PRAGMA journal_mode").get()?.journal_mode,
        "wal",
      );
      assert.equal(db.prepare("PRAGMA foreign_keys").get()?.foreign_keys, 1);
      assert.equal(db.prepare("PRAGMA busy_timeout").get()?.timeout, 1234);
      assert.equal(db.prepare("PRAGMA synchronous").get()?.synchronous, 2);
      assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, 7);
      const tables = db.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
      ).all().map((r) => r.name);
      assert.deepEqual(tables, [
        "catalogue",
        "dht_peers",
        "fragment_plans",
        "fragments",
        "holder_fragments",
        "holders",
        "manifests",
        "node_meta",
        "plan_shards",
        "reciprocity_balances",
        "schema_migrations",
        "standing_liars",
        "standing_pending",
        "standing_proven",
        "standing_refusals",
      ]);
    } finally {
      db.close();
    }
    assert.equal((await Deno.stat(path)).isFile, true);
  });
});

Deno.test("migrations are applied once: reopening records nothing new and keeps the data", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/t.db`;
    const clock = new ManualClock(5_000);
    const db1 = await openDatabase(path, { clock });
    db1.prepare(
      "INSERT INTO node_meta (key, value, updated_at) VALUES ('k', 'v', 1)",
    ).run();
    db1.close();
    clock.ms = 9_000;
    const db2 = await openDatabase(path, { clock });
    try {
      const applied = appliedMigrations(db2);
      assert.equal(applied.length, MIGRATIONS.length);
      assert.deepEqual(
        applied.map((m) => m.appliedAt),
        MIGRATIONS.map(() => 5_000),
      );
      assert.equal(
        db2.prepare("SELECT value FROM node_meta WHERE key = 'k'").get()?.value,
        "v",
      );
    } finally {
      db2.close();
    }
  });
});

Deno.test("migrations run in list order, and a later build applies only the new one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/order.db`;
    const v1: Migration[] = [
      { version: 1, name: "001_a.sql", sql: "CREATE TABLE log (step TEXT);" },
      {
        version: 2,
        name: "002_b.sql",
        sql: "INSERT INTO log VALUES ('two');",
      },
    ];
    const db1 = await openDatabase(path, { migrations: v1 });
    db1.close();
    const v2 = [...v1, {
      version: 3,
      name: "003_c.sql",
      sql: "INSERT INTO log VALUES ('three');",
    }];
    const db2 = await openDatabase(path, { migrations: v2 });
    try {
      assert.deepEqual(
        db2.prepare("SELECT step FROM log ORDER BY rowid").all().map((r) =>
          r.step
        ),
        ["two", "three"],
      );
      assert.deepEqual(appliedMigrations(db2).map((m) => m.name), [
        "001_a.sql",
        "002_b.sql",
        "003_c.sql",
      ]);
    } finally {
      db2.close();
    }
  });
});

Deno.test("a failing migration is rolled back whole and not recorded", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/fail.db`;
    const bad: Migration[] = [
      { version: 1, name: "001_a.sql", sql: "CREATE TABLE a (x);" },
      {
        version: 2,
        name: "002_b.sql",
        sql: "CREATE TABLE b (x); INSERT INTO nowhere VALUES (1);",
      },
    ];
    await assert.rejects(
      openDatabase(path, { migrations: bad }),
      (e) =>
        isTesserasError(e, "STORAGE_ERROR") &&
        e.message.includes("002_b.sql") && e.message.includes("rolled back"),
    );
    const raw = new DatabaseSync(path);
    try {
      const tables = raw.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
      ).all().map((r) => r.name);
      assert.deepEqual(tables, ["a", "schema_migrations"]);
      assert.deepEqual(
        raw.prepare("SELECT name FROM schema_migrations").all().map((r) =>
          r.name
        ),
        ["001_a.sql"],
      );
    } finally {
      raw.close();
    }
  });
});

Deno.test("a database written by a newer tesseras is refused with a clear error", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/newer.db`;
    const future = [...MIGRATIONS, {
      version: MIGRATIONS.length + 1,
      name: `${String(MIGRATIONS.length + 1).padStart(3, "0")}_future.sql`,
      sql: "CREATE TABLE future (x);",
    }];
    (await openDatabase(path, { migrations: future })).close();
    await assert.rejects(
      openDatabase(path),
      (e) =>
        isTesserasError(e, "STORAGE_ERROR") &&
        e.message.includes("_future.sql") &&
        e.message.includes("newer tesseras"),
    );
    // A renamed migration under a known version is refused too.
    const renamed = MIGRATIONS.map((m) =>
      m.version === 2 ? { ...m, name: "002_other.sql" } : m
    );
    await assert.rejects(
      openDatabase(path, {
        migrations: [...renamed, future[MIGRATIONS.length]],
      }),
      (e) =>
        isTesserasError(e, "STORAGE_ERROR") &&
        e.message.includes("002_replication.sql"),
    );
    // The refused handle was closed: the newer build still opens it.
    (await openDatabase(path, { migrations: future })).close();
  });
});

Deno.test("a malformed migration list is a programming error", async () => {
  await withTempDir(async (dir) => {
    for (
      const list of [
        [{ version: 2, name: "002_x.sql", sql: "" }],
        [{ version: 1, name: "1_x.sql", sql: "" }],
        [MIGRATIONS[1], MIGRATIONS[0]],
      ]
    ) {
      await assert.rejects(
        openDatabase(`${dir}/bad.db`, { migrations: list }),
        (e) => isTesserasError(e, "INTERNAL"),
      );
    }
  });
});

Deno.test("a second connection to the same file sees the migrations applied once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/race.db`;
    const [a, b] = await Promise.all([openDatabase(path), openDatabase(path)]);
    try {
      assert.deepEqual(appliedMigrations(a), appliedMigrations(b));
      assert.equal(appliedMigrations(a).length, MIGRATIONS.length);
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("dht_peers is exactly the bootstrap document's table", async () => {
  const db = await openDatabase(":memory:");
  try {
    const cols = db.prepare("PRAGMA table_info(dht_peers)").all().map((c) => [
      c.name,
      c.type,
      c.notnull,
      c.pk,
    ]);
    assert.deepEqual(cols, [
      ["peer_id", "TEXT", 1, 1],
      ["multiaddr", "TEXT", 1, 2],
      ["first_seen", "INTEGER", 1, 0],
      ["last_seen", "INTEGER", 1, 0],
    ]);
    const idx = db.prepare("PRAGMA index_info(idx_last_seen)").all().map((
      c,
    ) => c.name);
    assert.deepEqual(idx, ["last_seen"]);
  } finally {
    db.close();
  }
});

Deno.test("reciprocity balance is a GENERATED column that cannot be written", async () => {
  const db = await openDatabase(":memory:");
  try {
    const balance = db.prepare("PRAGMA table_xinfo(reciprocity_balances)")
      .all().find((c) => c.name === "balance");
    // hidden = 3: a STORED generated column.
    assert.equal(balance?.hidden, 3);
    db.prepare(
      `INSERT INTO reciprocity_balances
       (peer_id, bytes_stored_for_them, bytes_they_store_for_us, updated_at)
       VALUES ('p', 10, 25, 0)`,
    ).run();
    assert.equal(
      db.prepare("SELECT balance FROM reciprocity_balances").get()
        ?.balance,
      15,
    );
    assert.throws(() =>
      db.prepare("UPDATE reciprocity_balances SET balance = 99").run()
    );
  } finally {
    db.close();
  }
});
