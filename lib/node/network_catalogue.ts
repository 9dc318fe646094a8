/**
 * The owner's catalogue on the network (issue 15): after every put the
 * whole local catalogue (ids, names, sizes, times, private tesseras' keys)
 * is sealed with the phrase's catalogue key, stored as a small tessera,
 * and pointed at by a signed record under the phrase's record key in the
 * DHT. A node recovered from the phrase looks the record up, opens the
 * catalogue and takes its tesseras back: each is fetched from its holders
 * and put again, so it is the owner's once more (tracked, audited,
 * repaired). Formats and checks: `lib/crypto`, docs/keys.md.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { fromHex, type TesseraId, TesserasError, toHex } from "../core/mod.ts";
import {
  type CatalogueEntry,
  newerRecord,
  openCatalogue,
  type PhraseKeys,
  sealCatalogue,
  signRecord,
  verifyRecord,
} from "../crypto/mod.ts";
import type { Libp2pRecords, RecordRules } from "../net/mod.ts";
import {
  checksumsDigest,
  type ReplicationService,
} from "../replication/mod.ts";
import type { SqliteHolderRegistry } from "../storage/mod.ts";
import type { OwnerCatalogue } from "./owner_catalogue.ts";
import { plainSink } from "./private_files.ts";
import { pause, type RecordKeeper } from "./record_keeper.ts";

const log = getLogger(["tesseras", "node", "catalogue"]);

/** `node_meta` key of the tessera holding the current sealed catalogue. */
export const CATALOGUE_TESSERA_META = "catalogue_tessera";
/** `node_meta` key of the last signed record (hex), re-put to keep it alive. */
export const CATALOGUE_RECORD_META = "catalogue_record";
/**
 * How often a running owner puts its record again: peers drop a record 48
 * h after they received it (kad-dht's validity), and a restarted peer has
 * forgotten it (kad-dht keeps records in memory).
 */
export const RECORD_REFRESH_MS = 12 * 60 * 60 * 1000;

/**
 * The DHT's rules for catalogue records: kept only when `verifyRecord`
 * accepts them under their key; of several, the highest sequence wins.
 * With a `keeper`, every valid record is also offered to it (kept on disk
 * and republished), and one older than the record it keeps is refused
 * (kad-dht's PUT_VALUE would otherwise overwrite a newer record with a
 * replayed older one: its selector only runs on lookups).
 *
 * @example
 * ```ts
 * import { recordKadInit } from "../net/mod.ts";
 * const init = recordKadInit(catalogueRecordRules());
 * ```
 */
export function catalogueRecordRules(keeper?: RecordKeeper): RecordRules {
  return {
    async validate(key, value) {
      if (keeper) await keeper.offer(key, value);
      else await verifyRecord(value, { recordKey: key });
    },
    async select(key, values) {
      let best = -1;
      let bestSequence = -1;
      for (const [i, value] of values.entries()) {
        const record = await verifyRecord(value, { recordKey: key }).catch(
          () => null,
        );
        if (record && record.sequence > bestSequence) {
          best = i;
          bestSequence = record.sequence;
        }
      }
      return Math.max(best, 0);
    },
  };
}

/** What the network catalogue works with. */
export interface NetworkCatalogueParts {
  /** The phrase keys. */
  readonly keys: PhraseKeys;
  /** The local catalogue. */
  readonly catalogue: OwnerCatalogue;
  /** The DHT's records. */
  readonly records: Libp2pRecords;
  /** This node's record keeper: it keeps our own latest record too. */
  readonly keeper?: RecordKeeper;
  /** The replication service (puts, retrievals). */
  readonly service: ReplicationService;
  /** The owner's placement records. */
  readonly holders: SqliteHolderRegistry;
  /** Scratch space for tesseras being taken back. */
  readonly scratchDir: string;
}

/**
 * Publishes the catalogue and restores from it.
 *
 * @example
 * ```ts
 * declare const parts: NetworkCatalogueParts;
 * const network = new NetworkCatalogue(parts);
 * await network.publish();
 * ```
 */
