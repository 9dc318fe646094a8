import assert from "node:assert/strict";
import { multiaddr } from "@multiformats/multiaddr";
import {
  classifyReachability,
  isDialableFrom,
  isHeldRelayAddress,
  Libp2pDhtPort,
  type OwnAddress,
  RelayBudget,
  relayLimits,
  type TesserasNode,
  usableAddresses,
} from "../../lib/net/mod.ts";
import { startNode, stopAll, waitFor } from "./helpers.ts";

const NOW = 1_000_000;

function own(
  addr: string,
  fields: Partial<Omit<OwnAddress, "multiaddr">> = {},
): OwnAddress {
  return {
    multiaddr: multiaddr(addr),
    verified: false,
    type: "transport",
    expires: 0,
    ...fields,
  };
}

Deno.test("reachability: a verified public address is public", () => {
  const got = classifyReachability([
    own("/ip4/10.0.0.2/tcp/4001", { verified: true }),
    own("/ip4/11.0.1.2/tcp/4001", { verified: true, expires: NOW + 1 }),
  ], NOW);
  assert.equal(got, "public");
});

Deno.test("reachability: only LAN and loopback addresses is private", () => {
  const got = classifyReachability([
    own("/ip4/127.0.0.1/tcp/4001", { verified: true }),
    own("/ip4/10.0.0.2/tcp/4001", { verified: true }),
  ], NOW);
  assert.equal(got, "private");
});

Deno.test("reachability: a relay address does not make a node public", () => {
  const got = classifyReachability([
    own("/ip4/10.0.0.2/tcp/4001", { verified: true }),
    own("/ip4/11.0.1.2/tcp/4001/p2p/12D3KooWRelay/p2p-circuit", {
      verified: true,
    }),
  ], NOW);
  assert.equal(got, "private");
});

Deno.test("reachability: a public candidate not yet judged is unknown", () => {
  const mapped = own("/ip4/21.0.1.2/tcp/4001", { type: "ip-mapping" });
  assert.equal(classifyReachability([mapped], NOW), "unknown");
});

Deno.test("reachability: a failed dial-back within its TTL is private", () => {
  const failed = own("/ip4/11.0.1.2/tcp/4001", { expires: NOW + 60_000 });
  assert.equal(classifyReachability([failed], NOW), "private");
  // Once the verdict expires it is a candidate again.
  assert.equal(classifyReachability([failed], NOW + 60_001), "unknown");
});

Deno.test("reachability: a relay address a peer observed is no slot we hold", () => {
  const circuit = "/ip4/11.0.1.2/tcp/4001/p2p/12D3KooWRelay/p2p-circuit";
  const other = "/ip4/12.0.1.2/tcp/4001/p2p/12D3KooWOther/p2p-circuit";
  const held = own(circuit, { verified: false });
  // Identify reports the remote address of a relayed connection a peer
  // had with us: it outlives the relay and the reservation.
  const observed = own(other, { verified: true, type: "observed" });
  assert.equal(isHeldRelayAddress(held), true);
  assert.equal(isHeldRelayAddress(observed), false);
  assert.deepEqual(
    usableAddresses([held, observed]).map(String),
    [circuit],
  );
});

Deno.test("dialable: public, relay and own-LAN addresses; not another LAN", () => {
  const mine = [multiaddr("/ip4/10.1.1.2/tcp/4001")];
  const yes = [
    "/ip4/11.0.1.2/tcp/4001",
    "/ip4/11.0.1.2/tcp/4001/p2p/12D3KooWRelay/p2p-circuit",
    "/ip4/10.1.1.9/tcp/4001",
    "/memory/node-1",
  ];
  for (const a of yes) {
    assert.equal(isDialableFrom([multiaddr(a)], mine), true, a);
  }
  assert.equal(
    isDialableFrom([multiaddr("/ip4/10.2.1.2/tcp/4001")], mine),
    false,
  );
  assert.equal(
    isDialableFrom([multiaddr("/ip4/127.0.0.1/tcp/4001")], mine),
    false,
  );
  assert.equal(isDialableFrom([], mine), false);
});

Deno.test("relay budget: each end is charged the data limit; credit extends it", async () => {
  let now = 0;
  const credit = new Map([["partner", 64 << 20]]);
  const budget = new RelayBudget(
    relayLimits({ dataLimitBytes: 64 << 20, budgetBytesPerHour: 128 << 20 }),
    { credit: (p) => credit.get(p) ?? 0, now: () => now },
  );
  assert.equal(await budget.admit("a", "b"), true);
  assert.equal(await budget.admit("a", "c"), true);
  assert.equal(await budget.admit("a", "d"), false, "a spent its hour");
  assert.equal(await budget.admit("d", "b"), true);
  assert.equal(await budget.admit("e", "b"), false, "b spent its hour");
  for (const peer of ["x", "y", "z"]) {
    assert.equal(await budget.admit("partner", peer), true, peer);
  }
  assert.equal(await budget.admit("partner", "w"), false);
  now += 60 * 60 * 1000;
  assert.equal(await budget.admit("a", "d"), true, "a new hour");
  assert.deepEqual(budget.counts, { admitted: 7, refused: 3 });
});

