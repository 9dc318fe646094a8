/**
 * The daemon's side of the local API: answers each route from the
 * replication service, the stores and the libp2p node.
 *
 * @module
 */
import { dirname, join } from "node:path";
import {
  assertTesseraId,
  type PeerBalance,
  TesserasError,
  type TrackedTessera,
} from "../core/mod.ts";
import type { TesserasNode } from "../net/mod.ts";
import {
  type HealthReport,
  type PlacementSafety,
  placementSafety,
  type ReplicationService,
  type SweepReport,
} from "../replication/mod.ts";
import {
  freeDiskBytes,
  type FsBlobStore,
  type FsFragmentStore,
  isNoSpace,
  type SqliteHolderRegistry,
  type SqlitePeerStore,
  type SqliteReciprocityLedger,
} from "../storage/mod.ts";
import type {
  ApiBackend,
  GetOptions,
  ProgressEvent,
  PutOptions,
} from "./api.ts";
import type { NodeConfig } from "./config.ts";
import { checkOutputFree, checkStorableFile } from "./local_files.ts";
import { renderMetrics } from "./metrics.ts";
import type { OwnerCatalogue } from "./owner_catalogue.ts";
import {
  CATALOGUE_TESSERA_META,
  type NetworkCatalogue,
} from "./network_catalogue.ts";
import {
  decryptingSink,
  plainSink,
  type RetrieveSink,
  sealFile,
} from "./private_files.ts";
import { newContentKey } from "../crypto/mod.ts";
import { reachabilityJson } from "./reachability.ts";

/** What the backend answers from. */
export interface DaemonParts {
  /** Settings in force. */
  readonly config: NodeConfig;
  /** The libp2p node. */
  readonly node: TesserasNode;
  /** The replication service. */
  readonly service: ReplicationService;
  /** Shards held. */
  readonly fragments: FsFragmentStore;
  /** Our own tesseras' local copies (`put --no-local-copy` keeps none). */
  readonly blobs: FsBlobStore;
  /** Reciprocity ledger. */
  readonly ledger: SqliteReciprocityLedger;
  /** Placement records of our tesseras. */
  readonly holders: SqliteHolderRegistry;
  /** Persistent peer table. */
  readonly peers: SqlitePeerStore;
  /** Told of every sweep run through {@linkcode DaemonBackend.repair}. */
  readonly onSweep?: (report: SweepReport) => void;
  /** The owner's catalogue: names, sizes, private tesseras' keys. */
  readonly catalogue: OwnerCatalogue;
  /** Where private tesseras are encrypted before a put. */
  readonly sealingDir: string;
  /** The catalogue on the network; `null` on a node without a phrase. */
  readonly network?: NetworkCatalogue | null;
}

/** One tessera's line in `tesseras status`. */
export interface TesseraStatus {
  /** Tessera id. */
  readonly id: string;
  /** Fragmentation tier. */
  readonly tier: string;
  /** Size in bytes. */
  readonly size: number;
  /** Shards in all. */
  readonly shardCount: number;
  /** Shards needed to rebuild. */
  readonly dataShards: number;
  /** Shards with at least one live holder. */
  readonly liveShards: number;
  /** Shards with none. */
  readonly lostShards: number;
  /** Distinct holders. */
  readonly holderCount: number;
  /** `healthy`, `needs_replication`, `corrupt_local` or `unchecked`. */
  readonly health: string;
  /** Last check, ISO time, or `null`. */
  readonly lastCheckedAt: string | null;
  /** Holders per shard index (live ones when just checked). */
  readonly holders?: readonly { index: number; peerId: string }[];
  /** What its holders survive: peer losses and subnet outages. */
  readonly safety?: PlacementSafety;
  /** The name given with `put --name`, when one was. */
  readonly name?: string;
  /** True for a private tessera (`size` is then its ciphertext's). */
  readonly private?: boolean;
  /** Whether the data directory keeps a copy of it. */
  readonly localCopy: boolean;
}

/** A live check's shard and holder counts, and when it ran. */
interface CheckedCounts {
  readonly at: number;
  readonly liveShards: number;
  readonly lostShards: number;
  readonly holderCount: number;
  readonly safety: PlacementSafety;
}

