import assert from "node:assert/strict";
import type { PeerInfo } from "../../lib/core/mod.ts";
import { planTessera } from "../../lib/codec/mod.ts";
import {
  checkPlacement,
  placementTolerance,
  planPlacement,
  selectDiversePeers,
  subnetKey,
  subnetOf,
  SubnetTally,
} from "../../lib/replication/mod.ts";

const MIB = 1024 * 1024;
const small = planTessera(1000);
const medium = planTessera(8 * MIB);
const large = planTessera(300 * MIB);

const peer = (id: string, ip?: string): PeerInfo => ({
  id,
  addresses: [],
  ...(ip ? { ip } : {}),
});
/** `n` peers, each on its own /24. */
const peers = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => peer(`p${i}`, `10.${i >> 8}.${i & 255}.1`),
  );

Deno.test("subnetKey: IPv4 /24, IPv6 /48, mapped, invalid", () => {
  assert.equal(subnetKey("192.168.1.20"), "v4:192.168.1");
  assert.equal(subnetKey("192.168.1.200"), "v4:192.168.1");
  assert.equal(subnetKey("2001:db8:1::5"), "v6:2001:db8:1");
  assert.equal(subnetKey("2001:0db8:0001:ffff::1"), "v6:2001:db8:1");
  assert.equal(subnetKey("[2001:db8:2:0:0:0:0:1]"), "v6:2001:db8:2");
  assert.equal(subnetKey("fe80::1%eth0"), "v6:fe80:0:0");
  assert.equal(subnetKey("::ffff:10.1.2.3"), "v4:10.1.2");
  assert.equal(subnetKey("::"), "v6:0:0:0");
  assert.equal(subnetKey("256.1.1.1"), undefined);
  assert.equal(subnetKey("1.2.3"), undefined);
  assert.equal(subnetKey("1::2::3"), undefined);
  assert.equal(subnetKey("hello"), undefined);
  assert.equal(subnetKey(undefined), undefined);
  assert.equal(subnetOf(peer("x")), "peer:x");
  assert.equal(subnetOf(peer("x", "10.0.0.9")), "v4:10.0.0");
});

Deno.test("selectDiversePeers keeps at most maxPerSubnet per /24 in order", () => {
  const cands = [
    peer("a", "10.0.0.1"),
    peer("b", "10.0.0.2"),
    peer("c", "10.0.0.3"),
    peer("d", "10.0.1.1"),
    peer("a", "10.0.0.1"),
    peer("e"),
    peer("f"),
    peer("g", "2001:db8:1::1"),
    peer("h", "2001:db8:1:ffff::1"),
    peer("i", "2001:db8:1:0::2"),
  ];
  assert.deepEqual(
    selectDiversePeers(cands, { maxPerSubnet: 2 }).map((p) => p.id),
    ["a", "b", "d", "e", "f", "g", "h"],
  );
  assert.deepEqual(
    selectDiversePeers(cands, { maxPerSubnet: 1 }).map((p) => p.id),
    ["a", "d", "e", "f", "g"],
  );
  // Existing holders count against the cap and are not re-picked.
  assert.deepEqual(
    selectDiversePeers(cands, {
      maxPerSubnet: 2,
      existing: [peer("z", "10.0.0.50")],
      exclude: ["e"],
      limit: 3,
    }).map((p) => p.id),
    ["a", "d", "f"],
  );
});

