/**
 * The daemon: opens the database, builds the stores, the libp2p node and
 * the replication service, starts the repair loop and the stale-peer
 * cleanup, serves the local API, and stops it all cleanly.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { cryptoRng, systemClock, TesserasError } from "../core/mod.ts";
import {
  createTesserasNode,
  type KnownPeer,
  Libp2pDhtPort,
  loadOrCreateIdentity,
  type PeerSeenInfo,
  type TesserasNode,
} from "../net/mod.ts";
import { RepairLoop, ReplicationService } from "../replication/mod.ts";
import {
  type Database,
  freeDiskBytes,
  FsBlobStore,
  FsFragmentStore,
  openDatabase,
  SqliteHolderRegistry,
  SqlitePeerStandingStore,
  SqlitePeerStore,
  SqliteReciprocityLedger,
} from "../storage/mod.ts";
import { type ApiServer, serveApi } from "./api.ts";
import { newApiToken, writeApiInfo } from "./api_info.ts";
import { DaemonBackend } from "./backend.ts";
import type { NodeConfig } from "./config.ts";
import { acquireDaemonLock, type DaemonLock } from "./lock.ts";
import { dataLayout } from "./paths.ts";

const log = getLogger(["tesseras", "node"]);

/** How often stale peers are removed while running (hourly). */
const STALE_CLEANUP_INTERVAL_MS = 60 * 60 * 1000;

/** A running daemon. */
export interface Daemon {
  /** Our peer id. */
  readonly peerId: string;
  /** Base URL of the local API. */
  readonly apiUrl: string;
  /** The libp2p node. */
  readonly node: TesserasNode;
  /** The replication service. */
  readonly service: ReplicationService;
  /** Stop everything; safe to call more than once. */
  stop(): Promise<void>;
}

function parseApiAddress(api: string): { hostname: string; port: number } {
  const match = api.match(/^\[?([^\]]*?)\]?:(\d+)$/);
  if (!match) {
    throw new TesserasError(
      "INVALID_INPUT",
      `--api must be HOST:PORT, e.g. 127.0.0.1:7431 (got "${api}")`,
    );
  }
  return { hostname: match[1], port: Number(match[2]) };
}

/** A specific (not wildcard) IPv4 listen address, to dial from it too. */
function dialAddressOf(listen: readonly string[]): string | undefined {
  for (const addr of listen) {
    const m = addr.match(/^\/ip4\/([0-9.]+)\/tcp\//);
    if (m && m[1] !== "0.0.0.0") return m[1];
  }
  return undefined;
}

/**
 * Starts a daemon on `config.dataDir`. Throws `ALREADY_RUNNING` when
 * another daemon holds the data directory.
 *
 * @example
 * ```ts
 * import { loadNodeConfig } from "./config.ts";
 * const dir = "/srv/tesseras";
 * const daemon = await startDaemon(await loadNodeConfig(dir));
 * await daemon.stop();
 * ```
 */
export async function startDaemon(config: NodeConfig): Promise<Daemon> {
  const layout = dataLayout(config.dataDir);
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(layout.lock);
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  const unwind = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn("shutdown step failed: {error}", { error: String(err) });
      }
    }
    cleanups.length = 0;
  };
  try {
    return await assemble(config, { lock, cleanups, unwind });
  } catch (err) {
    await unwind();
    throw err;
  }
}

interface Assembly {
  readonly lock: DaemonLock;
  readonly cleanups: (() => Promise<void> | void)[];
  readonly unwind: () => Promise<void>;
}

