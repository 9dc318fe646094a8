/**
 * Home nodes behind NAT on real network namespaces, with real daemons: a
 * core router; a public bootstrap node and two public nodes on /24s of
 * their own; four home nodes, each on its own LAN behind its own NAT
 * router (nft masquerade) on its own public /24; home 1's router runs
 * miniupnpd.
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

/** On failure: each daemon's reachability and the end of its log. */
async function dumpState(inet: Internet, daemons: NsDaemon[]): Promise<void> {
  for (const d of daemons) {
    const id = await reachabilityOf(inet, d).catch((e) => String(e));
    console.error(
      `--- ${d.name} ${JSON.stringify(id)}\n${d.log().slice(-1500)}`,
    );
  }
}

async function startAll(inet: Internet, root: string, started: NsDaemon[]) {
  const dir = (name: string) => `${root}/${name}`;
  const boot = await startNsDaemon(inet, "boot", {
    dataDir: dir("boot"),
    args: ["--bootstrap-mode"],
  });
  started.push(boot);
  const bootAddr = `/ip4/${publicIp(11)}/tcp/4001/p2p/${boot.peerId}`;
  const join = ["--bootstrap", bootAddr];
  const pubs = await Promise.all(
    ["pub1", "pub2"].map((name) =>
      startNsDaemon(inet, name, { dataDir: dir(name), args: join })
    ),
  );
  started.push(...pubs);
  // Relays serve once AutoNAT has them public: wait, so the homes find
  // relays that grant reservations.
  await Promise.all(
    [boot, ...pubs].map((d) =>
      until(
        async () => (await reachabilityOf(inet, d)).status === "public",
        `${d.name} public`,
        30_000,
      )
    ),
  );
  const homes = await Promise.all(
    ["h1", "h2", "h3", "h4"].map((name) =>
      startNsDaemon(inet, name, { dataDir: dir(name), args: join })
    ),
  );
  started.push(...homes);
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

Deno.test({
  name: reason === undefined
    ? "nat: home nodes behind NAT hold, pass audits and serve; the UPnP one is public; losing a relay loses nothing"
    : `nat: home nodes behind NAT on network namespaces (skipped: ${reason})`,
  ignore: reason !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "tsr-nat-" });
    const inet = await buildInternet(LAYOUT);
    const started: NsDaemon[] = [];
    try {
      const { boot, pubs, homes } = await startAll(inet, root, started);
      await waitForReachability(inet, homes);
      const [h1, h2, h3, h4] = homes;
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
      const put = await putFile(inet, h2, file);
      // Audits: every holder answers a fresh challenge, signed (through
      // relays for h3 and h4); the live holders are the ones that passed.
      const status = await cli(inet, h2, ["status", put.id, "--json"]);
      assert.ok(status.ok, status.stderr);
      const report = JSON.parse(status.stdout) as {
        health: string;
        holders: { index: number; peerId: string }[];
      };
      assert.equal(report.health, "healthy", status.stdout);
      const holders = new Set(report.holders.map((h) => h.peerId));
      assert.ok(
        holders.has(h3.peerId) || holders.has(h4.peerId),
        `no masqueraded home holds a shard that passed its audit: put ${
          JSON.stringify(put)
        }, status ${status.stdout}`,
      );
      assert.ok(
        holders.has(h1.peerId),
        `the UPnP home holds no shard: h1 ${h1.peerId}, put ${
          JSON.stringify(put)
        }, status ${status.stdout}`,
      );

      // Another home gets it back byte-identical.
      const out = `${root}/h4/back.bin`;
      const got = await cli(inet, h4, ["get", put.id, "-o", out]);
      assert.ok(got.ok, got.stderr);
      assert.deepEqual(await Deno.readFile(out), data);

      // Kill the bootstrap relay: reservations move, nothing is lost.
      boot.child.kill("SIGKILL");
      await boot.child.status;
      await Promise.all([h3, h4].map((h) =>
        until(
          async () => {
            const id = await reachabilityOf(inet, h);
            const relayed = id.addresses.filter((a) =>
              a.includes("/p2p-circuit")
            );
            return relayed.length > 0 &&
              relayed.every((a) => !a.includes(boot.peerId));
          },
          `${h.name} on another relay`,
          40_000,
        )
      ));
      const again = `${root}/h4/again.bin`;
      const second = await cli(inet, h4, ["get", put.id, "-o", again]);
      if (!second.ok) {
        const after = await cli(inet, h2, ["status", put.id, "--json"]);
        console.error(`status after the relay died: ${after.stdout}`);
      }
      assert.ok(second.ok, second.stderr);
      assert.deepEqual(await Deno.readFile(again), data);
      void pubs;
    } catch (err) {
      await dumpState(inet, started);
      throw err;
    } finally {
      await inet.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