/** The {@linkcode ApiBackend} of a running daemon. */
export class DaemonBackend implements ApiBackend {
  readonly #parts: DaemonParts;
  /**
   * The counts of each tessera's last live check (`status ID`), by id. A
   * check records only its verdict in the registry and drops no holder
   * (repair does), so the plain list would pair the new verdict with the
   * old holders' counts; it uses these while the verdict is this check's.
   */
  readonly #checked = new Map<string, CheckedCounts>();

  /** @param parts the daemon's services */
  constructor(parts: DaemonParts) {
    this.#parts = parts;
  }

  /** `/health`: status, peer counts, uptime and the peer table's totals. */
  async health(): Promise<unknown> {
    const { node, peers, config } = this.#parts;
    const stats = await peers.stats(config.staleAfterSeconds);
    return {
      status: "OK",
      peer_id: node.peerId,
      peer_count: node.connectedPeers().length,
      uptime_seconds: Math.floor((Date.now() - node.startedAt) / 1000),
      bootstrap_mode: config.bootstrapMode,
      reachability: reachabilityJson(node.reachability()),
      storage: {
        total_peers: stats.totalPeers,
        total_addresses: stats.totalAddresses,
        stale_peers: stats.stalePeers,
      },
    };
  }

  /** `/metrics` in Prometheus text format. */
  async metrics(): Promise<string> {
    const { node, fragments, holders, peers, config } = this.#parts;
    const stats = await peers.stats(config.staleAfterSeconds);
    return renderMetrics({
      connectedPeers: node.connectedPeers().length,
      routingTableSize: node.routingTableSize(),
      knownPeers: stats.totalPeers,
      knownAddresses: stats.totalAddresses,
      fragmentsHeld: fragments.count(),
      fragmentBytesHeld: await fragments.totalBytes(),
      tesserasTracked: (await holders.list()).length,
      uptimeSeconds: (Date.now() - node.startedAt) / 1000,
      diskFreeBytes: await freeDiskBytes(config.dataDir).catch(() => NaN),
      perPeerLimitBytes: config.replication.perPeerStorageLimitBytes,
      minFreeSpaceBytes: config.replication.minFreeSpaceBytes,
      deficitToleranceBytes: config.replication.deficitToleranceBytes,
      counters: node.counters(),
      reachability: node.reachability(),
    });
  }

  /** Peer id and listen addresses. */
  identity(): Promise<unknown> {
    const { node } = this.#parts;
    const reachability = node.reachability();
    return Promise.resolve({
      peerId: node.peerId,
      addresses: node.multiaddrs(),
      reachability: reachability.reachability,
      dialableAddresses: reachability.addresses,
    });
  }

  /** Connected peers and the persistent peer table. */
  async peers(): Promise<unknown> {
    const { node, peers } = this.#parts;
    const rows = await peers.listAddresses();
    const known = new Map<
      string,
      { peerId: string; multiaddrs: string[]; lastSeen: number }
    >();
    for (const r of rows) {
      const entry = known.get(r.peerId) ??
        { peerId: r.peerId, multiaddrs: [], lastSeen: 0 };
      entry.multiaddrs.push(r.multiaddr);
      entry.lastSeen = Math.max(entry.lastSeen, r.lastSeen);
      known.set(r.peerId, entry);
    }
    return {
      // A connection's remote address is, for an inbound one, an ephemeral
      // port; the peer store keeps listen addresses (identify, outbound).
      connected: node.connectedPeers().map((p) => ({
        peerId: p.id,
        address: known.get(p.id)?.multiaddrs[0] ?? p.addresses[0] ?? "",
        ip: p.ip ?? null,
      })),
      known: [...known.values()],
    };
  }