async function assemble(
  config: NodeConfig,
  { cleanups, unwind }: Assembly,
): Promise<Daemon> {
  const layout = dataLayout(config.dataDir);
  const db: Database = await openDatabase(layout.database);
  cleanups.push(() => db.close());

  const fragments = new FsFragmentStore(db, { root: layout.fragments });
  const recovered = await fragments.recoverAfterCrash();
  if (recovered.strayTempFiles + recovered.orphanFiles > 0) {
    log.info(
      "recovered from an interrupted run: removed {temp} unfinished shard writes and {orphans} shard files without a row",
      { temp: recovered.strayTempFiles, orphans: recovered.orphanFiles },
    );
  }
  const blobs = new FsBlobStore({ root: layout.blobs });
  await blobs.removeStrayTempFiles();
  const ledger = new SqliteReciprocityLedger(db);
  const holders = new SqliteHolderRegistry(db);
  const peers = new SqlitePeerStore(db);

  const removed = await peers.cleanupStale(config.staleAfterSeconds);
  if (removed > 0) {
    log.info("cleaned up {n} stale peer records (older than {age}s)", {
      n: removed,
      age: config.staleAfterSeconds,
    });
  }
  const stored = await peers.loadPeers();
  const knownPeers: KnownPeer[] = stored.map((p) => ({
    id: p.peerId,
    addresses: p.multiaddrs,
  }));
  log.info("loaded {peers} peers with {addrs} addresses from storage", {
    peers: stored.length,
    addrs: stored.reduce((n, p) => n + p.multiaddrs.length, 0),
  });

  const { privateKey, peerId } = await loadOrCreateIdentity(layout.identity);
  const node = await createTesserasNode({
    privateKey,
    listen: config.listen,
    bootstrap: config.bootstrap,
    knownPeers,
    dialLocalAddress: dialAddressOf(config.listen),
    peerInfoMapper: config.allowPrivateAddresses ? "passthrough" : "public",
    onPeerSeen: (id, addr, info) => recordPeer(peers, { id, addr, info }),
  });
  const dht = new Libp2pDhtPort(node);
  const service = new ReplicationService({
    dht,
    fragments,
    ledger,
    blobs,
    holders,
    identity: node.identity,
    clock: systemClock,
    rng: cryptoRng,
    config: config.replication,
    freeSpace: () => freeDiskBytes(config.dataDir),
    standingStore: new SqlitePeerStandingStore(db),
  });
  // Bans, back-offs, proofs and unproven shards from the last run, before
  // any peer's push or our own placement is judged.
  await service.loadStanding();
  // Cleanups run in reverse: the last standing writes land before the
  // database closes.
  cleanups.push(() => service.flushStanding());
  node.setInboundHandlers(service);
  await node.start();
  cleanups.push(() => node.stop());

  const background = new AbortController();
  const loop = new RepairLoop(service, {
    clock: systemClock,
    rng: cryptoRng,
    signal: background.signal,
    onSweep: (report) =>
      log.info(
        "repair sweep: {healthy} healthy, {repaired} repaired, {degraded} degraded, {lost} lost",
        { ...report },
      ),
  });
  loop.start();
  cleanups.push(() => loop.stop());
  const cleanup = staleCleanupLoop(peers, {
    maxAgeSeconds: config.staleAfterSeconds,
    signal: background.signal,
  });
  cleanups.push(() => cleanup);
  // Cleanups run in reverse: abort the background work before awaiting it.
  cleanups.push(() => background.abort(new Error("daemon stopping")));

  const backend = new DaemonBackend({
    config,
    node,
    service,
    fragments,
    ledger,
    holders,
    peers,
  });
  const token = newApiToken();
  const { hostname, port } = parseApiAddress(config.api);
  const api: ApiServer = serveApi(backend, { hostname, port, token });
  cleanups.push(() => api.shutdown());
  await writeApiInfo(layout.apiInfo, {
    url: api.url,
    token,
    pid: Deno.pid,
    peerId,
  });
  cleanups.push(() => Deno.remove(layout.apiInfo).catch(() => {}));
  log.info("node {peerId} ready; API at {url}", { peerId, url: api.url });

  let stopping: Promise<void> | undefined;
  return {
    peerId,
    apiUrl: api.url,
    node,
    service,
    stop: () => (stopping ??= unwind()),
  };
}

/**
 * UPSERTs a peer address. An inbound connection's remote address is an
 * ephemeral port nobody can dial back; identify reports that peer's real
 * listen addresses, so only those and outbound addresses are kept.
 */
async function recordPeer(
  peers: SqlitePeerStore,
  seen: { id: string; addr: string; info: PeerSeenInfo },
): Promise<void> {
  if (seen.info.source === "inbound") return;
  try {
    await peers.addPeer(seen.id, seen.addr);
  } catch (err) {
    log.warn("cannot record peer {id}: {error}", {
      id: seen.id,
      error: String(err),
    });
  }
}

async function staleCleanupLoop(
  peers: SqlitePeerStore,
  options: { maxAgeSeconds: number; signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  while (!signal.aborted) {
    try {
      await systemClock.sleep(STALE_CLEANUP_INTERVAL_MS, { signal });
      const n = await peers.cleanupStale(options.maxAgeSeconds, { signal });
      if (n > 0) log.info("cleaned up {n} stale peer records", { n });
    } catch (err) {
      if (signal.aborted) return;
      log.warn("stale peer cleanup failed: {error}", { error: String(err) });
    }
  }
}

/**
 * Runs a daemon until SIGINT or SIGTERM, then stops it and resolves.
 *
 * @example
 * ```ts
 * import { loadNodeConfig } from "./config.ts";
 * const dir = "/srv/tesseras";
 * await runDaemon(await loadNodeConfig(dir));
 * ```
 */
export async function runDaemon(config: NodeConfig): Promise<void> {
  // One stray rejection deep in a dependency must not take down a node
  // that holds other people's memories: log it and keep serving.
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    log.error("unhandled rejection: {error}", { error: String(event.reason) });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  const daemon = await startDaemon(config).catch((err) => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    throw err;
  });
  const stopped = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  const onSignal = () => stopped.resolve();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    await stopped.promise;
    log.info("shutting down");
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await daemon.stop();
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
}
