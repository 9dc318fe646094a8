import assert from "node:assert/strict";
import type {
  DhtPort,
  FragmentEnvelope,
  PeerInfo,
  ReplicateAck,
} from "../../lib/core/mod.ts";
import { OfferLog } from "../../sim/offers.ts";

const T = "ab".repeat(32);
const peer = (id: string, ip: string): PeerInfo => ({ id, addresses: [], ip });

/** A network port at its boundary: fixed answers, refusals by peer. */
function fakeDht(refusing: Set<string>, down: Set<string>): DhtPort {
  return {
    selfId: "me",
    findClosestPeers: () =>
      Promise.resolve([
        peer("a", "10.0.1.1"),
        peer("b", "10.0.1.2"),
        peer("c", "10.0.2.1"),
        peer("d", "10.0.3.1"),
        peer("e", "10.0.4.1"),
      ]),
    replicate: (p: string): Promise<ReplicateAck> =>
      down.has(p) ? Promise.reject(new Error("unreachable")) : Promise.resolve(
        refusing.has(p)
          ? { accepted: false, heldIndices: [], errorCode: "DEFICIT_EXCEEDED" }
          : { accepted: true, heldIndices: [0] },
      ),
    requestAttestation: () => Promise.reject(new Error("unused")),
    ping: () => Promise.resolve(1),
    fetch: () => Promise.reject(new Error("unused")),
  };
}

const envelope = (index: number) =>
  ({
    fragment: { tesseraId: T, index, shardCount: 24, checksum: "00" },
  }) as unknown as FragmentEnvelope;

Deno.test("offer log: room is the /24s of the peers offered that had room", async () => {
  const log = new OfferLog();
  const dht = log.wrap(fakeDht(new Set(["c"]), new Set(["d"])));
  assert.equal(dht.selfId, "me");
  assert.equal(
    log.roomFor(T, { isLive: () => true }),
    0,
    "nothing offered yet",
  );
  await dht.findClosestPeers(T, 20);
  // Offered, nobody asked yet: four /24s (a and b share one).
  assert.equal(log.roomFor(T, { isLive: () => true }), 4);
  for (const [i, p] of ["a", "c", "d", "e"].entries()) {
    await dht.replicate(p, envelope(i)).catch(() => {});
  }
  // c refused, d could not be reached: their /24s had no room.
  assert.equal(log.roomFor(T, { isLive: () => true }), 2);
  // A peer that took a shard after refusing one had room.
  const log2 = new OfferLog();
  const refusing = new Set(["c"]);
  const dht2 = log2.wrap(fakeDht(refusing, new Set()));
  await dht2.findClosestPeers(T, 20);
  await dht2.replicate("c", envelope(0));
  refusing.clear();
  await dht2.replicate("c", envelope(1));
  assert.equal(log2.roomFor(T, { isLive: () => true }), 4);
  // Peers gone since offer no room; the true address wins over the DHT's.
  assert.equal(log2.roomFor(T, { isLive: (p) => p !== "e" }), 3);
  assert.equal(
    log2.roomFor(T, { isLive: () => true, ipOf: () => "10.9.9.9" }),
    1,
  );
  // Another tessera's offers are its own.
  assert.equal(log2.roomFor("cd".repeat(32), { isLive: () => true }), 0);
});
