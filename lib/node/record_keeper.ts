/**
 * Keeping other owners' catalogue records alive (issue 15). kad-dht stores
 * a record it is sent for 48 h, in memory, and never puts it again: once
 * its owner is gone, a catalogue record would vanish two days later (or
 * at the next restart of the peers that took it), and with it the only
 * way from the phrase to the tesseras. The original Kademlia has every
 * node republish what it stores; kad-dht does not, so this does it for
 * catalogue records: every node keeps each valid catalogue record it is
 * sent (or finds) on disk, the newest per key, and puts it to the
 * closest peers again when nobody has put it for `republishMs`. The
 * record is signed, so anyone may republish it and nobody can alter it;
 * a keeper refuses an older record than the one it keeps (a replay) or
 * another one with the same sequence (a fork).
 *
 * Who keeps: the peers closest to the record key (the ones kad-dht sends
 * it to) and whoever looked it up. Not "the holders of the owner's
 * tesseras": nothing may tie a record to the owner's peer id (see
 * docs/keys.md), so holders cannot tell which record is their owner's.
 * As the closest peers change, each republication reaches the new
 * closest ones, which keep it in turn.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { TesserasError, toHex } from "../core/mod.ts";
import {
  type CatalogueRecord,
  newerRecord,
  verifyRecord,
} from "../crypto/mod.ts";
import { writeFileAtomic } from "../storage/mod.ts";

const log = getLogger(["tesseras", "node", "records"]);

/**
 * How long a kept record may go without anyone putting it before we put
 * it again: a quarter of kad-dht's 48 h, so three republications can fail
 * before a peer drops it.
 */
export const REPUBLISH_MS = 12 * 60 * 60 * 1000;
/** Most records one node keeps (181 bytes each on disk: about 740 KiB). */
export const MAX_KEPT_RECORDS = 4096;

/** Where kept records survive a restart. */
export interface RecordShelf {
  /** Every record saved so far. */
  load(): Promise<Uint8Array[]>;
  /** Save `bytes` as the record under the 32-byte `key` (replacing). */
  save(key: Uint8Array, bytes: Uint8Array): Promise<void>;
}

/** What the keeper puts records through (a `Libp2pRecords`). */
export interface RecordPublisher {
  /** Put `value` under `key` locally and at the closest peers. */
  put(
    key: Uint8Array,
    value: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<number>;
}

/** Options of {@linkcode RecordKeeper.open}. */
export interface RecordKeeperOptions {
  /** Time source, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Quiet time before a record is put again (default 12 h). */
  readonly republishMs?: number;
  /** Up to this fraction more, at random per record, so keepers spread out (default 0.1). */
  readonly jitter?: number;
  /** Most records kept (default 4096). */
  readonly maxRecords?: number;
}

interface Kept {
  record: CatalogueRecord;
  /** When it is next put, unless someone else puts it first. */
  dueAt: number;
}

/**
 * The catalogue records this node keeps for their owners.
 *
 * @example
 * ```ts
 * const keeper = await RecordKeeper.open(new FileRecordShelf("/tmp/records"));
 * declare const publisher: RecordPublisher;
 * await keeper.republishDue(publisher);
 * ```
 */
export class RecordKeeper {
  readonly #shelf: RecordShelf;
  readonly #now: () => number;
  readonly #republishMs: number;
  readonly #jitter: number;
  readonly #max: number;
  readonly #kept = new Map<string, Kept>();
  /** Offers one after another, so a check and its save are not interleaved. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(shelf: RecordShelf, options: RecordKeeperOptions) {
    this.#shelf = shelf;
    this.#now = options.now ?? Date.now;
    this.#republishMs = options.republishMs ?? REPUBLISH_MS;
    this.#jitter = options.jitter ?? 0.1;
    this.#max = options.maxRecords ?? MAX_KEPT_RECORDS;
  }

  /**
   * A keeper with the records saved on `shelf`; each is due at once (our
   * kad-dht has forgotten them, and the peers may have too). A saved
   * record that no longer verifies is skipped.
   */
  static async open(
    shelf: RecordShelf,
    options: RecordKeeperOptions = {},
  ): Promise<RecordKeeper> {
    const keeper = new RecordKeeper(shelf, options);
    for (const bytes of await shelf.load()) {
      try {
        const record = await verifyRecord(bytes, { now: keeper.#now() });
        keeper.#kept.set(toHex(record.recordKey), {
          record,
          dueAt: keeper.#now(),
        });
      } catch (err) {
        log.warn("skipping a saved catalogue record: {error}", {
          error: (err as Error).message,
        });
      }
    }
    return keeper;
  }

