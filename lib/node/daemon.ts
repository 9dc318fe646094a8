/**
 * The daemon: opens the database, builds the stores, the libp2p node and
 * the replication service, starts the repair loop and the stale-peer
 * cleanup, serves the local API, and stops it all cleanly.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { cryptoRng, systemClock, TesserasError } from "../core/mod.ts";
import {
  createTesserasNode,
  type KnownPeer,
  Libp2pDhtPort,
  Libp2pRecords,
  type LoadedIdentity,
  loadOrCreateIdentity,
  type PeerSeenInfo,
  type TesserasNode,
} from "../net/mod.ts";
import { MemoryHolderRegistry } from "../memory/mod.ts";
import {
  RepairLoop,
  ReplicationService,
  ScrubLoop,
} from "../replication/mod.ts";
import {
  type Database,
  freeDiskBytes,
  FsBlobStore,
  FsFragmentStore,
  openDatabase,
  SqliteCatalogueStore,
  SqliteHolderRegistry,
  SqliteManifestStore,
  SqlitePeerStandingStore,
  SqlitePeerStore,
  SqliteReciprocityLedger,
} from "../storage/mod.ts";
import { type ApiServer, serveApi } from "./api.ts";
import { newApiToken, writeApiInfo } from "./api_info.ts";
import { DaemonBackend } from "./backend.ts";
import { Dashboard } from "./dashboard.ts";
import { SweepHistory } from "./sweep_history.ts";
import type { NodeConfig } from "./config.ts";
import { acquireDaemonLock, type DaemonLock } from "./lock.ts";
import { type DataLayout, dataLayout } from "./paths.ts";
import { prepareNodeKeys } from "./node_keys.ts";
import { OwnerCatalogue } from "./owner_catalogue.ts";
import type { PhraseKeys } from "../crypto/mod.ts";
import {
  catalogueRecordRules,
  NetworkCatalogue,
  refreshLoop,
  restoreLoop,
} from "./network_catalogue.ts";
import { FileRecordShelf, keepLoop, RecordKeeper } from "./record_keeper.ts";
import { natOptionsFor } from "./reachability.ts";

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
  const stores = await openStores(config, cleanups);
  const knownPeers = await loadKnownPeers(stores.peers, config);
  const { node, service, peerId, phraseKeys, keeper } = await buildNetwork(
    config,
    {
      stores,
      knownPeers,
    },
  );
  cleanups.push(() => service.flushStanding());
  // Sweeps of the loop and of `repair`, for the dashboard's charts.
  const history = new SweepHistory();
  const { catalogue, network } = openCatalogues(config, {
    stores,
    node,
    service,
    phraseKeys,
    keeper,
  });
  const api = serveLocalApi(config, {
    stores,
    node,
    service,
    history,
    catalogue,
    network,
  });
  let apiStopped: Promise<void> | undefined;
  const stopApi = () => (apiStopped ??= api.server.shutdown());
  cleanups.push(stopApi);
  await startNode(node, config);
  cleanups.push(() => node.stop());
  startBackground(service, {
    config,
    peers: stores.peers,
    history,
    cleanups,
  });
  if (network) await startCatalogueWork(network, { config, cleanups });
  startRecordKeeping(keeper, { node, cleanups });
  // Cleanups run in reverse: on the way down the API stops taking
  // requests before the background work and the node stop under it.
  cleanups.push(stopApi);
  await publishApiInfo(config, { api, peerId, cleanups });
  log.info("node {peerId} ready; API at {url}", {
    peerId,
    url: api.server.url,
  });

  let stopping: Promise<void> | undefined;
  return {
    peerId,
    apiUrl: api.server.url,
    node,
    service,
    stop: () => (stopping ??= unwind()),
  };
}

/**
 * The owner's catalogue, and its copy on the network when the node has a
 * recovery phrase to seal it with.
 */
function openCatalogues(
  config: NodeConfig,
  parts: {
    stores: Stores;
    node: TesserasNode;
    service: ReplicationService;
    phraseKeys: PhraseKeys | null;
    keeper: RecordKeeper;
  },
): { catalogue: OwnerCatalogue; network: NetworkCatalogue | null } {
  const { stores, node, service, phraseKeys, keeper } = parts;
  const catalogue = new OwnerCatalogue(stores.catalogue, phraseKeys);
  const network = phraseKeys === null ? null : new NetworkCatalogue({
    keys: phraseKeys,
    catalogue,
    records: new Libp2pRecords(node),
    keeper,
    service,
    holders: stores.holders,
    scratchDir: dataLayout(config.dataDir).sealing,
  });
  return { catalogue, network };
}

