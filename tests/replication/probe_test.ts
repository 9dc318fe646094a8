/**
 * The reciprocity probe (lib/replication/probe.ts): a node asked to take
 * a stranger's shard on its free credit first has the stranger store a
 * tiny shard of its own and prove it. A node that owns nothing, and so
 * never places, tells a dropping or refusing free rider from a fair peer
 * this way; without the probe it extended all three the same credit.
 */
import assert from "node:assert/strict";
import { TesserasError } from "../../lib/core/mod.ts";
import { MAX_PROBE_TRIES } from "../../lib/replication/standing.ts";
import { PROBE_BYTES } from "../../lib/replication/probe.ts";
import { envelopeFor, MiniNetwork, testBytes } from "./test_network.ts";

const DAY = 24 * 3_600_000;

Deno.test("a node that owns nothing probes a stranger before its credit: a dropper is refused and banned, a refuser gets no credit, a fair peer is taken and proven", async () => {
  const net = new MiniNetwork();
  const host = net.add("host", "10.99.0.1");
  const dropper = net.add("dropper", "10.0.60.1", { drop: true });
  const full = net.add("full", "10.0.61.1", { freeSpace: () => 0 });
  const fair = net.add("fair", "10.0.62.1");
  const env = (seed: number) => envelopeFor(testBytes(300, seed));

  const dropped = await dropper.dht.replicate("host", env(1));
  assert.equal(dropped.accepted, false);
  assert.equal(dropped.errorCode, "DEFICIT_EXCEEDED");
  assert.match(dropped.reason!, /failed to prove/);
  assert.deepEqual(await host.fragments.list(env(1).fragment.tesseraId), []);

  const refused = await full.dht.replicate("host", env(2));
  assert.equal(refused.errorCode, "DEFICIT_EXCEEDED");
  assert.match(refused.reason!, /refused to store for us/);

  const taken = await fair.dht.replicate("host", env(3));
  assert.equal(taken.accepted, true);
  // It keeps our probe, and we count it as stored for us.
  assert.equal(
    (await host.ledger.get("fair"))!.bytesTheyStoreForUs,
    PROBE_BYTES,
  );
  assert.equal(
    (await fair.ledger.get("host"))!.bytesStoredForThem,
    PROBE_BYTES,
  );
  // Proven once: its next push is not probed again.
  const pushes = net.traffic.replicate;
  assert.equal((await fair.dht.replicate("host", env(4))).accepted, true);
  assert.equal(net.traffic.replicate - pushes, 1);

  // The dropper stays banned for the ban's length.
  await net.clock.advance(30 * DAY);
  assert.equal((await dropper.dht.replicate("host", env(5))).accepted, false);
});

Deno.test("a push within what the sender provably stores for us is not probed", async () => {
  const net = new MiniNetwork();
  const host = net.add("host", "10.99.0.1");
  const partner = net.add("partner", "10.0.62.1", { drop: true });
  // It stores (proven) more for us than the shard: no free credit used.
  await host.ledger.recordTheyStoreForUs("partner", 10_000);
  const pushes = net.traffic.replicate;
  const ack = await partner.dht.replicate(
    "host",
    envelopeFor(testBytes(300, 9)),
  );
  assert.equal(ack.accepted, true);
  assert.equal(net.traffic.replicate - pushes, 1);
});

Deno.test("an unanswered probe leaves the benefit of the doubt; the sweeps probe again, a few times at most", async () => {
  const net = new MiniNetwork();
  const host = net.add("host", "10.99.0.1");
  const shy = net.add("shy", "10.0.63.1", { drop: true });
  const silent = () =>
    Promise.reject(new TesserasError("UNREACHABLE", "no answer"));
  shy.attestBehaviour = silent;
  shy.proveBehaviour = silent;
  const ack = await shy.dht.replicate("host", envelopeFor(testBytes(300, 11)));
  assert.equal(ack.accepted, true);
  // The first sweep probes it again, still unanswered; the next, answered:
  // it kept nothing, so it is a liar from then on.
  await host.service.repairSweep();
  shy.attestBehaviour = undefined;
  shy.proveBehaviour = undefined;
  await net.clock.advance(DAY);
  await host.service.repairSweep();
  const next = await shy.dht.replicate("host", envelopeFor(testBytes(300, 12)));
  assert.equal(next.accepted, false);
  assert.match(next.reason!, /failed to prove/);
  assert.ok(MAX_PROBE_TRIES >= 3);
});

Deno.test("a probe taken on the prober's credit is not worth a probe back: the probed peer's sweep probes nobody", async () => {
  const net = new MiniNetwork();
  net.add("host", "10.99.0.1");
  const fair = net.add("fair", "10.0.62.1");
  const pushes = net.traffic.replicate;
  assert.equal(
    (await fair.dht.replicate("host", envelopeFor(testBytes(300, 13))))
      .accepted,
    true,
  );
  // Our push and the host's probe of us, which we keep on the host's
  // credit: 64 B, no more than a probe's worth.
  assert.equal(net.traffic.replicate - pushes, 2);
  await fair.service.repairSweep();
  assert.equal(net.traffic.replicate - pushes, 2);
});
