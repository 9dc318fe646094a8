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

/**
 * Internal: fetch until `needed` verified shards are in hand; rejects
 * `INSUFFICIENT_SHARDS` when every source has been tried.
 */
export async function collectShards(
  ctx: ServiceContext,
  req: CollectRequest,
  options: IoOptions & {
    readonly onShard?: (have: number, bytes: number) => void;
  } = {},
): Promise<CollectResult> {
  const have = new Map<number, Uint8Array | null>(req.initial ?? []);
  for (const i of req.held ?? []) if (!have.has(i)) have.set(i, null);
  let shardSize = req.shardSize ??
    [...(req.initial?.values() ?? [])][0]?.length;
  let failure: { error: unknown } | null = null;
  const ctrl = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, ctrl.signal])
    : ctrl.signal;
  const tried = new Map<number, Set<PeerId>>();
  const inFlightByIndex = new Map<number, number>();
  const inflight = new Set<Promise<void>>();
  const order = [...req.sources.keys()].filter((i) => req.checksums.has(i));
  let bytes = 0;

  const nextAttempt = (): [number, PeerId] | undefined => {
    for (const pass of [0, 1]) {
      for (const index of order) {
        if (have.has(index)) continue;
        if (pass === 0 && (inFlightByIndex.get(index) ?? 0) > 0) continue;
        const seen = tried.get(index);
        const peer = req.sources.get(index)!.find((p) => !seen?.has(p));
        if (peer !== undefined) return [index, peer];
      }
    }
    return undefined;
  };

  const attempt = async (index: number, peer: PeerId) => {
    try {
      const data = await ctx.dht.fetch(peer, {
        tesseraId: req.tesseraId,
        index,
      }, { signal });
      bytes += data.length;
      if (have.has(index)) return;
      const sizeOk = shardSize === undefined || data.length === shardSize;
      if (sizeOk && blake3Hex(data) === req.checksums.get(index)) {
        shardSize ??= data.length;
        if (req.store) {
          have.set(index, null);
          try {
            await req.store(index, data, { signal: options.signal });
          } catch (e) {
            failure ??= { error: e };
            ctrl.abort();
            return;
          }
        } else have.set(index, data);
        options.onShard?.(have.size, bytes);
      } else {
        ctx.log.warn(
          "shard {index} of {tessera} from {peer} failed verification",
          {
            index,
            tessera: req.tesseraId,
            peer,
          },
        );
      }
    } catch (e) {
      if (!ctrl.signal.aborted && !options.signal?.aborted) {
        ctx.log.debug("fetch of shard {index} from {peer} failed: {error}", {
          index,
          peer,
          error: String(e),
        });
      }
    } finally {
      inFlightByIndex.set(index, (inFlightByIndex.get(index) ?? 1) - 1);
    }
  };

  const cap = () =>
    req.budgetBytes === undefined
      ? Infinity
      : shardSize
      ? Math.max(2, Math.floor(req.budgetBytes / shardSize))
      : 4;
  const launch = () => {
    const target = Math.min(
      Math.max(0, req.needed - have.size) + req.hedge,
      cap(),
    );
    while (inflight.size < target && have.size < req.needed) {
      const next = nextAttempt();
      if (!next) return;
      const [index, peer] = next;
      let seen = tried.get(index);
      if (!seen) tried.set(index, seen = new Set());
      seen.add(peer);
      inFlightByIndex.set(index, (inFlightByIndex.get(index) ?? 0) + 1);
      const p: Promise<void> = attempt(index, peer).finally(() =>
        inflight.delete(p)
      );
      inflight.add(p);
    }
  };

  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (failure) break;
      launch();
      if (have.size >= req.needed || inflight.size === 0) break;
      await Promise.race(inflight);
    }
  } finally {
    ctrl.abort();
    await Promise.allSettled([...inflight]);
  }
  options.signal?.throwIfAborted();
  const failed = failure as { error: unknown } | null;
  if (failed) throw failed.error;
  if (have.size < req.needed) {
    throw new TesserasError(
      "INSUFFICIENT_SHARDS",
      `only ${have.size} of the ${req.needed} shards needed for ${req.tesseraId} could be fetched and verified: too many holders are gone; try again when more are online`,
    );
  }
  const shards = new Map<number, Uint8Array>();
  for (const [i, d] of have) if (d) shards.set(i, d);
  return {
    shards,
    indices: [...have.keys()].sort((a, b) => a - b),
    bytes,
    ...(shardSize !== undefined ? { shardSize } : {}),
  };
}
