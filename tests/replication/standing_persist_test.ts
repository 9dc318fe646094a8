/**
 * The owner's memory of its peers' conduct (standing.ts) across a
 * restart: the owner's service is rebuilt on the same SQLite file (its
 * ledger, holders and blobs kept, as the daemon's are) and still avoids
 * liars, keeps back-offs and leaves unproven bytes out of a peer's
 * balance. Also: changes are written through in order, a failing write
 * leaves placement working and is logged, and a push that arrives while
 * the memory loads waits for it.
 */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  type PeerStandingChange,
  type PeerStandingSnapshot,
  type PeerStandingStore,
  type ReplicationConfig,
  TesserasError,
} from "../../lib/core/mod.ts";
import { seededRng } from "../../lib/memory/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";
import { PeerStanding } from "../../lib/replication/standing.ts";
import {
  type Database,
  openDatabase,
  SqlitePeerStandingStore,
} from "../../lib/storage/mod.ts";
import {
  envelopeFor,
  MiniNetwork,
  TEST_THRESHOLDS,
  testBytes,
  type TestNode,
} from "./test_network.ts";

const DAY = 24 * 3_600_000;

/**
 * The owner's service, as the daemon builds it: its stores kept, its
 * standing in `store`; it replaces the node's service in the network.
 */
function ownerService(
  net: MiniNetwork,
  owner: TestNode,
  store: PeerStandingStore,
  config: Partial<ReplicationConfig> = {},
): ReplicationService {
  const service = new ReplicationService({
    dht: owner.dht,
    fragments: owner.fragments,
    ledger: owner.ledger,
    blobs: owner.blobs,
    holders: owner.holders,
    identity: net.keyring.identity(owner.id),
    clock: net.clock,
    rng: seededRng(77),
    config,
    thresholds: TEST_THRESHOLDS,
    standingStore: store,
  });
  net.nodes.set(owner.id, { ...owner, service });
  return service;
}

