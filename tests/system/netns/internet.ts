/**
 * A small internet out of Linux network namespaces, for the NAT system
 * test and the NAT benchmark: a core router; hosts on public /24s of their
 * own; home LANs, each behind its own NAT router (nft masquerade) on a
 * public /24, optionally running miniupnpd. Addresses are "public" ranges
 * (11.0.0.0/8 …), which exist only inside these namespaces: nothing is
 * routed to or from the machine's real network.
 *
 * Every namespace is named `tsr-<run>-<name>` and the run's files live in
 * a temporary directory named `tsr-<run>-…`; `<run>` holds the creating
 * process's pid and start time, so a later run removes the leftovers of
 * dead runs (a `kill -9` runs no `finally`), processes inside their
 * namespaces included, and leaves a live run's alone.
 *
 * @module
 */

/** A host on a public /24: `ip` is its address, the core is `.1`. */
export interface PublicHost {
  /** Short name (namespace suffix). */
  readonly name: string;
  /** Its /24: the host is `publicIp(net)`, the core `<net>.0.<net>.1`. */
  readonly net: number;
}

/** A home: a router on a public /24 and one host on LAN `10.0.<net>.0/24`. */
export interface Home {
  /** Short name of the home host (the router is `<name>r`). */
  readonly name: string;
  /** Its /24 index. */
  readonly net: number;
  /** Run miniupnpd on the router. */
  readonly upnp?: boolean;
}

/** The layout to build. */
export interface Layout {
  /** Hosts directly on the core. */
  readonly hosts: readonly PublicHost[];
  /** Homes behind NAT routers. */
  readonly homes: readonly Home[];
}

/** The public IP of net `n`'s host or home router (`n.0.n.2`). */
export function publicIp(net: number): string {
  return `${net}.0.${net}.2`;
}

/** The LAN IP of a home host on net `n`. */
export function lanIp(net: number): string {
  return `10.0.${net}.2`;
}

/** Why namespaces cannot be built here, or undefined when they can. */
export async function unavailableReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid?.() !== 0) return "not root";
  for (const tool of ["ip", "nft"]) {
    if (!(await which(tool))) return `no ${tool} command`;
  }
  const probe = `tsr-probe-${Deno.pid}`;
  const made = await run(["ip", "netns", "add", probe]);
  if (!made.ok) return `cannot create a network namespace: ${made.stderr}`;
  await run(["ip", "netns", "del", probe]);
  return undefined;
}

/** Whether `tool` is on the PATH. */
export async function which(tool: string): Promise<boolean> {
  return (await run(["sh", "-c", `command -v ${tool}`])).ok;
}

