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
}

/** Internal: what was collected. */
export interface CollectResult {
  readonly shards: Map<number, Uint8Array>;
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
  const have = new Map(req.initial ?? []);
  let shardSize = req.shardSize ?? [...have.values()][0]?.length;
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
        have.set(index, data);
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

  const launch = () => {
    const target = Math.max(0, req.needed - have.size) + req.hedge;
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
      launch();
      if (have.size >= req.needed || inflight.size === 0) break;
      await Promise.race(inflight);
    }
  } finally {
    ctrl.abort();
    await Promise.allSettled([...inflight]);
  }
  options.signal?.throwIfAborted();
  if (have.size < req.needed) {
    throw new TesserasError(
      "INSUFFICIENT_SHARDS",
      `only ${have.size} of the ${req.needed} shards needed for ${req.tesseraId} could be fetched and verified: too many holders are gone; try again when more are online`,
    );
  }
  return { shards: have, bytes };
}
