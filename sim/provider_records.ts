/**
 * The simulator's provider records: who announced holding shards of which
 * tessera, as kad-dht keeps them (a record per announcer, valid for a
 * while unless refreshed). A node announces only itself, as kad-dht's
 * ADD_PROVIDER only records its sender; a key keeps at most
 * `MAX_HOLDER_RECORDS` announcers (a flood beyond is dropped). Given
 * `upUntil`, records are refreshed as kad-dht's reprovider refreshes
 * them: a record lives while its announcer is up and for the validity
 * after it went down, so a holder announces a tessera once, not daily.
 *
 * @module
 */
import { MAX_HOLDER_RECORDS, type TesseraId } from "../lib/core/mod.ts";

/** How long a record lives unrefreshed, ms: kad-dht's default, 48 h. */
export const PROVIDER_VALIDITY_MS = 48 * 3600 * 1000;

/**
 * Provider records by tessera.
 *
 * @example
 * ```ts
 * import { ProviderRecords } from "./provider_records.ts";
 * const records = new ProviderRecords();
 * records.announce("ab".repeat(32), { node: 3, now: 0 });
 * records.find("ab".repeat(32), { now: 1 }); // [3]
 * ```
 */
export class ProviderRecords {
  readonly #byKey = new Map<TesseraId, Map<number, number>>();
  readonly #validityMs: number;
  readonly #upUntil: ((node: number, now: number) => number) | null;
  /** Announcements dropped because their key was full. */
  dropped = 0;

  /**
   * @param validityMs how long a record lives unrefreshed
   * @param options `upUntil(node, now)`: when `node` was last up (`now`
   *   while it is up); without it records are never refreshed
   */
  constructor(
    validityMs = PROVIDER_VALIDITY_MS,
    options: { upUntil?: (node: number, now: number) => number } = {},
  ) {
    this.#validityMs = validityMs;
    this.#upUntil = options.upUntil ?? null;
  }

  /**
   * Whether the record of `node` in `records` that expires at `until`
   * lives at `now`; a refreshed one is kept with its new expiry, so the
   * next look within the validity needs no question.
   */
  #live(
    records: Map<number, number>,
    record: { node: number; until: number; now: number },
  ): boolean {
    const { node, until, now } = record;
    if (until > now || this.#upUntil === null) return until > now;
    const refreshed = this.#upUntil(node, now) + this.#validityMs;
    if (refreshed <= now) return false;
    records.set(node, refreshed);
    return true;
  }

  /** Node `node` withdraws its record of `key` (it no longer holds it). */
  withdraw(key: TesseraId, node: number): void {
    this.#byKey.get(key)?.delete(node);
  }

  /** Node `at.node` holds shards of `key` (refreshes its record). */
  announce(key: TesseraId, at: { node: number; now: number }): void {
    let records = this.#byKey.get(key);
    if (!records) this.#byKey.set(key, records = new Map());
    const expires = at.now + this.#validityMs;
    if (records.has(at.node) || records.size < MAX_HOLDER_RECORDS) {
      records.set(at.node, expires);
      return;
    }
    // Full: an expired record makes room, else the flood is dropped.
    for (const [node, until] of records) {
      if (!this.#live(records, { node, until, now: at.now })) {
        records.delete(node);
        records.set(at.node, expires);
        return;
      }
    }
    this.dropped++;
  }

  /** Announcers of `key` whose record is live, in announcement order. */
  find(
    key: TesseraId,
    at: { now: number; limit?: number },
  ): number[] {
    const records = this.#byKey.get(key);
    if (!records) return [];
    const limit = at.limit ?? MAX_HOLDER_RECORDS;
    const out: number[] = [];
    for (const [node, until] of records) {
      if (this.#live(records, { node, until, now: at.now })) {
        if (out.length < limit) out.push(node);
      } else if (this.#upUntil === null) {
        records.delete(node);
      }
      // Refreshed records stay while their announcer is away past the
      // validity: back up, its reprovider publishes them again (kad-dht
      // republishes what it provides once they are older than a day, so
      // within its next round), and #live sees it up. Deleting them here
      // made a holder back from a long absence invisible to other
      // holders for good, since a holder announces a tessera once.
    }
    return out;
  }
}