/** The database and the stores over it, after crash recovery. */
interface Stores {
  readonly db: Database;
  readonly fragments: FsFragmentStore;
  readonly blobs: FsBlobStore;
  readonly ledger: SqliteReciprocityLedger;
  readonly holders: SqliteHolderRegistry;
  readonly peers: SqlitePeerStore;
  readonly standing: SqlitePeerStandingStore;
  readonly catalogue: SqliteCatalogueStore;
  readonly manifests: SqliteManifestStore;
}

async function openStores(
  config: NodeConfig,
  cleanups: Assembly["cleanups"],
): Promise<Stores> {
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
  // Scratch ciphertext of private puts a crash interrupted.
  await Deno.remove(layout.sealing, { recursive: true }).catch(() => {});
  return {
    db,
    fragments,
    blobs,
    ledger: new SqliteReciprocityLedger(db),
    holders: new SqliteHolderRegistry(db),
    peers: new SqlitePeerStore(db),
    standing: new SqlitePeerStandingStore(db),
    catalogue: new SqliteCatalogueStore(db),
    manifests: new SqliteManifestStore(db),
  };
}

/** Forget stale peers, then load the rest to fill the routing table. */
async function loadKnownPeers(
  peers: SqlitePeerStore,
  config: NodeConfig,
): Promise<KnownPeer[]> {
  const removed = await peers.cleanupStale(config.staleAfterSeconds);
  if (removed > 0) {
    log.info("cleaned up {n} stale peer records (older than {age}s)", {
      n: removed,
      age: config.staleAfterSeconds,
    });
  }
  const stored = await peers.loadPeers();
  log.info("loaded {peers} peers with {addrs} addresses from storage", {
    peers: stored.length,
    addrs: stored.reduce((n, p) => n + p.multiaddrs.length, 0),
  });
  return stored.map((p) => ({ id: p.peerId, addresses: p.multiaddrs }));
}

/** The libp2p node (not started yet) and the replication service over it. */
async function buildNetwork(
  config: NodeConfig,
  { stores, knownPeers }: { stores: Stores; knownPeers: KnownPeer[] },
): Promise<
  {
    node: TesserasNode;
    service: ReplicationService;
    peerId: string;
    phraseKeys: PhraseKeys | null;
    keeper: RecordKeeper;
  }
> {
  const layout = dataLayout(config.dataDir);
  const { phraseKeys, privateKey, peerId } = await loadKeys(layout);
  const keeper = await RecordKeeper.open(new FileRecordShelf(layout.records));
  const node = await createNode(config, {
    stores,
    knownPeers,
    privateKey,
    keeper,
  });
  const service = newService(config, { stores, node });
  // Bans, back-offs, proofs and unproven shards from the last run, before
  // any peer's push or our own placement is judged.
  await service.loadStanding();
  node.setInboundHandlers(service);
  return { node, service, peerId, phraseKeys, keeper };
}

/** The phrase's keys first (a new node's identity derives from them), then the identity. */
async function loadKeys(
  layout: DataLayout,
): Promise<
  Pick<LoadedIdentity, "privateKey" | "peerId"> & {
    phraseKeys: PhraseKeys | null;
  }
> {
  const phraseKeys = await prepareNodeKeys(layout);
  if (phraseKeys === null) {
    log.info(
      "this node was created before recovery phrases: `tesseras recovery-phrase --rekey` (node stopped) gives it one",
    );
  }
  const { privateKey, peerId } = await loadOrCreateIdentity(layout.identity, {
    seed: phraseKeys?.identitySeed,
  });
  return { phraseKeys, privateKey, peerId };
}

