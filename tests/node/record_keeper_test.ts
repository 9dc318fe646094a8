/**
 * Catalogue records outlive kad-dht's 48 h without their owner: keepers
 * (real files on disk, real signatures) republish them; the DHT is a fake
 * at the port boundary that forgets a record 48 h after it was last put,
 * as kad-dht's GET_VALUE handler does, on a fake clock.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { toHex } from "../../lib/core/mod.ts";
import { derivePhraseKeys, signRecord } from "../../lib/crypto/mod.ts";
import { catalogueRecordRules } from "../../lib/node/network_catalogue.ts";
import {
  FileRecordShelf,
  RecordKeeper,
  type RecordPublisher,
} from "../../lib/node/record_keeper.ts";

const HOUR = 60 * 60 * 1000;
const RECORD_VALIDITY = 48 * HOUR;
const owner = await derivePhraseKeys(new Uint8Array(32).fill(7));
const other = await derivePhraseKeys(new Uint8Array(32).fill(8));

class Clock {
  t = Date.UTC(2026, 0, 1);
  readonly now = () => this.t;
}

/** kad-dht as the keepers see it: a put reaches every other keeper. */
class FakeDht {
  readonly #stored = new Map<string, { value: Uint8Array; at: number }>();
  readonly keepers: RecordKeeper[] = [];
  puts = 0;
  constructor(readonly clock: Clock) {}

  async put(key: Uint8Array, value: Uint8Array, from?: RecordKeeper) {
    this.puts++;
    let took = 0;
    for (const k of this.keepers) {
      if (k === from) continue;
      await k.offer(key, value).then(() => took++, () => {});
    }
    this.#stored.set(toHex(key), { value, at: this.clock.t });
    return took;
  }

  get(key: Uint8Array): Uint8Array | null {
    const kept = this.#stored.get(toHex(key));
    if (!kept || this.clock.t - kept.at > RECORD_VALIDITY) return null;
    return kept.value;
  }

  as(keeper: RecordKeeper): RecordPublisher {
    return { put: (key, value) => this.put(key, value, keeper) };
  }
}

const record = (
  clock: Clock,
  sequence: number,
  catalogueId = "cd".repeat(32),
  signer = owner.catalogueSigner,
) => signRecord({ sequence, timestamp: clock.t, catalogueId }, signer);

async function withKeepers(
  n: number,
  fn: (
    ctx: {
      clock: Clock;
      dht: FakeDht;
      dirs: string[];
      keepers: RecordKeeper[];
    },
  ) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "tesseras-keeper-" });
  try {
    const clock = new Clock();
    const dht = new FakeDht(clock);
    const dirs = Array.from({ length: n }, (_, i) => join(root, `k${i}`));
    for (const dir of dirs) {
      dht.keepers.push(
        await RecordKeeper.open(new FileRecordShelf(dir), {
          now: clock.now,
          jitter: 0,
        }),
      );
    }
    await fn({ clock, dht, dirs, keepers: dht.keepers });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a catalogue record stays findable for ten days after its owner is gone", async () => {
  await withKeepers(3, async ({ clock, dht, keepers }) => {
    const r1 = await record(clock, 1);
    // The owner puts its record once and is never heard of again.
    assert.equal(await dht.put(owner.recordKey, r1), 3);
    dht.puts = 0;
    for (let hour = 1; hour <= 240; hour++) {
      clock.t += HOUR;
      for (const k of keepers) await k.republishDue(dht.as(k));
      assert.deepEqual(dht.get(owner.recordKey), r1, `hour ${hour}`);
    }
    // One keeper republishes per 12 h; the others heard it and wait.
    assert.equal(dht.puts, 240 / 12);
  });
});

Deno.test("without keepers republishing, the record is gone after 48 h", async () => {
  await withKeepers(3, async ({ clock, dht }) => {
    await dht.put(owner.recordKey, await record(clock, 1));
    clock.t += RECORD_VALIDITY - HOUR;
    assert.notEqual(dht.get(owner.recordKey), null);
    clock.t += 2 * HOUR;
    assert.equal(dht.get(owner.recordKey), null);
  });
});

Deno.test("a restarted keeper still has the record and puts it again at once", async () => {
  await withKeepers(1, async ({ clock, dht, dirs }) => {
    const r1 = await record(clock, 1);
    await dht.put(owner.recordKey, r1);
    clock.t += 5 * HOUR;
    const reopened = await RecordKeeper.open(new FileRecordShelf(dirs[0]), {
      now: clock.now,
    });
    assert.equal(reopened.size, 1);
    assert.deepEqual(reopened.kept(owner.recordKey)?.bytes, r1);
    assert.equal(await reopened.republishDue(dht.as(reopened)), 1);
    assert.equal(await reopened.republishDue(dht.as(reopened)), 0);
  });
});

Deno.test("an older record never replaces a newer one, nor does a fork", async () => {
  await withKeepers(1, async ({ clock, keepers: [keeper], dirs }) => {
    const r1 = await record(clock, 1);
    clock.t += HOUR;
    const r2 = await record(clock, 2, "ef".repeat(32));
    await keeper.offer(owner.recordKey, r2);
    await assert.rejects(
      () => keeper.offer(owner.recordKey, r1),
      /older than the kept 2/,
    );
    const fork = await record(clock, 2, "ab".repeat(32));
    await assert.rejects(
      () => keeper.offer(owner.recordKey, fork),
      /another record already has sequence 2/,
    );
    // The DHT's validator refuses the replay too, so kad-dht keeps r2.
    const rules = catalogueRecordRules(keeper);
    await assert.rejects(() => rules.validate(owner.recordKey, r1));
    await rules.validate(owner.recordKey, r2);
    const reopened = await RecordKeeper.open(new FileRecordShelf(dirs[0]), {
      now: clock.now,
    });
    assert.equal(reopened.kept(owner.recordKey)?.sequence, 2);
    clock.t += HOUR;
    const r3 = await record(clock, 3);
    await keeper.offer(owner.recordKey, r3);
    assert.equal(keeper.kept(owner.recordKey)?.sequence, 3);
  });
});

Deno.test("forged records are refused and a full keeper takes no new keys", async () => {
  const clock = new Clock();
  const root = await Deno.makeTempDir({ prefix: "tesseras-keeper-full-" });
  {
    try {
      const keeper = await RecordKeeper.open(new FileRecordShelf(root), {
        now: clock.now,
        maxRecords: 1,
      });
      const forged = await record(clock, 1);
      forged[100] ^= 1;
      await assert.rejects(
        () => keeper.offer(owner.recordKey, forged),
        /signature does not verify/,
      );
      // Signed by another phrase's key but offered under ours.
      const foreign = await record(
        clock,
        1,
        "cd".repeat(32),
        other.catalogueSigner,
      );
      await assert.rejects(() => keeper.offer(owner.recordKey, foreign));
      await keeper.offer(owner.recordKey, await record(clock, 1));
      await assert.rejects(
        () => keeper.offer(other.recordKey, foreign),
        (e: Error & { code?: string }) => e.code === "INSUFFICIENT_SPACE",
      );
      await keeper.offer(owner.recordKey, await record(clock, 2));
      assert.equal(keeper.size, 1);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});