export class NetworkCatalogue {
  readonly #parts: NetworkCatalogueParts;
  /** Publications one after another: the last one has every put. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @param parts keys, stores, DHT records and the service */
  constructor(parts: NetworkCatalogueParts) {
    this.#parts = parts;
  }

  /**
   * Seal the local catalogue, store it as a tessera, and point the
   * phrase's record at it; resolves with the catalogue tessera's id and
   * how many peers took the record.
   */
  publish(): Promise<{ id: TesseraId; peers: number }> {
    const run = this.#queue.then(() => this.#publish());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #publish(): Promise<{ id: TesseraId; peers: number }> {
    const { keys, catalogue, service, records, holders } = this.#parts;
    const entries: CatalogueEntry[] = [];
    for (const e of await catalogue.list()) {
      const key = await catalogue.contentKey(e.id);
      const tracked = await holders.get(e.id);
      entries.push({
        id: e.id,
        ...(e.name === null ? {} : { name: e.name }),
        size: e.size,
        time: e.time,
        ...(key === null ? {} : { key: toHex(key) }),
        // What lets a recovered owner adopt it without downloading it.
        ...(tracked === null ? {} : {
          plan: tracked.plan,
          checks: checksumsDigest(tracked.checksums),
        }),
      });
    }
    const sealed = await sealCatalogue({ entries }, keys.catalogueKey);
    const { tesseraId } = await service.putTessera(sealed);
    const previous = await catalogue.meta(CATALOGUE_TESSERA_META);
    await catalogue.setMeta(CATALOGUE_TESSERA_META, tesseraId);
    // The older sealed catalogue is no longer ours to keep alive.
    if (previous && previous !== tesseraId) await holders.untrack(previous);
    const now = Date.now();
    const record = await signRecord(
      { sequence: now, timestamp: now, catalogueId: tesseraId },
      keys.catalogueSigner,
    );
    await catalogue.setMeta(CATALOGUE_RECORD_META, toHex(record));
    await this.#parts.keeper?.offer(keys.recordKey, record);
    const peers = await records.put(keys.recordKey, record);
    log.info("published the catalogue ({n} tesseras) to {peers} peers", {
      n: entries.length,
      peers,
    });
    return { id: tesseraId, peers };
  }