/** The libp2p node of the configuration (not started yet). */
function createNode(
  config: NodeConfig,
  parts: {
    stores: Stores;
    knownPeers: KnownPeer[];
    privateKey: LoadedIdentity["privateKey"];
    keeper: RecordKeeper;
  },
): Promise<TesserasNode> {
  const { stores, knownPeers, privateKey, keeper } = parts;
  return createTesserasNode({
    privateKey,
    listen: config.listen,
    bootstrap: config.bootstrap,
    knownPeers,
    dialLocalAddress: dialAddressOf(config.listen),
    peerInfoMapper: config.allowPrivateAddresses ? "passthrough" : "public",
    // Every node keeps valid catalogue records for others, phrase or not.
    records: catalogueRecordRules(keeper),
    onPeerSeen: (id, addr, info) =>
      recordPeer(stores.peers, { id, addr, info }),
    nat: natOptionsFor(config.nat, {
      listen: config.listen,
      // Reciprocity: a peer may relay as much again as it stores for us.
      credit: async (peer) =>
        (await stores.ledger.get(peer))?.bytesTheyStoreForUs ?? 0,
    }),
  });
}

/** The replication service over the stores and the node. */
function newService(
  config: NodeConfig,
  { stores, node }: { stores: Stores; node: TesserasNode },
): ReplicationService {
  return new ReplicationService({
    dht: new Libp2pDhtPort(node),
    fragments: stores.fragments,
    ledger: stores.ledger,
    blobs: stores.blobs,
    holders: stores.holders,
    identity: node.identity,
    clock: systemClock,
    rng: cryptoRng,
    config: config.replication,
    freeSpace: () => freeDiskBytes(config.dataDir),
    standingStore: stores.standing,
    manifests: stores.manifests,
    // What a steward learns of orphans' holders is rebuilt from the DHT
    // after a restart: memory is enough (docs/stewards.md).
    stewardRegistry: new MemoryHolderRegistry(),
  });
}

/**
 * Binds the local API before the node listens, so a taken API port stops
 * the start before anything says it is listening. Requests need the token
 * that `publishApiInfo` writes only once all is up.
 */
function serveLocalApi(
  config: NodeConfig,
  parts: {
    stores: Stores;
    node: TesserasNode;
    service: ReplicationService;
    history: SweepHistory;
    catalogue: OwnerCatalogue;
    network: NetworkCatalogue | null;
  },
): { server: ApiServer; token: string } {
  const backend = new DaemonBackend({
    config,
    node: parts.node,
    service: parts.service,
    fragments: parts.stores.fragments,
    blobs: parts.stores.blobs,
    ledger: parts.stores.ledger,
    holders: parts.stores.holders,
    peers: parts.stores.peers,
    onSweep: (report) => parts.history.record(report, "manual"),
    catalogue: parts.catalogue,
    network: parts.network,
    sealingDir: dataLayout(config.dataDir).sealing,
  });
  const dashboard = new Dashboard({
    backend,
    heldBytes: () => parts.stores.fragments.totalBytes(),
    standing: parts.stores.standing,
    history: parts.history,
    tmpDir: join(config.dataDir, "ui-tmp"),
  });
  const token = newApiToken();
  const { hostname, port } = parseApiAddress(config.api);
  try {
    const server = serveApi(backend, { hostname, port, token, dashboard });
    return { server, token };
  } catch (err) {
    throw addressFailure(err, {
      address: config.api,
      what: "serve the local API",
      setting: '--api HOST:PORT, TESSERAS_API or "api" in tesseras.json',
    });
  }
}

/** Starts libp2p; a taken listen address is named with what sets it. */
async function startNode(
  node: TesserasNode,
  config: NodeConfig,
): Promise<void> {
  try {
    await node.start();
  } catch (err) {
    throw addressFailure(err, {
      address: config.listen.join(", "),
      what: "listen",
      setting:
        '--listen MULTIADDR, TESSERAS_LISTEN or "listen" in tesseras.json',
    });
  }
}

/**
 * The catalogue's background work: the record is put again every 12 h,
 * and a node recovered from its phrase (`restore.pending`, written by
 * `tesseras recover`) takes its tesseras back, trying until the
 * catalogue is found; the marker goes once it is done.
 */
