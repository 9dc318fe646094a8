/**
 * Home nodes behind NAT on real network namespaces, with real daemons: a
 * core router; a public bootstrap node and two public nodes on /24s of
 * their own; four home nodes, each on its own LAN behind its own NAT
 * router (nft masquerade) on its own public /24; home 1's router runs
 * miniupnpd. It kills the relay holding most of the holders' slots and
 * checks that nothing is lost and every holder is reached again.
 *
 * What it cannot show, and why: TCP hole punching between two masqueraded
 * homes. nft masquerade maps each connection to its own port
 * (endpoint-dependent), and js-libp2p's TCP dials from an ephemeral port,
 * never from its listen port (Node's and Deno's sockets have no
 * SO_REUSEPORT for outgoing connections), so a peer has no address to
 * punch towards. DCUtR here upgrades a relayed connection when one side
 * is directly dialable (a UPnP or public node); between
 * two masqueraded homes shards travel through a relay, within its limits.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildInternet,
  type Internet,
  lanIp,
  publicIp,
  unavailableReason,
  which,
} from "./netns/internet.ts";
import {
  cli,
  healthOf,
  type NsDaemon,
  presetIdentity,
  reachabilityOf,
  startNsDaemon,
  until,
} from "./netns/daemons.ts";

const LAYOUT = {
  hosts: [
    { name: "boot", net: 11 },
    { name: "pub1", net: 12 },
    { name: "pub2", net: 13 },
  ],
  homes: [
    { name: "h1", net: 21, upnp: true },
    { name: "h2", net: 22 },
    { name: "h3", net: 23 },
    { name: "h4", net: 24 },
  ],
};

async function skipReason(): Promise<string | undefined> {
  const reason = await unavailableReason();
  if (reason !== undefined) return reason;
  for (const tool of ["miniupnpd", "curl"]) {
    if (!(await which(tool))) return `no ${tool} command`;
  }
  return undefined;
}

const reason = await skipReason();
/** Where to write each daemon's full log at the end (debugging). */
const LOG_DIR = Deno.env.get("TESSERAS_NAT_LOG_DIR");
const T0 = Date.now();
function mark(what: string): void {
  console.log(`[${((Date.now() - T0) / 1000).toFixed(1)} s] ${what}`);
}

async function routingTableSize(inet: Internet, d: NsDaemon): Promise<number> {
  const r = await inet.exec(d.name, [
    "curl",
    "-sf",
    "--max-time",
    "5",
    "http://127.0.0.1:7431/metrics",
  ]);
  const m = /^tesseras_routing_table_size (\d+)$/m.exec(r.stdout);
  return m === null ? 0 : Number(m[1]);
}

/**
 * On failure: each daemon's reachability and the end of its log, and the
 * end of miniupnpd's.
 */
async function dumpState(inet: Internet, daemons: NsDaemon[]): Promise<void> {
  for (const d of daemons) {
    const id = await reachabilityOf(inet, d).catch((e) => String(e));
    console.error(
      `--- ${d.name} ${JSON.stringify(id)}\n${d.log().slice(-1500)}`,
    );
  }
  const upnp = await Deno.readTextFile(`${inet.dir}/miniupnpd-21.log`)
    .catch((e) => String(e));
  console.error(`--- miniupnpd\n${upnp.slice(-1500)}`);
}

/**
 * Start every daemon, as early as each can be: the keys are made first,
 * so every bootstrap address is known; the public nodes start at once,
 * each listing the other two (the last to dial finds the others
 * listening); the homes start as soon as the public nodes listen, while
 * AutoNAT is still judging them (a relay that refused a slot before it
 * was public is asked again when its addresses change).
 */
