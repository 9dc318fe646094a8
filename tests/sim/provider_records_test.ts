import assert from "node:assert/strict";
import { MAX_HOLDER_RECORDS } from "../../lib/core/mod.ts";
import { ManualClock } from "../../lib/memory/mod.ts";
import { SimNetwork } from "../../sim/network.ts";
import {
  PROVIDER_VALIDITY_MS,
  ProviderRecords,
} from "../../sim/provider_records.ts";
import { SimRng } from "../../sim/rng.ts";

const ID = "7e".repeat(32);

Deno.test("sim provider records: refresh, expiry, and a bounded flood", () => {
  const records = new ProviderRecords();
  records.announce(ID, { node: 1, now: 0 });
  records.announce(ID, { node: 2, now: 0 });
  assert.deepEqual(records.find(ID, { now: 1 }), [1, 2]);
  // Node 1 refreshes; node 2 lets its record expire.
  records.announce(ID, { node: 1, now: PROVIDER_VALIDITY_MS - 1 });
  assert.deepEqual(records.find(ID, { now: PROVIDER_VALIDITY_MS }), [1]);
  assert.deepEqual(records.find(ID, { now: 1, limit: 0 }), []);
  // A flood of sybils fills the key to the bound and no further.
  for (let n = 100; n < 100 + 3 * MAX_HOLDER_RECORDS; n++) {
    records.announce(ID, { node: n, now: PROVIDER_VALIDITY_MS });
  }
  const found = records.find(ID, { now: PROVIDER_VALIDITY_MS + 1 });
  assert.equal(found.length, MAX_HOLDER_RECORDS);
  assert.equal(found[0], 1, "the honest holder kept its record");
  assert.equal(records.dropped, 2 * MAX_HOLDER_RECORDS + 1);
  // Once the flood expires, a new holder gets in.
  records.announce(ID, { node: 7, now: 3 * PROVIDER_VALIDITY_MS });
  assert.deepEqual(records.find(ID, { now: 3 * PROVIDER_VALIDITY_MS }), [7]);
});

Deno.test("sim DHT: a node announces only itself and never finds itself", async () => {
  const clock = new ManualClock(0);
  const net = new SimNetwork({
    clock,
    rng: new SimRng("holders"),
    lookup: "exact",
  });
  const [a, b, c] = [0, 1, 2].map(() => net.addNode({}));
  await net.dht(a).announceHolder!(ID);
  await net.dht(b).announceHolder!(ID);
  assert.deepEqual(
    (await net.dht(c).findHolders!(ID)).map((p) => p.id),
    [net.peerId(a), net.peerId(b)],
  );
  assert.deepEqual((await net.dht(a).findHolders!(ID)).map((p) => p.id), [
    net.peerId(b),
  ]);
  assert.deepEqual((await net.dht(a).findHolders!(ID, { limit: 1 })).length, 1);
  // Records are refreshed while their announcer is up (kad-dht's
  // reprovider), and expire the validity after it went down.
  assert.equal(net.dht(a).refreshesHolders, true);
  await clock.advance(PROVIDER_VALIDITY_MS + 1);
  assert.equal((await net.dht(c).findHolders!(ID)).length, 2);
  net.setOnline(a, false);
  await clock.advance(PROVIDER_VALIDITY_MS - 1);
  assert.equal((await net.dht(c).findHolders!(ID)).length, 2);
  await clock.advance(2);
  assert.deepEqual((await net.dht(c).findHolders!(ID)).map((p) => p.id), [
    net.peerId(b),
  ]);
  // A holder that no longer holds the tessera withdraws its record.
  await net.dht(b).withdrawHolder!(ID);
  assert.deepEqual(await net.dht(c).findHolders!(ID), []);
  // Back from an absence longer than the validity, its reprovider
  // publishes the record again: it is found without announcing anew.
  net.setOnline(a, true);
  assert.deepEqual((await net.dht(c).findHolders!(ID)).map((p) => p.id), [
    net.peerId(a),
  ]);
});
