/**
 * Fetching shards from holders for retrieval and repair: many in
 * parallel, first verified answer per index wins, slow ones are cancelled
 * once enough verified shards are in.
 *
 * @module
 */
import {
  type Checksum,
  type IoOptions,
  type PeerId,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { blake3Hex } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";

/** Internal: what to collect. */
export interface CollectRequest {
  readonly tesseraId: TesseraId;
  /** Distinct verified shards wanted. */
  readonly needed: number;
  /** Holders per index, preferred first; index order is the preference. */
  readonly sources: ReadonlyMap<number, readonly PeerId[]>;
  /** Expected checksum per index; shards without one are not fetched. */
  readonly checksums: ReadonlyMap<number, Checksum>;
  /** Expected shard length, when known. */
  readonly shardSize?: number;
  /** Fetches in flight beyond those still needed. */
  readonly hedge: number;
  /** Shards already in hand (verified). */
  readonly initial?: ReadonlyMap<number, Uint8Array>;
  /**
   * Streaming mode: each verified shard is handed to `store` (e.g. a
   * staging file) instead of being kept, and `held` lists indices stored
   * earlier. A failing `store` fails the collection.
   */
  readonly store?: (
    index: number,
    data: Uint8Array,
    options: IoOptions,
  ) => Promise<void>;
  /** Streaming mode: indices already stored. */
  readonly held?: ReadonlySet<number>;
  /**
   * Caps the bytes of shards in flight (fetches × shard size, at least two
   * fetches); before the shard size is known, at most four fetches run.
   * Default: no cap beyond `needed + hedge`.
   */
  readonly budgetBytes?: number;
}

/** Internal: what was collected. */
export interface CollectResult {
  /** Shards in hand, by index (streaming mode: only `initial` ones). */
  readonly shards: Map<number, Uint8Array>;
  /** Every index verified (in hand, stored or held), ascending. */
  readonly indices: number[];
  /** The shard size, when any shard was seen. */
  readonly shardSize?: number;
  /** Bytes fetched over the network, verified or not. */
  readonly bytes: number;
}

/** Options of {@linkcode collectShards}. */
type CollectOptions = IoOptions & {
  readonly onShard?: (have: number, bytes: number) => void;
};

/**
 * Internal: fetch until `needed` verified shards are in hand; rejects
 * `INSUFFICIENT_SHARDS` when every source has been tried.
 */
export async function collectShards(
  ctx: ServiceContext,
  req: CollectRequest,
  options: CollectOptions = {},
): Promise<CollectResult> {
  const run = new Collection(ctx, req, options);
  await run.fetchAll();
  return run.result();
}

/**
 * One collection: which shards are in hand, which holders were tried per
 * index, the fetches in flight; slow fetches are cancelled (`#ctrl`) once
 * enough verified shards are in.
 */
class Collection {
  readonly #ctx: ServiceContext;
  readonly #req: CollectRequest;
  readonly #options: CollectOptions;
  /** Verified shards by index (`null`: stored or held, not kept). */
  readonly #have: Map<number, Uint8Array | null>;
  readonly #tried = new Map<number, Set<PeerId>>();
  readonly #inFlightByIndex = new Map<number, number>();
  readonly #inflight = new Set<Promise<void>>();
  /** Indices worth fetching, in preference order. */
  readonly #order: number[];
  readonly #ctrl = new AbortController();
  readonly #signal: AbortSignal;
  #shardSize: number | undefined;
  #failure: { error: unknown } | null = null;
  #bytes = 0;

  constructor(
    ctx: ServiceContext,
    req: CollectRequest,
    options: CollectOptions,
  ) {
    this.#ctx = ctx;
    this.#req = req;
    this.#options = options;
    this.#have = new Map<number, Uint8Array | null>(req.initial ?? []);
    for (const i of req.held ?? []) {
      if (!this.#have.has(i)) this.#have.set(i, null);
    }
    this.#shardSize = req.shardSize ??
      [...(req.initial?.values() ?? [])][0]?.length;
    this.#signal = options.signal
      ? AbortSignal.any([options.signal, this.#ctrl.signal])
      : this.#ctrl.signal;
    this.#order = [...req.sources.keys()].filter((i) => req.checksums.has(i));
  }

  /** Launch and wait until enough are in, a store failed or none is left. */
  async fetchAll(): Promise<void> {
    try {
      for (;;) {
        this.#options.signal?.throwIfAborted();
        if (this.#failure) break;
        this.#launch();
        if (this.#enough() || this.#inflight.size === 0) break;
        await Promise.race(this.#inflight);
      }
    } finally {
      this.#ctrl.abort();
      await Promise.allSettled([...this.#inflight]);
    }
  }

  /** What was collected; throws a store's failure or `INSUFFICIENT_SHARDS`. */
  result(): CollectResult {
    this.#options.signal?.throwIfAborted();
    const failed = this.#failure as { error: unknown } | null;
    if (failed) throw failed.error;
    const { needed, tesseraId } = this.#req;
    if (!this.#enough()) {
      throw new TesserasError(
        "INSUFFICIENT_SHARDS",
        `only ${this.#have.size} of the ${needed} shards needed for ${tesseraId} could be fetched and verified: too many holders are gone; try again when more are online`,
      );
    }
    const shards = new Map<number, Uint8Array>();
    for (const [i, d] of this.#have) if (d) shards.set(i, d);
    return {
      shards,
      indices: [...this.#have.keys()].sort((a, b) => a - b),
      bytes: this.#bytes,
      ...(this.#shardSize !== undefined ? { shardSize: this.#shardSize } : {}),
    };
  }

  #enough(): boolean {
    return this.#have.size >= this.#req.needed;
  }

  /** Start fetches up to the target: those still needed plus the hedge. */
  #launch(): void {
    const target = Math.min(
      Math.max(0, this.#req.needed - this.#have.size) + this.#req.hedge,
      this.#cap(),
    );
    while (this.#inflight.size < target && !this.#enough()) {
      const next = this.#nextAttempt();
      if (!next) return;
      const [index, peer] = next;
      let seen = this.#tried.get(index);
      if (!seen) this.#tried.set(index, seen = new Set());
      seen.add(peer);
      this.#inFlightByIndex.set(
        index,
        (this.#inFlightByIndex.get(index) ?? 0) + 1,
      );
      const p: Promise<void> = this.#attempt(index, peer).finally(() =>
        this.#inflight.delete(p)
      );
      this.#inflight.add(p);
    }
  }

  /** Fetches allowed by the byte budget (four before the size is known). */
  #cap(): number {
    const { budgetBytes } = this.#req;
    if (budgetBytes === undefined) return Infinity;
    return this.#shardSize
      ? Math.max(2, Math.floor(budgetBytes / this.#shardSize))
      : 4;
  }

  /**
   * The next (index, holder) to try: an index with nothing in flight
   * first, then a second holder of one in flight.
   */
  #nextAttempt(): [number, PeerId] | undefined {
    for (const pass of [0, 1]) {
      for (const index of this.#order) {
        if (this.#have.has(index)) continue;
        if (pass === 0 && (this.#inFlightByIndex.get(index) ?? 0) > 0) {
          continue;
        }
        const seen = this.#tried.get(index);
        const peer = this.#req.sources.get(index)!.find((p) => !seen?.has(p));
        if (peer !== undefined) return [index, peer];
      }
    }
    return undefined;
  }

  /** One fetch: verified, then kept or stored; failures only logged. */
  async #attempt(index: number, peer: PeerId): Promise<void> {
    try {
      // Checked group by group as it streams where the transport can: a
      // lying holder is dropped at its first bad group, the next asked.
      const data = await this.#ctx.dht.fetch(peer, {
        tesseraId: this.#req.tesseraId,
        index,
      }, {
        signal: this.#signal,
        checksum: this.#req.checksums.get(index),
        ...(this.#shardSize !== undefined ? { size: this.#shardSize } : {}),
      });
      this.#bytes += data.length;
      if (this.#have.has(index)) return;
      if (!this.#verified(index, data)) {
        this.#ctx.log.warn(
          "shard {index} of {tessera} from {peer} failed verification",
          { index, tessera: this.#req.tesseraId, peer },
        );
        return;
      }
      this.#shardSize ??= data.length;
      if (!this.#req.store) this.#have.set(index, data);
      else if (!await this.#store(index, data)) return;
      this.#options.onShard?.(this.#have.size, this.#bytes);
    } catch (e) {
      if (!this.#ctrl.signal.aborted && !this.#options.signal?.aborted) {
        this.#ctx.log.debug(
          "fetch of shard {index} from {peer} failed: {error}",
          { index, peer, error: String(e) },
        );
      }
    } finally {
      this.#inFlightByIndex.set(
        index,
        (this.#inFlightByIndex.get(index) ?? 1) - 1,
      );
    }
  }

  /** The size matches, and the checksum unless the fetch checked it. */
  #verified(index: number, data: Uint8Array): boolean {
    const size = this.#shardSize;
    if (size !== undefined && data.length !== size) return false;
    return this.#ctx.dht.verifiesFetch === true ||
      blake3Hex(data) === this.#req.checksums.get(index);
  }

  /** Hand a verified shard to the store; `false` (and abort all) if it fails. */
  async #store(index: number, data: Uint8Array): Promise<boolean> {
    this.#have.set(index, null);
    try {
      await this.#req.store!(index, data, { signal: this.#options.signal });
      return true;
    } catch (e) {
      this.#failure ??= { error: e };
      this.#ctrl.abort();
      return false;
    }
  }
}