async function startAll(inet: Internet, root: string, started: NsDaemon[]) {
  const dir = (name: string) => `${root}/${name}`;
  const names = ["boot", "pub1", "pub2", "h1", "h2", "h3", "h4"];
  const ids = await Promise.all(names.map((n) => presetIdentity(dir(n))));
  const publicAddrs = [11, 12, 13].map((net, i) =>
    `/ip4/${publicIp(net)}/tcp/4001/p2p/${ids[i]}`
  );
  const others = (i: number) =>
    publicAddrs.filter((_, j) => j !== i).flatMap((a) => ["--bootstrap", a]);
  const publics = await Promise.all(
    ["boot", "pub1", "pub2"].map((name, i) =>
      startNsDaemon(inet, name, {
        dataDir: dir(name),
        args: [...(i === 0 ? ["--bootstrap-mode"] : []), ...others(i)],
      })
    ),
  );
  started.push(...publics);
  mark("public nodes listening");
  // Homes join through every public node, as a user's list of bootstrap
  // peers would have them: a NATed node dials out or is not known at all.
  const everyPublic = publicAddrs.flatMap((a) => ["--bootstrap", a]);
  const homes = await Promise.all(
    ["h1", "h2", "h3", "h4"].map((name) =>
      startNsDaemon(inet, name, { dataDir: dir(name), args: everyPublic })
    ),
  );
  started.push(...homes);
  mark("homes listening");
  const [boot, ...pubs] = publics;
  await Promise.all(
    publics.map((d) =>
      until(
        async () => (await reachabilityOf(inet, d)).status === "public",
        `${d.name} public`,
        30_000,
      )
    ),
  );
  mark("public nodes public");
  return { boot, pubs, homes };
}

async function waitForReachability(inet: Internet, homes: NsDaemon[]) {
  const [h1, ...natted] = homes;
  await until(
    async () => {
      const id = await reachabilityOf(inet, h1);
      return id.status === "public" &&
        id.addresses.some((a) =>
          a.startsWith(`/ip4/${publicIp(21)}/tcp/4001/`)
        );
    },
    "h1 public through its UPnP mapping",
    40_000,
  );
  await Promise.all(natted.map((h) =>
    until(
      async () => {
        const id = await reachabilityOf(inet, h);
        return id.status === "private" &&
          id.addresses.some((a) => a.includes("/p2p-circuit"));
      },
      `${h.name} private with a relay address`,
      40_000,
    )
  ));
}

async function putFile(inet: Internet, owner: NsDaemon, path: string) {
  const put = await cli(inet, owner, ["put", path, "--json"]);
  assert.ok(put.ok, `put failed: ${put.stderr}`);
  return JSON.parse(put.stdout) as
    & { id: string; placed: number }
    & Record<
      string,
      unknown
    >;
}

/** The relay of each slot `d` holds now. */
async function slotsOf(inet: Internet, d: NsDaemon): Promise<string[]> {
  const id = await reachabilityOf(inet, d);
  return id.relay_addresses.map((a) =>
    /\/p2p\/([^/]+)\/p2p-circuit/.exec(a)?.[1] ?? ""
  );
}

/**
 * Kill (SIGKILL) the relay that holds most of the masqueraded holders'
 * slots: they hold slots on other relays only, the owner's audit still
 * reaches every one of them and finds enough shards, and home 4 gets the
 * tessera back byte-identical again.
 */
async function loseTheRelay(
  inet: Internet,
  daemons: { relays: NsDaemon[]; owner: NsDaemon; homes: NsDaemon[] },
  put: { root: string; id: string; data: Uint8Array; holders: Set<string> },
): Promise<void> {
  const { relays, owner } = daemons;
  // Masqueraded homes only: the UPnP home is public, it needs no slot.
  const held = daemons.homes.slice(1).filter((h) => put.holders.has(h.peerId));
  const slots = await Promise.all(held.map((h) => slotsOf(inet, h)));
  const count = (r: NsDaemon) =>
    slots.filter((s) => s.includes(r.peerId)).length;
  const dead = relays.reduce((a, b) => count(b) > count(a) ? b : a);
  assert.ok(count(dead) > 0, `no holder holds a slot: ${slots}`);
  dead.child.kill("SIGKILL");
  await dead.child.status;
  mark(`relay ${dead.name} killed (it held ${count(dead)} holders' slots)`);
  await Promise.all(held.map((h) =>
    until(
      async () => {
        const now = await slotsOf(inet, h);
        return now.length > 0 && !now.includes(dead.peerId);
      },
      `${h.name} on another relay`,
      40_000,
    )
  ));
  mark("holders on other relays");
  // Nothing lost, and the owner reaches every home holder again (through
  // its new slots): the audit finds them live.
  const after = await cli(inet, owner, ["status", put.id, "--json"]);
  assert.ok(after.ok, after.stderr);
  const left = JSON.parse(after.stdout) as {
    liveShards: number;
    dataShards: number;
    holders: { peerId: string }[];
  };
  assert.ok(left.liveShards >= left.dataShards, after.stdout);
  const live = new Set(left.holders.map((h) => h.peerId));
  for (const h of held) {
    assert.ok(live.has(h.peerId), `${h.name} unreachable: ${after.stdout}`);
  }
  mark("audited after the loss");
  const home4 = daemons.homes[3];
  const again = `${put.root}/h4/again.bin`;
  const second = await cli(inet, home4, ["get", put.id, "-o", again]);
  assert.ok(second.ok, `${second.stderr}; owner's view: ${after.stdout}`);
  assert.deepEqual(await Deno.readFile(again), put.data);
  mark("got back after the loss");
}