  /**
   * Put the last published record again (nothing before the first
   * publication); resolves with how many peers took it.
   */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { keys, catalogue, records } = this.#parts;
    const hex = await catalogue.meta(CATALOGUE_RECORD_META);
    if (hex === null) return 0;
    return await records.put(keys.recordKey, fromHex(hex), options);
  }

  /**
   * Find the phrase's catalogue, add its entries to the local catalogue
   * and take every tessera in it back (fetch it, put it again).
   * `NOT_FOUND` when no record is found (yet).
   */
  async restore(options: { signal?: AbortSignal } = {}): Promise<number> {
    const { keys, catalogue, service, records } = this.#parts;
    const found = await records.get(keys.recordKey, options);
    if (found === null) {
      throw new TesserasError(
        "NOT_FOUND",
        "no catalogue for this recovery phrase on the network (yet)",
      );
    }
    const record = newerRecord(
      null,
      await verifyRecord(found, { recordKey: keys.recordKey }),
    );
    const sealed = await service.retrieveTessera(record.catalogueId, options);
    const { entries } = await openCatalogue(sealed, keys.catalogueKey);
    for (const e of entries) {
      await catalogue.record({
        id: e.id,
        name: e.name,
        size: e.size,
        time: e.time,
        contentKey: e.key === undefined ? undefined : fromHex(e.key),
      });
    }
    await catalogue.setMeta(CATALOGUE_TESSERA_META, record.catalogueId);
    for (const e of entries) await this.#takeBack(e, options);
    return entries.length;
  }

  /**
   * Make tessera `e` ours again: adopted from its holders' answers when
   * the catalogue has its plan and checks, else (or when that fails)
   * fetched whole and put again.
   */
  async #takeBack(e: CatalogueEntry, options: { signal?: AbortSignal }) {
    const { service, holders } = this.#parts;
    if (await holders.get(e.id)) return;
    if (e.plan && e.checks) {
      try {
        const adopted = await service.adoptTessera(e.id, {
          plan: e.plan,
          digest: e.checks,
        }, options);
        log.info("took tessera {id} back from {n} holders' answers", {
          id: e.id,
          n: adopted.holders,
        });
        return;
      } catch (err) {
        if (options.signal?.aborted) throw err;
        log.warn("adopting tessera {id}: {error}; fetching it whole", {
          id: e.id,
          error: (err as Error)?.message ?? String(err),
        });
      }
    }
    await this.#fetchAndPut(e.id, options);
  }

  /** Fetch tessera `id` from its holders and put it again as ours. */
  async #fetchAndPut(id: TesseraId, options: { signal?: AbortSignal }) {
    const { service, scratchDir } = this.#parts;
    await Deno.mkdir(scratchDir, { recursive: true, mode: 0o700 });
    const path = join(scratchDir, `${crypto.randomUUID()}.restore`);
    const file = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      try {
        // The bytes as stored: a private tessera is put back sealed.
        const sink = plainSink(file, { refusePrivate: false });
        await service.retrieveTesseraTo(id, sink, options);
        await file.sync();
      } finally {
        file.close();
      }
      const report = await service.putTesseraFile(path, options);
      log.info("took tessera {id} back from the network ({holders} holders)", {
        id,
        holders: report.peers,
      });
    } finally {
      await Deno.remove(path).catch(() => {});
    }
  }
}

/**
 * Put the record again every `everyMs` (first after `firstMs`) until
 * `signal` aborts; failures are logged and tried at the next turn.
 *
 * @example
 * ```ts
 * declare const network: NetworkCatalogue;
 * const done = refreshLoop(network, { signal: AbortSignal.timeout(1000) });
 * ```
 */
export async function refreshLoop(
  network: NetworkCatalogue,
  options: { signal: AbortSignal; firstMs?: number; everyMs?: number },
): Promise<void> {
  let wait = options.firstMs ?? 10_000;
  while (await pause(wait, options.signal)) {
    try {
      const peers = await network.refresh({ signal: options.signal });
      if (peers > 0) {
        log.info("refreshed the catalogue record on {peers} peers", { peers });
      }
    } catch (err) {
      if (options.signal.aborted) return;
      log.warn("refreshing the catalogue record: {error}", {
        error: (err as Error)?.message ?? String(err),
      });
    }
    wait = options.everyMs ?? RECORD_REFRESH_MS;
  }
}

/**
 * Restore in the background until it works or `signal` aborts: a right
 * phrase whose catalogue is not found yet is tried again, every 2 s at
 * first, then up to every minute. `onDone` is told once it worked.
 *
 * @example
 * ```ts
 * declare const network: NetworkCatalogue;
 * const done = restoreLoop(network, { signal: AbortSignal.timeout(60_000), onDone: () => {} });
 * ```
 */
export async function restoreLoop(
  network: NetworkCatalogue,
  options: { signal: AbortSignal; onDone: () => Promise<void> | void },
): Promise<void> {
  let wait = 2_000;
  while (!options.signal.aborted) {
    try {
      const n = await network.restore({ signal: options.signal });
      log.info("restored {n} tesseras from the network catalogue", { n });
      await options.onDone();
      return;
    } catch (err) {
      if (options.signal.aborted) return;
      log.warn(
        "restoring from the network catalogue: {error}; trying again in {s} s",
        { error: (err as Error)?.message ?? String(err), s: wait / 1000 },
      );
    }
    if (!(await pause(wait, options.signal))) return;
    wait = Math.min(60_000, wait * 2);
  }
}