  /**
   * Keep the file as our blob and replicate it, streaming: the file is
   * never held in memory (see `ReplicationService.putTesseraFile`). A
   * private put encrypts it first into a scratch file (the ciphertext is
   * what is coded, placed and audited) and records its key, sealed, in
   * the catalogue before anything leaves the machine.
   */
  async putFile(
    path: string,
    given: PutOptions,
  ): Promise<{ id: string; size: number; tier: string }> {
    const size = await checkStorableFile(path);
    // One event a percent and phase, not one per segment or stripe.
    const onProgress = given.onProgress && steppedProgress(given.onProgress);
    const options = { ...given, onProgress };
    if (options.private) {
      return await this.#published(await this.#putPrivate(path, options));
    }
    const report = await this.#place(path, options);
    await this.#parts.catalogue.record({
      id: report.id,
      name: options.name,
      size,
    });
    return await this.#published(report);
  }

  /**
   * `report` with what became of the catalogue's publication after the
   * put: the put itself stands either way (the next one publishes again).
   */
  async #published<T extends object>(report: T): Promise<T> {
    const { network } = this.#parts;
    if (!network) return report;
    try {
      const { id, peers } = await network.publish();
      return { ...report, catalogue: { id, peers } };
    } catch (err) {
      return {
        ...report,
        catalogue: { error: (err as Error)?.message ?? String(err) },
      };
    }
  }

  async #putPrivate(
    path: string,
    options: PutOptions,
  ): Promise<{ id: string; size: number; tier: string }> {
    const { catalogue, sealingDir } = this.#parts;
    catalogue.requirePhrase();
    const contentKey = newContentKey();
    const sealed = await sealFile(path, {
      dir: sealingDir,
      contentKey,
      onProgress: (done, total) =>
        options.onProgress?.({ done, total, phase: "encrypt" }),
    });
    try {
      // The encode hashes the ciphertext into the id (once); the key is
      // recorded then, before anything is kept or leaves. The sealed file
      // is ours: moved into the staging, not copied.
      const report = await this.#place(sealed.path, {
        ...options,
        consumeFile: true,
        onEncoded: (id) =>
          catalogue.record({
            id,
            name: options.name,
            size: sealed.plainSize,
            contentKey,
          }),
      });
      return { ...report, size: sealed.plainSize, private: true } as {
        id: string;
        size: number;
        tier: string;
      };
    } finally {
      contentKey.fill(0);
      await Deno.remove(sealed.path).catch(() => {});
    }
  }

  async #place(
    path: string,
    options: PutOptions & {
      readonly consumeFile?: boolean;
      readonly onEncoded?: (id: string) => Promise<void>;
    },
  ): Promise<{ id: string; size: number; tier: string }> {
    const report = await this.#parts.service.putTesseraFile(path, {
      consumeFile: options.consumeFile === true,
      ...(options.onEncoded ? { onEncoded: options.onEncoded } : {}),
      onEncode: (done, total) =>
        options.onProgress?.({ done, total, phase: "encode" }),
      onProgress: (p) =>
        options.onProgress?.({
          done: p.shardsDone,
          total: p.shardsTotal,
          phase: "upload",
        }),
    });
    const rebuildable = new Set(
      report.placed.filter((p) => p.peerId !== this.#parts.node.peerId)
        .map((p) => p.index),
    ).size;
    return {
      id: report.tesseraId,
      size: report.plan.size,
      tier: report.plan.tier,
      ...(options.localCopy === false
        ? await this.#letGoAfterPut(report.tesseraId, {
          rebuildable,
          needed: report.plan.dataShards,
        })
        : { localCopy: true }),
      ...{
        holders: report.peers,
        placed: report.placed.length,
        unplaced: report.unplaced.length,
        tolerance: report.tolerance,
        safety: report.safety,
      },
    };
  }

  /**
   * `put --no-local-copy`: remove the blob only when at least `needed`
   * distinct shards went to other peers (the network can rebuild it);
   * else keep it and say why.
   */
  async #letGoAfterPut(
    id: string,
    counts: { rebuildable: number; needed: number },
  ): Promise<{ localCopy: boolean; keptBecause?: string }> {
    if (counts.rebuildable < counts.needed) {
      return {
        localCopy: true,
        keptBecause:
          `only ${counts.rebuildable} of the ${counts.needed} shards needed to rebuild it were placed on peers: the local copy is kept (\`tesseras drop-local ${id}\` once \`repair\` has placed more)`,
      };
    }
    await this.#parts.blobs.delete(id);
    return { localCopy: false };
  }

  /**
   * `drop-local`: our copy of `id` goes only when a fresh audit proves, on
   * live holders other than us, at least `dataShards` distinct shards
   * (grace holders, which did not answer, do not count). Refused with
   * `INSUFFICIENT_SHARDS` and the counts otherwise; no copy: nothing to do.
   */
  async dropLocal(
    id: string,
    options: { onProgress?: (event: ProgressEvent) => void } = {},
  ): Promise<unknown> {
    assertTesseraId(id);
    const { holders, blobs, service } = this.#parts;
    if (!await holders.get(id)) {
      throw new TesserasError(
        "NOT_FOUND",
        `tessera ${id} is not one of this node's tesseras`,
      );
    }
    if (!await blobs.has(id)) return { id, localCopy: false, dropped: false };
    options.onProgress?.({ done: 0, total: 1, phase: "audit" });
    const report = await service.inspectTessera(id);
    options.onProgress?.({ done: 1, total: 1, phase: "audit" });
    const proven = this.#provenIndices(report);
    const needed = report.plan.dataShards;
    if (proven.size < needed || report.verification === "checksum") {
      throw new TesserasError(
        "INSUFFICIENT_SHARDS",
        `keeping the local copy of ${id}: live holders proved ${proven.size} distinct shards of the ${needed} needed to rebuild it (${report.lostIndices.length} of ${report.plan.shardCount} lost${
          report.verification === "checksum"
            ? "; only checksums could be checked"
            : ""
        }); run \`tesseras repair ${id}\` and try again`,
      );
    }
    await blobs.delete(id);
    return {
      id,
      localCopy: false,
      dropped: true,
      provenShards: proven.size,
      dataShards: needed,
    };
  }

  /** Shard indices a live holder other than us proved in `report`. */
  #provenIndices(report: HealthReport): Set<number> {
    const me = this.#parts.node.peerId;
    return new Set(
      report.holders.filter((h) =>
        h.peerId !== me && (h.status === "attested" || h.status === "partial")
      ).flatMap((h) => h.liveIndices),
    );
  }

  /**
   * The read capability (`tsr1…`) of our private tessera `id`.
   * `NOT_FOUND` when it is not ours, `INVALID_INPUT` when it is public.
   */
  async share(id: string): Promise<{ id: string; capability: string }> {
    assertTesseraId(id);
    return { id, capability: await this.#parts.catalogue.capability(id) };
  }

  /**
   * Retrieve and verify the tessera into a temp file beside `outPath`,
   * streaming (never whole in memory), then move it into place: an
   * interrupted or failed get leaves nothing under the name. An existing
   * `outPath` is refused (`INVALID_INPUT`) unless `force`, both before the
   * work and, without replacing it, at the end. Progress: shards fetched
   * (`fetch`), then bytes written (`write`) when the size is known.
   * `signal` (the client went away) stops it and removes the temp file.
   * A private tessera is decrypted on the way with `options.key` (from a
   * read capability) or the catalogue's key; without either it is refused
   * (`UNAUTHORIZED`), and nothing of it is left on disk on any failure.
   */
  async getToFile(
    id: string,
    options: GetOptions,
  ): Promise<{ id: string; size: number }> {
    assertTesseraId(id);
    const force = options.force === true;
    if (!force) await checkOutputFree(options.outPath);
    const key = options.key ?? await this.#parts.catalogue.contentKey(id);
    const ours = (await this.#parts.catalogue.entry(id)) !== null;
    const tmp = join(
      dirname(options.outPath),
      `.tesseras-get-${crypto.randomUUID()}.tmp`,
    );
    try {
      const size = await this.#retrieveInto(tmp, id, {
        ...options,
        sink: (file) =>
          key
            ? decryptingSink(file, key)
            : plainSink(file, { refusePrivate: !ours, id }),
      });
      await moveIntoPlace(tmp, options.outPath, { force });
      return { id, size };
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw writeFailure(err, options.outPath);
    } finally {
      key?.fill(0);
    }
  }

  /**
   * The tessera's bytes through the sink made by `options.sink` into a
   * new file at `path` (mode 0600), synced; the size written.
   */
  async #retrieveInto(
    path: string,
    id: string,
    options: {
      onProgress?: (event: ProgressEvent) => void;
      signal?: AbortSignal;
      sink: (file: Deno.FsFile) => RetrieveSink;
    },
  ): Promise<number> {
    const { onProgress, signal } = options;
    const progress = onProgress && steppedProgress(onProgress);
    const total = (await this.#parts.holders.get(id))?.plan.size;
    let written = 0;
    const file = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      const sink = options.sink(file);
      await this.#parts.service.retrieveTesseraTo(id, {
        async write(bytes) {
          signal?.throwIfAborted();
          await sink.write(bytes);
          written += bytes.length;
          if (total) progress?.({ done: written, total, phase: "write" });
        },
        async reset() {
          await sink.reset();
          written = 0;
        },
      }, {
        signal,
        onProgress: (p) =>
          progress?.({ done: p.shards, total: p.needed, phase: "fetch" }),
      });
      await sink.finish();
      signal?.throwIfAborted();
      await file.sync();
      return sink.size;
    } finally {
      file.close();
    }
  }

  /** One tessera checked live now, or every tracked one from the registry. */
  async status(id?: string): Promise<unknown> {
    const { holders, service } = this.#parts;
    if (id === undefined) {
      // The sealed catalogue is how the tesseras are found, not one of them.
      const own = await this.#parts.catalogue.meta(CATALOGUE_TESSERA_META);
      const tracked = (await holders.list()).filter((t) => t.tesseraId !== own);
      return await Promise.all(tracked.map((t) => this.#recorded(t)));
    }
    assertTesseraId(id);
    const tracked = await holders.get(id);
    if (!tracked) {
      throw new TesserasError(
        "NOT_FOUND",
        `tessera ${id} is not one of this node's tesseras`,
      );
    }
    const report = await service.inspectTessera(id);
    const live = report.holders.flatMap((h) =>
      h.liveIndices.map((index) => ({ index, peerId: h.peerId }))
    );
    this.#checked.set(id, {
      at: report.checkedAt,
      liveShards: report.liveIndices.length,
      lostShards: report.lostIndices.length,
      holderCount: new Set(live.map((h) => h.peerId)).size,
      safety: report.safety,
    });
    return {
      id,
      tier: report.plan.tier,
      size: report.plan.size,
      shardCount: report.plan.shardCount,
      dataShards: report.plan.dataShards,
      liveShards: report.liveIndices.length,
      lostShards: report.lostIndices.length,
      holderCount: new Set(live.map((h) => h.peerId)).size,
      health: report.health.kind,
      lastCheckedAt: new Date(report.checkedAt).toISOString(),
      holders: live,
      tolerance: report.tolerance,
      safety: report.safety,
      verification: report.verification,
      holderChecks: report.holders,
      localCopy: await this.#parts.blobs.has(id),
      ...await this.#catalogued(id),
    } satisfies TesseraStatus & Record<string, unknown>;
  }

  async #recorded(t: TrackedTessera): Promise<TesseraStatus> {
    return {
      id: t.tesseraId,
      tier: t.plan.tier,
      size: t.plan.size,
      shardCount: t.plan.shardCount,
      dataShards: t.plan.dataShards,
      ...await this.#counts(t),
      health: t.lastHealth ?? "unchecked",
      lastCheckedAt: t.lastCheckedAt === null
        ? null
        : new Date(t.lastCheckedAt).toISOString(),
      localCopy: await this.#parts.blobs.has(t.tesseraId),
      ...await this.#catalogued(t.tesseraId),
    };
  }

  /** What the catalogue adds to a status line: the name, private or not. */
  async #catalogued(
    id: string,
  ): Promise<Pick<TesseraStatus, "name" | "private">> {
    const entry = await this.#parts.catalogue.entry(id);
    if (entry === null) return {};
    return {
      ...(entry.name === null ? {} : { name: entry.name }),
      private: entry.sealedKey !== null,
    };
  }

  /**
   * The last live check's counts and safety while its verdict stands,
   * else the registry's holder records'.
   */
  async #counts(t: TrackedTessera): Promise<Omit<CheckedCounts, "at">> {
    const checked = this.#checked.get(t.tesseraId);
    if (checked !== undefined && checked.at === t.lastCheckedAt) {
      const { at: _, ...counts } = checked;
      return counts;
    }
    const records = await this.#parts.holders.holders(t.tesseraId);
    const covered = new Set(records.map((r) => r.index));
    return {
      liveShards: covered.size,
      lostShards: t.plan.shardCount - covered.size,
      holderCount: new Set(records.map((r) => r.peerId)).size,
      safety: placementSafety(t.plan, records),
    };
  }

  /** Every ledger row. */
  ledger(): Promise<PeerBalance[]> {
    return this.#parts.ledger.list();
  }

  /** A repair sweep now, of one tessera or all. */
  async repair(
    id?: string,
    options: { onProgress?: (event: ProgressEvent) => void } = {},
  ): Promise<unknown> {
    const report = await this.#parts.service.repairSweep({
      ...(id ? { ids: [id] } : {}),
      onProgress: options.onProgress,
    });
    this.#parts.onSweep?.(report);
    // The sealed catalogue is repaired like any tessera, but reported
    // apart: it is how the tesseras are found, not one of them.
    const own = await this.#parts.catalogue.meta(CATALOGUE_TESSERA_META);
    const catalogue = report.tesseras.find((t) => t.tesseraId === own);
    return {
      ...report,
      tesseras: report.tesseras.filter((t) => t !== catalogue).map(repairLine),
      ...(catalogue ? { catalogue: repairLine(catalogue) } : {}),
    };
  }
}