Deno.test({
  name: reason === undefined
    ? "nat: home nodes behind NAT hold, pass audits and serve, also after their relay dies; the UPnP one is public"
    : `nat: home nodes behind NAT on network namespaces (skipped: ${reason})`,
  ignore: reason !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const inet = await buildInternet(LAYOUT);
    // The daemons' data directories live in the run's directory, which
    // close() removes (and a later run, after a kill -9).
    const root = inet.dir;
    mark("namespaces built");
    const started: NsDaemon[] = [];
    try {
      const { boot, pubs, homes } = await startAll(inet, root, started);
      await waitForReachability(inet, homes);
      mark("reachability as expected");
      const [, h2, h3, h4] = homes;
      // A LAN address of one home is no use to another: only relays.
      const h3id = await reachabilityOf(inet, h3);
      assert.ok(!h3id.addresses.some((a) => a.includes(lanIp(23))));

      const bytes = crypto.getRandomValues(new Uint8Array(64 * 1024));
      const data = new Uint8Array(5 * 1024 * 1024);
      for (let at = 0; at < data.length; at += bytes.length) {
        data.set(bytes, at);
      }
      data[12345] ^= 0x5a; // not pure repetition
      const file = `${root}/h2/memories.bin`;
      await Deno.writeFile(file, data);
      // Placement asks the DHT; the bootstrap node must know everyone.
      await until(
        async () => (await healthOf(inet, boot)).peer_count >= 6,
        "the bootstrap node connected to every node",
        20_000,
      );
      // …and the owner's routing table holds the public nodes.
      await until(
        async () => (await routingTableSize(inet, h2)) >= 3,
        "home 2's routing table filled",
        45_000,
      );
      mark("routing tables filled");
      const put = await putFile(inet, h2, file);
      mark("put");
      // Audits: every holder answers a fresh challenge, signed (through
      // relays for h3 and h4); the live holders are the ones that passed.
      const status = await cli(inet, h2, ["status", put.id, "--json"]);
      assert.ok(status.ok, status.stderr);
      const report = JSON.parse(status.stdout) as {
        health: string;
        holders: { index: number; peerId: string }[];
      };
      assert.equal(report.health, "healthy", status.stdout);
      mark("audited");
      const holders = new Set(report.holders.map((h) => h.peerId));
      assert.ok(
        holders.has(h3.peerId) || holders.has(h4.peerId),
        `no masqueraded home holds a shard that passed its audit: put ${
          JSON.stringify(put)
        }, status ${status.stdout}`,
      );

      // Another home gets it back byte-identical.
      const out = `${root}/h4/back.bin`;
      const got = await cli(inet, h4, ["get", put.id, "-o", out]);
      assert.ok(got.ok, got.stderr);
      assert.deepEqual(await Deno.readFile(out), data);
      mark("got back");

      await loseTheRelay(inet, {
        relays: [boot, ...pubs],
        owner: h2,
        homes,
      }, { root, id: put.id, data, holders });
    } catch (err) {
      await dumpState(inet, started);
      throw err;
    } finally {
      if (LOG_DIR !== undefined) {
        await Deno.mkdir(LOG_DIR, { recursive: true });
        for (const d of started) {
          await Deno.writeTextFile(`${LOG_DIR}/${d.name}.log`, d.log());
        }
      }
      await inet.close();
    }
  },
});