async function startCatalogueWork(
  network: NetworkCatalogue,
  { config, cleanups }: { config: NodeConfig; cleanups: Assembly["cleanups"] },
): Promise<void> {
  const marker = dataLayout(config.dataDir).restorePending;
  const pending = await Deno.lstat(marker).then(() => true, () => false);
  const stop = new AbortController();
  // The record is put again while we run, so peers keep it.
  const running = [refreshLoop(network, { signal: stop.signal })];
  if (pending) {
    running.push(restoreLoop(network, {
      signal: stop.signal,
      onDone: () => Deno.remove(marker).catch(() => {}),
    }));
  }
  cleanups.push(async () => {
    await Promise.all(running);
  });
  cleanups.push(() => stop.abort(new Error("daemon stopping")));
}

/** Other owners' catalogue records put again while they are due. */
function startRecordKeeping(
  keeper: RecordKeeper,
  { node, cleanups }: { node: TesserasNode; cleanups: Assembly["cleanups"] },
): void {
  const stop = new AbortController();
  const running = keepLoop(keeper, new Libp2pRecords(node), {
    signal: stop.signal,
  });
  cleanups.push(() => running);
  cleanups.push(() => stop.abort(new Error("daemon stopping")));
}

/** The repair loop and the stale-peer cleanup, stopped by the cleanups. */
function startBackground(
  service: ReplicationService,
  { config, peers, history, cleanups }: {
    config: NodeConfig;
    peers: SqlitePeerStore;
    history: SweepHistory;
    cleanups: Assembly["cleanups"];
  },
): void {
  const background = new AbortController();
  const loop = new RepairLoop(service, {
    clock: systemClock,
    rng: cryptoRng,
    signal: background.signal,
    onSweep: (report) => {
      history.record(report, "loop");
      log.info(
        "repair sweep: {healthy} healthy, {repaired} repaired, {degraded} degraded, {lost} lost",
        { ...report },
      );
    },
  });
  loop.start();
  cleanups.push(() => loop.stop());
  const scrub = new ScrubLoop((o) => service.scrubHeld(o), {
    intervalMs: service.config.scrubIntervalMs,
    clock: systemClock,
    onScrub: (r) =>
      log.info("scrub: {checked} held shards read, {corrupt} corrupt removed", {
        checked: r.checked,
        corrupt: r.corrupt.length,
      }),
  });
  scrub.start();
  cleanups.push(() => scrub.stop());
  const cleanup = staleCleanupLoop(peers, {
    maxAgeSeconds: config.staleAfterSeconds,
    signal: background.signal,
  });
  cleanups.push(() => cleanup);
  // Cleanups run in reverse: abort the background work before awaiting it.
  cleanups.push(() => background.abort(new Error("daemon stopping")));
}

/** Writes api.json last: its presence tells the CLI the node is ready. */
async function publishApiInfo(
  config: NodeConfig,
  { api, peerId, cleanups }: {
    api: { server: ApiServer; token: string };
    peerId: string;
    cleanups: Assembly["cleanups"];
  },
): Promise<void> {
  const path = dataLayout(config.dataDir).apiInfo;
  await writeApiInfo(path, {
    url: api.server.url,
    token: api.token,
    pid: Deno.pid,
    peerId,
  });
  cleanups.push(() => Deno.remove(path).catch(() => {}));
}

/**
 * An address already in use becomes one line that names the address and
 * what sets it; any other failure passes through unchanged.
 */
function addressFailure(
  err: unknown,
  where: { address: string; what: string; setting: string },
): unknown {
  if (!isAddressInUse(err)) return err;
  const taken = addressesInUse(err);
  return new TesserasError(
    "UNREACHABLE",
    `cannot ${where.what} on ${
      taken.length > 0 ? taken.join(", ") : where.address
    }: the address is already in use (another tesseras node?); choose another with ${where.setting}`,
    { cause: err },
  );
}

function isAddressInUse(err: unknown): boolean {
  for (let e = err; e !== undefined && e !== null; e = (e as Error).cause) {
    if (e instanceof Deno.errors.AddrInUse) return true;
    if (
      /EADDRINUSE|address already in use/i.test(String((e as Error).message))
    ) {
      return true;
    }
    if (!(e instanceof Error)) break;
  }
  return false;
}

/** The multiaddrs libp2p names as taken in its listen error. */
function addressesInUse(err: unknown): string[] {
  const text = String((err as Error)?.message ?? err);
  return [...text.matchAll(/(\/ip[46]\/\S+?): Error: listen EADDRINUSE/g)]
    .map((m) => m[1]);
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