/** One tessera's line of a repair report, as the API answers it. */
function repairLine(t: SweepReport["tesseras"][number]) {
  return {
    id: t.tesseraId,
    before: t.before.kind,
    after: t.after.kind,
    lostIndices: t.lostIndices,
    rebuiltShards: t.rebuilt.length,
    newHolders: new Set(t.placed.map((p) => p.peerId)).size,
    placed: t.placed,
    removed: t.removed,
    source: t.source,
    bytesFetched: t.bytesFetched,
    bytesSent: t.bytesSent,
    tolerance: t.tolerance,
    safety: t.safety,
    shortBecause: t.shortBecause,
    error: t.error,
  };
}

/**
 * Renames `tmp` to `path`; without `force`, through a hard link that fails
 * when `path` appeared meanwhile, so a file made during a long get is never
 * replaced (where links are not supported, a last check then the rename).
 */
async function moveIntoPlace(
  tmp: string,
  path: string,
  options: { force: boolean },
): Promise<void> {
  if (options.force) return await Deno.rename(tmp, path);
  try {
    await Deno.link(tmp, path);
  } catch {
    // Taken meanwhile: this throws. Links unsupported: check, then rename.
    await checkOutputFree(path);
    return await Deno.rename(tmp, path);
  }
  await Deno.remove(tmp);
}

/** A failed get's error: ours as is, a full disk or another write failure named. */
function writeFailure(err: unknown, outPath: string): TesserasError {
  if (err instanceof TesserasError) return err;
  if (isNoSpace(err)) {
    return new TesserasError(
      "INSUFFICIENT_SPACE",
      `not enough disk space to write ${outPath}`,
    );
  }
  return new TesserasError("STORAGE_ERROR", `cannot write ${outPath}: ${err}`);
}

/**
 * Forwards a progress event only when its phase or whole percentage
 * changes: a 1 GiB get writes some 16,000 chunks, the bar needs 100 steps.
 */
function steppedProgress(
  onProgress: (event: ProgressEvent) => void,
): (event: ProgressEvent) => void {
  let last = "";
  return (event) => {
    const percent = event.total > 0
      ? Math.floor((100 * event.done) / event.total)
      : 0;
    const key = `${event.phase}:${percent}`;
    if (key === last) return;
    last = key;
    onProgress(event);
  };
}