Deno.test("planPlacement: Small gets 7 whole copies on 7 distinct diverse peers", () => {
  const cands = [
    peer("x1", "10.9.9.1"),
    peer("x2", "10.9.9.2"),
    peer("x3", "10.9.9.3"),
    ...peers(10),
  ];
  const p = planPlacement(small, cands, { maxPerSubnet: 2, smallReplicas: 7 });
  assert.deepEqual(p.peers.map((x) => x.id), [
    "x1",
    "x2",
    "p0",
    "p1",
    "p2",
    "p3",
    "p4",
  ]);
  assert.deepEqual(p.assignments.map((a) => a.index), [0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(p.unplaced, []);
  const few = planPlacement(small, peers(4), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.equal(few.assignments.length, 4);
  assert.deepEqual(few.unplaced, [0, 0, 0]);
});

Deno.test("planPlacement: Medium one shard per peer with enough peers, round-robin otherwise", () => {
  const many = planPlacement(medium, peers(30), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.equal(many.peers.length, 24);
  assert.equal(new Set(many.assignments.map((a) => a.peer.id)).size, 24);
  assert.deepEqual(many.assignments.map((a) => a.index), [...Array(24).keys()]);
  const seven = planPlacement(medium, peers(7), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  const loads = new Map<string, number>();
  for (const a of seven.assignments) {
    loads.set(a.peer.id, (loads.get(a.peer.id) ?? 0) + 1);
  }
  assert.deepEqual([...loads.values()], [4, 4, 4, 3, 3, 3, 3]);
  const none = planPlacement(medium, [], { maxPerSubnet: 2, smallReplicas: 7 });
  assert.equal(none.unplaced.length, 24);
  const some = planPlacement(medium, peers(30), {
    maxPerSubnet: 2,
    smallReplicas: 7,
    indices: [3, 17],
    exclude: ["p0"],
  });
  assert.deepEqual(some.assignments.map((a) => [a.index, a.peer.id]), [[
    3,
    "p1",
  ], [17, "p2"]]);
});

/** Every way of removing `k` of the placement's peers keeps >= dataShards shards. */
function survivesAll(
  plan: typeof medium,
  assignments: readonly { index: number; peer: PeerInfo }[],
  k: number,
): boolean {
  const ids = [...new Set(assignments.map((a) => a.peer.id))];
  const combos = function* (
    start: number,
    left: number,
    acc: string[],
  ): Generator<string[]> {
    if (left === 0) return yield acc;
    for (let i = start; i <= ids.length - left; i++) {
      yield* combos(i + 1, left - 1, [...acc, ids[i]]);
    }
  };
  for (const gone of combos(0, Math.min(k, ids.length), [])) {
    const lost = new Set(gone);
    const left = new Set(
      assignments.filter((a) => !lost.has(a.peer.id)).map((a) => a.index),
    );
    if (left.size < plan.dataShards) return false;
  }
  return true;
}

Deno.test("placement survives any 2 peer losses from 7 peers up, and 8/24 with enough peers", () => {
  for (const plan of [medium, large]) {
    for (let n = 7; n <= 12; n++) {
      const p = planPlacement(plan, peers(n), {
        maxPerSubnet: 2,
        smallReplicas: 7,
      });
      assert.ok(
        survivesAll(plan, p.assignments, 2),
        `${plan.tier} on ${n} peers`,
      );
      const tol = placementTolerance(
        plan,
        p.assignments.map((a) => ({ index: a.index, peerId: a.peer.id })),
      );
      assert.ok(tol >= 2, `${plan.tier} on ${n}: tolerance ${tol}`);
    }
  }
  const m = planPlacement(medium, peers(24), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.equal(
    placementTolerance(
      medium,
      m.assignments.map((a) => ({ index: a.index, peerId: a.peer.id })),
    ),
    8,
  );
  const l = planPlacement(large, peers(80), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.equal(
    placementTolerance(
      large,
      l.assignments.map((a) => ({ index: a.index, peerId: a.peer.id })),
    ),
    24,
  );
  // The source's 7-peer spread of Medium survives 2, not 3.
  const s7 = planPlacement(medium, peers(7), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.equal(
    placementTolerance(
      medium,
      s7.assignments.map((a) => ({ index: a.index, peerId: a.peer.id })),
    ),
    2,
  );
  assert.equal(survivesAll(medium, s7.assignments, 3), false);
});

Deno.test("placementTolerance: Small copies, unrecoverable, duplicates", () => {
  assert.equal(
    placementTolerance(
      small,
      ["a", "b", "c"].map((peerId) => ({ index: 0, peerId })),
    ),
    2,
  );
  assert.equal(placementTolerance(small, []), -1);
  const holders = Array.from(
    { length: 15 },
    (_, i) => ({ index: i, peerId: `p${i}` }),
  );
  assert.equal(placementTolerance(medium, holders), -1);
  holders.push({ index: 15, peerId: "p15" }, { index: 15, peerId: "q15" });
  assert.equal(placementTolerance(medium, holders), 0);
});

Deno.test("checkPlacement reports subnet cap, missing shards, low tolerance, bad indices", () => {
  const good = planPlacement(medium, peers(24), {
    maxPerSubnet: 2,
    smallReplicas: 7,
  });
  assert.deepEqual(
    checkPlacement(medium, good.assignments, { maxPerSubnet: 2 }),
    [],
  );
  const bad = [
    ...Array.from(
      { length: 20 },
      (_, i) => ({ index: i, peer: peer(`s${i}`, `10.1.1.${i}`) }),
    ),
    { index: 99, peer: peer("z") },
  ];
  assert.deepEqual(
    checkPlacement(medium, bad, { maxPerSubnet: 2 }),
    [
      {
        kind: "subnet_cap",
        subnet: "v4:10.1.1",
        peers: Array.from({ length: 20 }, (_, i) => `s${i}`).sort(),
      },
      { kind: "missing_shards", indices: [20, 21, 22, 23] },
      { kind: "invalid_index", index: 99 },
    ],
  );
  // 20 distinct shards on 20 peers: losing any 4 leaves 16.
  assert.deepEqual(
    checkPlacement(medium, bad.slice(0, 20), {
      maxPerSubnet: 20,
      minTolerance: 5,
    }),
    [
      { kind: "missing_shards", indices: [20, 21, 22, 23] },
      { kind: "low_tolerance", tolerance: 4, required: 5 },
    ],
  );
  const smallViolations = checkPlacement(
    small,
    [{ index: 0, peer: peer("a") }],
    {
      maxPerSubnet: 2,
    },
  );
  assert.deepEqual(smallViolations, [{
    kind: "low_tolerance",
    tolerance: 0,
    required: 2,
  }]);
  assert.deepEqual(
    checkPlacement(small, [{ index: 0, peer: peer("a") }], {
      maxPerSubnet: 2,
      minTolerance: 0,
    }),
    [],
  );
});

Deno.test("placementTolerance: one shard per peer is the shards beyond the data count", () => {
  const one = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ index: i, peerId: `p${i}` }));
  assert.equal(placementTolerance(large, one(72)), 24);
  assert.equal(placementTolerance(large, one(60)), 12);
  assert.equal(placementTolerance(large, one(48)), 0);
  assert.equal(placementTolerance(large, one(47)), -1);
  // One peer holding two shards: losing it costs two.
  assert.equal(
    placementTolerance(large, [...one(71), { index: 71, peerId: "p0" }]),
    23,
  );
});

Deno.test("SubnetTally counts distinct peers per subnet once each", () => {
  const tally = new SubnetTally(2, [
    { id: "a", ip: "10.0.0.1" },
    { id: "a", ip: "10.0.0.1" }, // the same peer twice counts once
  ]);
  assert.equal(tally.fits({ id: "x", ip: "10.0.0.9" }), true);
  tally.add({ id: "b", ip: "10.0.0.2" });
  assert.equal(tally.fits({ id: "x", ip: "10.0.0.9" }), false);
  assert.equal(tally.fits({ id: "y", ip: "10.0.1.9" }), true);
  // Unknown IPs are each their own subnet.
  tally.add({ id: "u" });
  assert.equal(tally.fits({ id: "v" }), true);
});

Deno.test("selectDiversePeers: an excluded holder does not count against the cap", () => {
  const picked = selectDiversePeers([
    { id: "b", addresses: [], ip: "10.0.0.2" },
    { id: "c", addresses: [], ip: "10.0.0.3" },
  ], {
    maxPerSubnet: 1,
    existing: [{ id: "a", ip: "10.0.0.1" }],
    exclude: ["a"],
  });
  assert.deepEqual(picked.map((p) => p.id), ["b"]);
});
