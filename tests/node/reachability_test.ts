import assert from "node:assert/strict";
import { natFlagsOf } from "../../lib/node/cli/mod.ts";
import {
  DEFAULT_NAT_CONFIG,
  natConfig,
  natOptionsFor,
  reachabilityJson,
  reachabilityMetrics,
} from "../../lib/node/mod.ts";
import type { ReachabilityReport } from "../../lib/net/mod.ts";

const noEnv = () => undefined;

Deno.test("nat config: flags over environment over file over defaults", () => {
  assert.deepEqual(natConfig({}, noEnv), DEFAULT_NAT_CONFIG);
  const env = (name: string) =>
    ({ TESSERAS_UPNP: "0", TESSERAS_RELAY: "on" } as Record<string, string>)[
      name
    ];
  const file = { mdns: false, relay: "off" as const, relayReservations: 4 };
  const got = natConfig({ relay: "auto" }, env, file);
  assert.equal(got.upnp, false);
  assert.equal(got.mdns, false);
  assert.equal(got.relay, "auto");
  assert.equal(got.relayReservations, 4);
  assert.throws(
    () => natConfig({}, (n) => n === "TESSERAS_RELAY" ? "maybe" : undefined),
    /auto, on or off/,
  );
});

Deno.test("nat flags: --no-upnp, --no-mdns and relay limits from commander's options", () => {
  const flags = natFlagsOf({
    upnp: false,
    mdns: true,
    relay: "on",
    relayDataLimit: 1024,
    relayBudget: 4096,
  });
  assert.equal(flags.upnp, false);
  assert.equal(flags.mdns, undefined, "commander's default true is not given");
  assert.deepEqual(flags.relayLimits, {
    dataLimitBytes: 1024,
    budgetBytesPerHour: 4096,
  });
});

Deno.test("nat options: no UPnP or mDNS for a loopback-only daemon", () => {
  const loop = natOptionsFor(DEFAULT_NAT_CONFIG, {
    listen: ["/ip4/127.0.0.1/tcp/0"],
  });
  assert.equal(loop.upnp, false);
  assert.equal(loop.mdns, false);
  assert.equal(loop.relayReservations, 0);
  const lan = natOptionsFor(DEFAULT_NAT_CONFIG, {
    listen: ["/ip4/0.0.0.0/tcp/4001"],
  });
  assert.equal(lan.upnp, true);
  assert.equal(lan.mdns, true);
  assert.equal(lan.relayServer, "auto");
});

Deno.test("reachability shows in /health's JSON and in /metrics", () => {
  const report: ReachabilityReport = {
    reachability: "private",
    addresses: ["/ip4/11.0.1.2/tcp/4001/p2p/R/p2p-circuit/p2p/H"],
    relayAddresses: ["/ip4/11.0.1.2/tcp/4001/p2p/R/p2p-circuit/p2p/H"],
    upnpAddresses: [],
    relayServing: false,
    relayReservations: 0,
    relayedAdmitted: 3,
    relayedRefused: 1,
    relayedConnections: 2,
  };
  const json = reachabilityJson(report);
  assert.equal(json.status, "private");
  assert.deepEqual(json.relay_addresses, report.relayAddresses);
  const text = reachabilityMetrics(report).join("\n");
  assert.match(text, /^tesseras_reachability\{state="private"\} 1$/m);
  assert.match(text, /^tesseras_reachability\{state="public"\} 0$/m);
  assert.match(text, /^tesseras_relayed_connections 2$/m);
  assert.match(text, /^tesseras_relay_circuits_total\{verdict="refused"\} 1$/m);
});