  /** How many records are kept. */
  get size(): number {
    return this.#kept.size;
  }

  /** The record kept under `key`, or `null`. */
  kept(key: Uint8Array): CatalogueRecord | null {
    return this.#kept.get(toHex(key))?.record ?? null;
  }

  /**
   * Someone put (or we found) `bytes` under the 32-byte `key`: verify it
   * and keep it if it is new or newer. Throws, so that the DHT refuses it
   * too, when it does not verify (`UNAUTHORIZED`, `INVALID_INPUT`), is
   * older than or forks the one kept (`INVALID_INPUT`), or is a new key
   * while `maxRecords` are kept (`INSUFFICIENT_SPACE`: kept records are
   * never evicted for strangers' new ones). The same record again only
   * postpones our own republication: someone else just did it.
   */
  offer(key: Uint8Array, bytes: Uint8Array): Promise<CatalogueRecord> {
    const run = this.#queue.then(() => this.#offer(key, bytes));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #offer(key: Uint8Array, bytes: Uint8Array): Promise<CatalogueRecord> {
    const now = this.#now();
    const incoming = await verifyRecord(bytes, { recordKey: key, now });
    const hex = toHex(key);
    const current = this.#kept.get(hex);
    if (!current && this.#kept.size >= this.#max) {
      throw new TesserasError(
        "INSUFFICIENT_SPACE",
        `this node already keeps ${this.#max} catalogue records`,
      );
    }
    const winner = newerRecord(current?.record ?? null, incoming);
    if (winner !== current?.record) await this.#shelf.save(key, winner.bytes);
    this.#kept.set(hex, { record: winner, dueAt: this.#nextDue(now) });
    return winner;
  }

  /**
   * Put every record nobody has put for `republishMs`; resolves with how
   * many were put. A failed put is logged and tried at the next call.
   */
  async republishDue(
    publisher: RecordPublisher,
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    let done = 0;
    for (const kept of [...this.#kept.values()]) {
      if (options.signal?.aborted) break;
      if (kept.dueAt > this.#now()) continue;
      const { record } = kept;
      try {
        const peers = await publisher.put(record.recordKey, record.bytes, {
          signal: options.signal,
        });
        kept.dueAt = this.#nextDue(this.#now());
        done++;
        log.debug("republished catalogue record {key} to {peers} peers", {
          key: toHex(record.recordKey).slice(0, 16),
          peers,
        });
      } catch (err) {
        if (options.signal?.aborted) break;
        log.warn("republishing a catalogue record: {error}", {
          error: (err as Error).message,
        });
      }
    }
    return done;
  }

  #nextDue(now: number): number {
    return now + this.#republishMs * (1 + this.#jitter * Math.random());
  }
}

/**
 * Records on disk, one file per key: `{dir}/<key hex>.rec`, written
 * atomically.
 *
 * @example
 * ```ts
 * const shelf = new FileRecordShelf("/srv/tesseras/records");
 * await shelf.load();
 * ```
 */
export class FileRecordShelf implements RecordShelf {
  readonly #dir: string;

  /** @param dir the folder (created on the first save) */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Every `.rec` file's bytes. */
  async load(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (!entry.isFile || !/^[0-9a-f]{64}\.rec$/.test(entry.name)) continue;
        out.push(await Deno.readFile(join(this.#dir, entry.name)));
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return out;
  }

  /** Write `{dir}/<key hex>.rec`. */
  async save(key: Uint8Array, bytes: Uint8Array): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.#dir, `${toHex(key)}.rec`), bytes);
  }
}

/**
 * Republish what is due every `tickMs` (first after `firstMs`) until
 * `signal` aborts.
 *
 * @example
 * ```ts
 * declare const keeper: RecordKeeper;
 * declare const publisher: RecordPublisher;
 * await keepLoop(keeper, publisher, { signal: AbortSignal.timeout(1000) });
 * ```
 */
export async function keepLoop(
  keeper: RecordKeeper,
  publisher: RecordPublisher,
  options: { signal: AbortSignal; firstMs?: number; tickMs?: number },
): Promise<void> {
  let wait = options.firstMs ?? 20_000;
  while (await pause(wait, options.signal)) {
    const n = await keeper.republishDue(publisher, { signal: options.signal });
    if (n > 0) log.info("republished {n} catalogue records", { n });
    wait = options.tickMs ?? 10 * 60 * 1000;
  }
}

/**
 * Resolves after `ms` with true, or early with false once `signal` aborts.
 *
 * @example
 * ```ts
 * await pause(10, new AbortController().signal); // true
 * ```
 */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
