/**
 * A small per-service LRU of our tesseras' encoded shards, for blob stores
 * loaded whole (memory: tests and the simulator). Every health check
 * proves against our shards; re-encoding the blob each time dominated the
 * owner's cost. Entries are only used after the blob was hashed to its
 * id again, so a hit returns exactly what encoding would: the id pins the
 * bytes, and the service's thresholds pin the plan.
 *
 * @module
 */
import type { FragmentPlan, TesseraId } from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";

/** Internal: a cached encoding. */
export interface CachedShards {
  readonly plan: FragmentPlan;
  readonly shards: readonly Uint8Array[];
}

/** Most bytes of shards kept per service. */
const MAX_BYTES = 32 * 1024 * 1024;
/** Most tesseras kept per service. */
const MAX_ENTRIES = 64;

class ShardCache {
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  readonly #entries = new Map<TesseraId, CachedShards & { bytes: number }>();
  #bytes = 0;

  get(id: TesseraId): CachedShards | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, e);
    return e;
  }

  set(id: TesseraId, value: CachedShards): void {
    let bytes = 0;
    for (const s of value.shards) bytes += s.byteLength;
    if (bytes > MAX_BYTES) return;
    const old = this.#entries.get(id);
    if (old) {
      this.#entries.delete(id);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(id, { ...value, bytes });
    this.#bytes += bytes;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= MAX_BYTES && this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
  }
}

const caches = new WeakMap<ServiceContext, ShardCache>();

/** Internal: the shard cache of the service `ctx`. */
export function shardCache(ctx: ServiceContext): ShardCache {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new ShardCache();
    caches.set(ctx, cache);
  }
  return cache;
}