async function relayTrio(limits = {}): Promise<TesserasNode[]> {
  const relay = await startNode(61, {
    nat: { relayServer: "on", relayLimits: limits, upnp: false },
  });
  const home = await startNode(62, {
    bootstrap: relay.multiaddrs(),
    nat: { relayReservations: 1 },
  });
  const other = await startNode(63, { nat: {} });
  return [relay, home, other];
}

Deno.test({
  name:
    "relay: a private node reserves a slot, advertises the circuit address, and is pinged through it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const nodes = await relayTrio();
    const [relay, home, other] = nodes;
    try {
      assert.equal(home.reachability().reachability, "private");
      await waitFor(
        () => home.reachability().relayAddresses.length > 0,
        "a relay reservation",
        20_000,
      );
      const circuit = home.reachability().relayAddresses[0];
      assert.ok(circuit.includes(`/p2p/${relay.peerId}/p2p-circuit`), circuit);
      assert.ok(home.reachability().addresses.includes(circuit));
      assert.equal(relay.reachability().relayReservations, 1);
      assert.equal(relay.reachability().relayServing, true);
      // Only the circuit address: the other node must go through the relay.
      await other.connect(circuit);
      // The relayed connection is limited, so libp2p opens another one for
      // the ping (a second circuit, or on loopback the LAN address), and
      // may lose a race with DCUtR's closing of the first: retry.
      const dht = new Libp2pDhtPort(other);
      await waitFor(
        () => dht.ping(home.peerId).then((rtt) => rtt >= 0, () => false),
        "a ping answered",
      );
      await waitFor(
        () => other.reachability().relayedConnections === 1,
        "a relayed connection",
      );
      assert.ok(relay.reachability().relayedAdmitted >= 1);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name:
    "relay: a private node wanting two slots holds them on two relays, and moves one when its relay stops",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const relayNat = { relayServer: "on" as const, upnp: false };
    const relays = await Promise.all(
      [64, 65, 66].map((n) => startNode(n, { nat: relayNat })),
    );
    // The third relay joins later: the slot moves to it.
    const [a, b, c] = relays;
    const home = await startNode(67, {
      bootstrap: [...a.multiaddrs(), ...b.multiaddrs()],
      nat: { relayReservations: 2 },
    });
    const nodes = [...relays, home];
    const relaysOf = () =>
      new Set(
        home.reachability().relayAddresses.map((r) =>
          /\/p2p\/([^/]+)\/p2p-circuit/.exec(r)?.[1]
        ),
      );
    try {
      // Both asked for at once: the second used to be dropped from the
      // relay transport's queue, unsettled, and never asked again.
      await waitFor(() => relaysOf().size === 2, "slots on two relays", 20_000);
      await home.connect(c.multiaddrs()[0]);
      await a.stop();
      await waitFor(
        () => {
          const held = relaysOf();
          return held.size === 2 && !held.has(a.peerId) && held.has(c.peerId);
        },
        "the slot on the stopped relay moved to the third",
        20_000,
      );
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test({
  name: "relay: a circuit beyond the peer's hourly budget is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const nodes = await relayTrio({
      dataLimitBytes: 1 << 20,
      budgetBytesPerHour: 1 << 20,
    });
    const [relay, home, other] = nodes;
    try {
      await waitFor(
        () => home.reachability().relayAddresses.length > 0,
        "a relay reservation",
        20_000,
      );
      const circuit = home.reachability().relayAddresses[0];
      await other.connect(circuit);
      for (const c of other.libp2p.getConnections(home.libp2p.peerId)) {
        await c.close();
      }
      await assert.rejects(other.connect(circuit), /UNREACHABLE|cannot/);
      assert.equal(relay.reachability().relayedRefused, 1);
    } finally {
      await stopAll(nodes);
    }
  },
});

Deno.test("a process with relay, reservation, UPnP and mDNS exits on its own after stop", async () => {
  const script = new URL("./fixtures/nat_start_stop.ts", import.meta.url);
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      config,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      script.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  try {
    let stoppedAt = 0;
    let output = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      output += decoder.decode(chunk);
      if (stoppedAt === 0 && output.includes("stopped\n")) {
        stoppedAt = performance.now();
      }
    }
    const status = await child.status;
    const lingered = performance.now() - stoppedAt;
    const stderr = decoder.decode(
      (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
    );
    assert.equal(status.code, 0, `child failed: ${stderr}`);
    assert.equal(output, "stopped\n");
    assert.ok(lingered < 3_000, `process lingered ${lingered} ms after stop`);
  } finally {
    clearTimeout(killer);
  }
});