/** A database file in a temp dir that the test can close and reopen. */
async function withDbFile(
  fn: (open: () => Promise<Database>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_standing_" });
  const opened: Database[] = [];
  try {
    await fn(async () => {
      const db = await openDatabase(`${dir}/db/tesseras.db`, {
        synchronous: "NORMAL",
      });
      opened.push(db);
      return db;
    });
  } finally {
    for (const db of opened) if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Stop the service as the daemon does: last writes, then close. */
async function stop(service: ReplicationService, db: Database): Promise<void> {
  await service.flushStanding();
  db.close();
}

Deno.test("a liar caught before a restart is still avoided by placement and extended no credit after it", async () => {
  await withDbFile(async (open) => {
    const net = new MiniNetwork();
    const owner = net.add("owner", "10.99.0.1");
    const dropper = net.add("dropper", "10.0.60.1", { drop: true });
    const fair = net.addMany(26);
    await owner.ledger.recordTheyStoreForUs("dropper", 1);
    const db1 = await open();
    const before = ownerService(net, owner, new SqlitePeerStandingStore(db1));
    const first = await before.putTessera(testBytes(4000, 5));
    assert.deepEqual(
      first.failures.filter((f) => f.peerId === "dropper").map((f) => f.code),
      ["NOT_STORED"],
    );
    const bannedAt = net.clock.now();
    await stop(before, db1);

    await net.clock.advance(DAY);
    const db2 = await open();
    const after = ownerService(net, owner, new SqlitePeerStandingStore(db2));
    const pushes = net.traffic.replicate;
    const next = await after.putTessera(testBytes(4000, 6));
    // Not tried at all: 24 pushes, all to fair peers.
    assert.equal(net.traffic.replicate - pushes, 24);
    assert.deepEqual(next.failures, []);
    assert.equal(next.placed.some((p) => p.peerId === "dropper"), false);
    const env = envelopeFor(testBytes(100, 7));
    const ack = await dropper.dht.replicate("owner", env);
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.match(ack.reason!, /failed to prove/);
    assert.equal((await fair[0].dht.replicate("owner", env)).accepted, true);
    // The record on disk is the one made at the lie.
    assert.deepEqual((await new SqlitePeerStandingStore(db2).load()).liars, [
      { peerId: "dropper", lies: 1, until: bannedAt + 90 * DAY },
    ]);
    await stop(after, db2);
  });
});

Deno.test("a refusal back-off and its strike count hold across a restart", async () => {
  await withDbFile(async (open) => {
    const net = new MiniNetwork();
    const owner = net.add("owner", "10.99.0.1");
    const full = net.add("full", "10.0.50.1", { freeSpace: () => 0 });
    net.addMany(6);
    const codesOf = (
      r: { failures: readonly { peerId: string; code: string }[] },
    ) => r.failures.filter((f) => f.peerId === "full").map((f) => f.code);
    const restart = async (db: Database, service: ReplicationService) => {
      await stop(service, db);
      const next = await open();
      return {
        db: next,
        service: ownerService(net, owner, new SqlitePeerStandingStore(next)),
      };
    };
    let db = await open();
    let service = ownerService(net, owner, new SqlitePeerStandingStore(db));
    const first = await service.putTessera(testBytes(300, 1));
    assert.deepEqual(codesOf(first), ["INSUFFICIENT_SPACE"]);
    ({ db, service } = await restart(db, service));
    const pushes = net.traffic.replicate;
    const second = await service.putTessera(testBytes(300, 2));
    assert.deepEqual(codesOf(second), []);
    assert.equal(net.traffic.replicate - pushes, 6);
    // It refused to store for us: no free credit from us either.
    const ack = await full.dht.replicate("owner", envelopeFor(testBytes(100)));
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.match(ack.reason!, /refused to store for us/);
    // One interval later it is tried again and refuses again: strike 2...
    await net.clock.advance(DAY);
    const third = await service.putTessera(testBytes(300, 4));
    assert.deepEqual(codesOf(third), ["INSUFFICIENT_SPACE"]);
    ({ db, service } = await restart(db, service));
    // ...so two intervals, also after a restart.
    await net.clock.advance(DAY);
    const fourth = await service.putTessera(testBytes(300, 5));
    assert.deepEqual(codesOf(fourth), []);
    await net.clock.advance(DAY);
    const fifth = await service.putTessera(testBytes(300, 6));
    assert.deepEqual(codesOf(fifth), ["INSUFFICIENT_SPACE"]);
    assert.deepEqual(
      (await new SqlitePeerStandingStore(db).load()).refusals.map((r) => [
        r.peerId,
        r.code,
        r.strikes,
      ]),
      [["full", "INSUFFICIENT_SPACE", 3]],
    );
    await stop(service, db);
  });
});

Deno.test("acknowledged bytes not yet proven stay out of the holder's balance after a restart, until a check proves them", async () => {
  await withDbFile(async (open) => {
    const config = { deficitToleranceBytes: 500 };
    const net = new MiniNetwork();
    const owner = net.add("owner", "10.99.0.1", { config });
    const holder = net.add("holder", "10.0.1.1");
    holder.attestBehaviour = () =>
      Promise.reject(new TesserasError("UNREACHABLE", "gone for a moment"));
    const db1 = await open();
    const before = ownerService(
      net,
      owner,
      new SqlitePeerStandingStore(db1),
      config,
    );
    const placed = await before.putTessera(testBytes(600, 50));
    assert.deepEqual(placed.placed.map((p) => p.peerId), ["holder"]);
    await stop(before, db1);

    const db2 = await open();
    const after = ownerService(
      net,
      owner,
      new SqlitePeerStandingStore(db2),
      config,
    );
    // 900 bytes, and the 600 of ours it holds are still unproven:
    // 900 > 500 (a forgetful owner would count 900 - 600 = 300).
    const env = envelopeFor(testBytes(900, 51));
    const refused = await holder.dht.replicate("owner", env);
    assert.equal(refused.errorCode, "DEFICIT_EXCEEDED");
    holder.attestBehaviour = undefined;
    await after.repairSweep();
    assert.equal((await holder.dht.replicate("owner", env)).accepted, true);
    const stored = await new SqlitePeerStandingStore(db2).load();
    assert.deepEqual(stored.pending, []);
    assert.deepEqual(stored.proven, ["holder"]);
    await stop(after, db2);
  });
});

Deno.test("a ban that ended while the node was down is over; one that ended long ago is forgotten, so a new lie starts the count again", async () => {
  await withDbFile(async (open) => {
    const net = new MiniNetwork();
    const owner = net.add("owner", "10.99.0.1");
    const dropper = net.add("dropper", "10.0.60.1", { drop: true });
    net.addMany(26);
    await owner.ledger.recordTheyStoreForUs("dropper", 1);
    let db = await open();
    let service = ownerService(net, owner, new SqlitePeerStandingStore(db));
    await service.putTessera(testBytes(4000, 5));
    await stop(service, db);

    // Down for the whole ban: back, the liar's push is taken again, but
    // the lie is still on record (a repeat doubles the ban). A push no
    // larger than a probe, so the owner does not probe it (probe.ts).
    await net.clock.advance(90 * DAY);
    db = await open();
    service = ownerService(net, owner, new SqlitePeerStandingStore(db));
    const ack = await dropper.dht.replicate(
      "owner",
      envelopeFor(testBytes(64, 8)),
    );
    assert.equal(ack.accepted, true);
    assert.deepEqual(
      (await new SqlitePeerStandingStore(db).load()).liars.map((l) => l.lies),
      [1],
    );
    await stop(service, db);

    // 90 more intervals after the ban's end: forgotten on load.
    await net.clock.advance(90 * DAY + 1);
    db = await open();
    service = ownerService(net, owner, new SqlitePeerStandingStore(db));
    await service.loadStanding();
    assert.deepEqual((await new SqlitePeerStandingStore(db).load()).liars, []);
    const again = await service.putTessera(testBytes(4000, 9));
    assert.deepEqual(
      again.failures.filter((f) => f.peerId === "dropper").map((f) => f.code),
      ["NOT_STORED"],
    );
    assert.deepEqual((await new SqlitePeerStandingStore(db).load()).liars, [
      { peerId: "dropper", lies: 1, until: net.clock.now() + 90 * DAY },
    ]);
    await stop(service, db);
  });
});

Deno.test("a store whose writes fail leaves placement working, keeps the memory for the running service and logs each loss with the peer", async () => {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (r) => void records.push(r) },
    loggers: [
      { category: ["tesseras"], lowestLevel: "warning", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    await withDbFile(async (open) => {
      const net = new MiniNetwork();
      const owner = net.add("owner", "10.99.0.1");
      net.add("dropper", "10.0.60.1", { drop: true });
      net.addMany(26);
      await owner.ledger.recordTheyStoreForUs("dropper", 1);
      const db = await open();
      const service = ownerService(
        net,
        owner,
        new SqlitePeerStandingStore(db),
      );
      await service.loadStanding();
      // The disk goes away under the running node.
      db.close();
      const first = await service.putTessera(testBytes(4000, 5));
      assert.equal(new Set(first.placed.map((p) => p.index)).size, 24);
      assert.deepEqual(first.unplaced, []);
      assert.deepEqual(
        first.failures.filter((f) => f.peerId === "dropper").map((f) => f.code),
        ["NOT_STORED"],
      );
      const bannedAt = net.clock.now();
      // The running service still remembers: the liar is not tried.
      const pushes = net.traffic.replicate;
      const second = await service.putTessera(testBytes(4000, 6));
      assert.deepEqual(second.failures, []);
      assert.equal(net.traffic.replicate - pushes, 24);
      await service.flushStanding();
      const lost = records.filter((r) =>
        r.level === "warning" && r.properties.peer === "dropper"
      ).map((r) => r.properties.lost);
      assert.ok(
        lost.includes(
          `its lie (number 1, banned until ${
            new Date(bannedAt + 90 * DAY).toISOString()
          })`,
        ),
        `logged: ${JSON.stringify(lost)}`,
      );
      // Every acknowledgement's write failed and was reported too: 24
      // shards by fair peers in each put, and the liar's one.
      const all = records.filter((r) =>
        r.level === "warning" &&
        String(r.rawMessage).startsWith("could not persist")
      );
      assert.equal(
        all.filter((r) => String(r.properties.lost).includes("unproven"))
          .length,
        49,
      );
    });
  } finally {
    await reset();
  }
});

Deno.test("a push that arrives while the standing loads is judged by what was loaded", async () => {
  await withDbFile(async (open) => {
    const net = new MiniNetwork();
    const owner = net.add("owner", "10.99.0.1");
    const liar = net.add("liar", "10.0.60.1");
    const db = await open();
    const sqlite = new SqlitePeerStandingStore(db);
    await sqlite.save({
      kind: "lied",
      liar: { peerId: "liar", lies: 1, until: net.clock.now() + DAY },
    });
    const gate = Promise.withResolvers<void>();
    let loads = 0;
    const slow: PeerStandingStore = {
      load: async (options) => {
        loads++;
        await gate.promise;
        return await sqlite.load(options);
      },
      save: (change, options) => sqlite.save(change, options),
    };
    ownerService(net, owner, slow);
    const pending = liar.dht.replicate("owner", envelopeFor(testBytes(100)));
    const twice = liar.dht.replicate("owner", envelopeFor(testBytes(90)));
    await new Promise((r) => setTimeout(r, 5));
    gate.resolve();
    const ack = await pending;
    assert.equal(ack.errorCode, "DEFICIT_EXCEEDED");
    assert.match(ack.reason!, /failed to prove/);
    assert.equal((await twice).errorCode, "DEFICIT_EXCEEDED");
    assert.equal(loads, 1);
    db.close();
  });
});

Deno.test("a load that fails is tried again by the next call, and the operation waiting on it fails with its error", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  const sender = net.add("sender", "10.0.1.1");
  let loads = 0;
  const empty: PeerStandingSnapshot = {
    refusals: [],
    liars: [],
    proven: [],
    pending: [],
  };
  const flaky: PeerStandingStore = {
    load: () => {
      loads++;
      return loads === 1
        ? Promise.reject(new TesserasError("STORAGE_ERROR", "disk busy"))
        : Promise.resolve(empty);
    },
    save: () => Promise.resolve(),
  };
  ownerService(net, owner, flaky);
  await assert.rejects(
    sender.dht.replicate("owner", envelopeFor(testBytes(100))),
    /disk busy/,
  );
  const ack = await sender.dht.replicate("owner", envelopeFor(testBytes(100)));
  assert.equal(ack.accepted, true);
  assert.equal(loads, 2);
});

Deno.test("PeerStanding writes each change through, in order, only when something changed", async () => {
  const saved: PeerStandingChange[] = [];
  const store: PeerStandingStore = {
    load: () => Promise.reject(new Error("not used")),
    save: async (change) => {
      // Slow writes: order must still hold.
      await new Promise((r) => setTimeout(r, 1));
      saved.push(change);
    },
  };
  const s = new PeerStanding(DAY, { store });
  s.refused("a", { code: "INSUFFICIENT_SPACE", size: 10, at: 0, credit: 0 });
  s.refused("a", { code: "NOT_STORED", size: 10, at: 0, credit: 0 }); // ignored
  s.accepted("a");
  s.accepted("a"); // nothing to forget
  s.placed("a", "t/1", 10);
  s.settled("a", "t/1");
  s.settled("a", "t/1"); // already settled
  s.proven("b");
  s.proven("b"); // already proven
  s.lied("b", 5);
  await s.flush();
  assert.deepEqual(saved, [
    {
      kind: "refused",
      refusal: {
        peerId: "a",
        code: "INSUFFICIENT_SPACE",
        strikes: 1,
        until: DAY,
        size: 10,
        credit: 0,
      },
    },
    { kind: "accepted", peerId: "a" },
    { kind: "placed", pending: { peerId: "a", key: "t/1", size: 10 } },
    { kind: "settled", peerId: "a", key: "t/1" },
    { kind: "proven", peerId: "b" },
    { kind: "lied", liar: { peerId: "b", lies: 1, until: 5 + 90 * DAY } },
  ]);
});

Deno.test("PeerStanding restored from the database answers as the one that wrote it", async () => {
  await withDbFile(async (open) => {
    const db1 = await open();
    const a = new PeerStanding(DAY, {
      store: new SqlitePeerStandingStore(db1),
    });
    a.refused("deficit", {
      code: "DEFICIT_EXCEEDED",
      size: 100,
      at: 0,
      credit: 40,
    });
    a.refused("space", {
      code: "INSUFFICIENT_SPACE",
      size: 100,
      at: 0,
      credit: 0,
    });
    a.refused("space", {
      code: "INSUFFICIENT_SPACE",
      size: 80,
      at: 10,
      credit: 0,
    });
    a.lied("liar", 0);
    a.lied("liar", 1);
    a.proven("good");
    a.placed("good", "t/0", 300);
    a.placed("good", "t/1", 200);
    a.settled("good", "t/0");
    await a.flush();
    db1.close();
    const db2 = await open();
    const b = new PeerStanding(DAY);
    b.restore(await new SqlitePeerStandingStore(db2).load());
    for (const s of [a, b]) {
      assert.equal(
        s.avoid("deficit", { size: 100, at: DAY, credit: 40 }),
        "backoff",
      );
      assert.equal(
        s.avoid("deficit", { size: 100, at: DAY, credit: 140 }),
        null,
      );
      assert.equal(
        s.avoid("space", { size: 80, at: DAY, credit: 0 }),
        "backoff",
      );
      assert.equal(s.avoid("space", { size: 79, at: DAY, credit: 0 }), null);
      assert.equal(s.withholds("space", 10 + 2 * DAY - 1), true);
      assert.equal(s.withholds("space", 10 + 2 * DAY), false);
      assert.equal(s.lies("liar"), 2);
      assert.equal(s.distrusted("liar", 1 + 180 * DAY - 1), true);
      assert.equal(s.distrusted("liar", 1 + 180 * DAY), false);
      assert.equal(s.isProven("good"), true);
      assert.equal(s.pendingBytes("good"), 200);
      assert.equal(s.empty, false);
    }
    db2.close();
  });
});

Deno.test("standing: fractional clock times are stored as whole ms, rounded up, and a ban past the safe range is capped", async () => {
  await withDbFile(async (open) => {
    const db = await open();
    const store = new SqlitePeerStandingStore(db);
    const standing = new PeerStanding(DAY, { store });
    const at = 1_700_000_000_000.25;
    standing.lied("fractional", at);
    for (let i = 0; i < 40; i++) standing.lied("incorrigible", at);
    await standing.flush();
    const { liars } = await store.load();
    assert.deepEqual(liars, [
      { peerId: "fractional", lies: 1, until: Math.ceil(at + 90 * DAY) },
      {
        peerId: "incorrigible",
        lies: 40,
        until: Number.MAX_SAFE_INTEGER,
      },
    ]);
  });
});

Deno.test("standing: restoring a memory that already changed is refused (it could bring back what it ended)", () => {
  const store: PeerStandingStore = {
    load: () =>
      Promise.resolve({ refusals: [], liars: [], proven: [], pending: [] }),
    save: () => Promise.resolve(),
  };
  const standing = new PeerStanding(DAY, { store });
  standing.restore({ refusals: [], liars: [], proven: ["p"], pending: [] });
  assert.equal(standing.isProven("p"), true);
  standing.lied("p", 0);
  assert.throws(
    () =>
      standing.restore({ refusals: [], liars: [], proven: ["p"], pending: [] }),
    (e) => e instanceof TesserasError && e.code === "INTERNAL",
  );
  assert.equal(standing.isProven("p"), false);
});