/** Result of one command. */
export interface RunResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command to completion. */
export async function run(
  argv: readonly string[],
  options: { stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    ok: out.success,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function must(argv: readonly string[], stdin?: string): Promise<string> {
  const r = await run(argv, { stdin });
  if (!r.ok) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** `<pid>.<start time in clock ticks since boot>` of this process. */
async function runId(): Promise<string> {
  return `${Deno.pid}.${await startTime(Deno.pid)}`;
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces: count after its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the run `tsr-<pid>.<start>` still has its process (names of
 * older runs carry the pid alone).
 */
async function runAlive(pid: number, start?: string): Promise<boolean> {
  const now = await startTime(pid);
  return now !== undefined && (start === undefined || now === start);
}

const RUN_NAME = /^tsr-(\d+)(?:\.(\d+))?-/;

/**
 * Remove what runs whose process is gone left behind: their namespaces
 * (after killing the processes still inside, daemons and miniupnpd,
 * which would otherwise keep running) and their temporary directories.
 * Returns the namespaces removed.
 */
export async function removeLeftovers(): Promise<string[]> {
  const list = (await run(["ip", "netns", "list"])).stdout;
  const removed: string[] = [];
  for (const line of list.split("\n")) {
    const name = line.split(" ")[0];
    const m = RUN_NAME.exec(name);
    if (m === null || (await runAlive(Number(m[1]), m[2]))) continue;
    await deleteNamespace(name);
    removed.push(name);
  }
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  for await (const entry of Deno.readDir(tmp)) {
    if (!entry.isDirectory) continue;
    const m = RUN_NAME.exec(entry.name);
    if (m === null) {
      // Configuration directories of runs before these names.
      if (entry.name.startsWith("tsr-conf-")) await removeOld(tmp, entry.name);
      continue;
    }
    if (await runAlive(Number(m[1]), m[2])) continue;
    await Deno.remove(`${tmp}/${entry.name}`, { recursive: true })
      .catch(() => {});
  }
  return removed;
}

async function removeOld(tmp: string, name: string): Promise<void> {
  const info = await Deno.stat(`${tmp}/${name}`).catch(() => undefined);
  const age = Date.now() - (info?.mtime?.getTime() ?? Date.now());
  if (age > 3_600_000) {
    await Deno.remove(`${tmp}/${name}`, { recursive: true }).catch(() => {});
  }
}

/** Kill every process inside namespace `ns`, then delete it. */
async function deleteNamespace(ns: string): Promise<void> {
  const pids = (await run(["ip", "netns", "pids", ns])).stdout;
  for (const pid of pids.split("\n").filter(Boolean)) {
    await run(["kill", "-9", pid]);
  }
  await run(["ip", "netns", "del", ns]);
}

/** A built internet; `close()` removes every namespace it made. */
export class Internet {
  /** `tsr-<pid>.<start>-<random>` */
  readonly prefix: string;
  /** This run's temporary directory (removed by `close()`). */
  readonly dir: string;
  readonly #made: string[] = [];
  readonly #daemons: Deno.ChildProcess[] = [];
  readonly #onSignal = () => {
    this.close().finally(() => Deno.exit(130));
  };

  /** Use {@linkcode buildInternet}. */
  constructor(prefix: string, dir: string) {
    this.prefix = prefix;
    this.dir = dir;
    // Ctrl-C or a runner's SIGTERM: tear down before exiting (a kill -9
    // is left to the next run's removeLeftovers).
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, this.#onSignal);
    }
  }

  /** The namespace name of `name`. */
  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Run a command inside namespace `name`. */
  exec(name: string, argv: readonly string[]): Promise<RunResult> {
    return run(["ip", "netns", "exec", this.ns(name), ...argv]);
  }

  /** Start a long-running process inside `name` (killed by `close()`). */
  spawn(
    name: string,
    argv: readonly string[],
    options: { env?: Record<string, string>; stdin?: "piped" | "null" } = {},
  ): Deno.ChildProcess {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", this.ns(name), ...argv],
      env: options.env,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#daemons.push(child);
    return child;
  }

  /** @internal */
  async addNamespace(name: string): Promise<void> {
    await must(["ip", "netns", "add", this.ns(name)]);
    this.#made.push(this.ns(name));
    await must(["ip", "-n", this.ns(name), "link", "set", "lo", "up"]);
    await must([
      "ip",
      "netns",
      "exec",
      this.ns(name),
      "sysctl",
      "-qw",
      "net.ipv4.ip_forward=1",
    ]);
  }

  /**
   * Kill what was spawned, then delete every namespace made and the
   * run's directory.
   */
  async close(): Promise<void> {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(sig, this.#onSignal);
    }
    for (const child of this.#daemons) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status.catch(() => {});
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
    // Deleting a namespace kills nothing, but processes inside keep it
    // alive; those were ours and are dead now (miniupnpd too).
    await Promise.all(this.#made.reverse().map(deleteNamespace));
    this.#made.length = 0;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Link two namespaces with a veth pair and give each end an address. */
async function link(
  net: Internet,
  a: { name: string; dev: string; addr: string },
  b: { name: string; dev: string; addr: string },
): Promise<void> {
  await must([
    "ip",
    "link",
    "add",
    a.dev,
    "netns",
    net.ns(a.name),
    "type",
    "veth",
    "peer",
    "name",
    b.dev,
    "netns",
    net.ns(b.name),
  ]);
  for (const end of [a, b]) {
    await must([
      "ip",
      "-n",
      net.ns(end.name),
      "addr",
      "add",
      end.addr,
      "dev",
      end.dev,
    ]);
    await must(["ip", "-n", net.ns(end.name), "link", "set", end.dev, "up"]);
  }
}

async function defaultRoute(net: Internet, name: string, via: string) {
  await must(["ip", "-n", net.ns(name), "route", "add", "default", "via", via]);
}

function natRules(upnp: boolean): string {
  // A home router: LAN out through masquerade, nothing in unless it
  // answers a connection the LAN opened (or miniupnpd mapped a port).
  return `
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" accept
    ${upnp ? "jump miniupnpd" : ""}
  }
  chain miniupnpd {}
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    ${upnp ? "jump prerouting_miniupnpd" : ""}
  }
  chain prerouting_miniupnpd {}
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    ${upnp ? "jump postrouting_miniupnpd" : ""}
    oifname "wan" masquerade
  }
  chain postrouting_miniupnpd {}
}
`;
}

function miniupnpdConf(net: number): string {
  return [
    "ext_ifname=wan",
    `listening_ip=10.0.${net}.1/24`,
    "port=0",
    "enable_upnp=yes",
    "enable_natpmp=no",
    "secure_mode=yes",
    "system_uptime=yes",
    `uuid=00000000-0000-4000-8000-0000000000${String(net).padStart(2, "0")}`,
    "upnp_table_name=filter",
    "upnp_nat_table_name=filter",
    "upnp_forward_chain=miniupnpd",
    "upnp_nat_chain=prerouting_miniupnpd",
    "upnp_nat_postrouting_chain=postrouting_miniupnpd",
    "allow 1024-65535 10.0.0.0/8 1024-65535",
    "deny 0-65535 0.0.0.0/0 0-65535",
    "",
  ].join("\n");
}

async function buildHost(inet: Internet, host: PublicHost) {
  await inet.addNamespace(host.name);
  await link(inet, {
    name: "core",
    dev: `c${host.net}`,
    addr: `${host.net}.0.${host.net}.1/24`,
  }, { name: host.name, dev: "eth0", addr: `${publicIp(host.net)}/24` });
  await defaultRoute(inet, host.name, `${host.net}.0.${host.net}.1`);
}

async function buildHome(inet: Internet, home: Home) {
  const router = `${home.name}r`;
  await inet.addNamespace(router);
  await inet.addNamespace(home.name);
  await link(inet, {
    name: "core",
    dev: `c${home.net}`,
    addr: `${home.net}.0.${home.net}.1/24`,
  }, {
    name: router,
    dev: "wan",
    addr: `${publicIp(home.net)}/24`,
  });
  await link(
    inet,
    { name: router, dev: "lan", addr: `10.0.${home.net}.1/24` },
    {
      name: home.name,
      dev: "eth0",
      addr: `${lanIp(home.net)}/24`,
    },
  );
  await defaultRoute(inet, router, `${home.net}.0.${home.net}.1`);
  await defaultRoute(inet, home.name, `10.0.${home.net}.1`);
  await must(
    ["ip", "netns", "exec", inet.ns(router), "nft", "-f", "-"],
    natRules(home.upnp === true),
  );
  if (home.upnp === true) {
    const base = `${inet.dir}/miniupnpd-${home.net}`;
    await Deno.writeTextFile(`${base}.conf`, miniupnpdConf(home.net));
    // A pid file of its own: with the default one (/run/miniupnpd.pid) a
    // second run at the same time, or the stale file of a killed run whose
    // pid is taken again, makes miniupnpd exit "already running". Its log
    // goes to a file: an unread pipe fills and blocks it.
    inet.spawn(router, [
      "sh",
      "-c",
      `exec miniupnpd -d -f ${base}.conf -P ${base}.pid >${base}.log 2>&1`,
    ]);
  }
}

/**
 * Build `layout` under a fresh prefix. Throws (after removing what it
 * made) when a step fails.
 *
 * @example
 * ```ts
 * const inet = await buildInternet({ hosts: [{ name: "boot", net: 11 }], homes: [] });
 * try { await inet.exec("boot", ["ip", "addr"]); } finally { await inet.close(); }
 * ```
 */
export async function buildInternet(layout: Layout): Promise<Internet> {
  await removeLeftovers();
  const prefix = `tsr-${await runId()}-${crypto.randomUUID().slice(0, 4)}`;
  const dir = await Deno.makeTempDir({ prefix: `${prefix}-` });
  const inet = new Internet(prefix, dir);
  try {
    await inet.addNamespace("core");
    await Promise.all([
      ...layout.hosts.map((host) => buildHost(inet, host)),
      ...layout.homes.map((home) => buildHome(inet, home)),
    ]);
    return inet;
  } catch (err) {
    await inet.close();
    throw err;
  }
}
