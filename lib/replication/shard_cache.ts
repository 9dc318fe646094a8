/**
 * What the service keeps of its own small tesseras between checks: their
 * parity shards (every health check proves against our shards, and
 * encoding the blob each time dominated the owner's cost), and which
 * blob bytes were last seen to hash to their id.
 *
 * @module
 */
import type { Checksum, FragmentPlan, TesseraId } from "../core/mod.ts";

/** Internal: the parity of one tessera, computed from a verified blob. */
export interface CachedParity {
  readonly plan: FragmentPlan;
  /** Parity shards, index `dataShards` first. */
  readonly shards: readonly Uint8Array[];
  /** Their checksums, by shard index. */
  readonly checksums: ReadonlyMap<number, Checksum>;
}

/** Most bytes of parity kept per service. */
const MAX_BYTES = 32 * 1024 * 1024;
/** Most tesseras kept per service. */
const MAX_ENTRIES = 64;

/**
 * Internal: one service's cache, an LRU. An entry is only used after the
 * blob was checked against its id again, so a hit returns exactly what
 * encoding would: the id pins the bytes, and the plan (checked) the cut.
 */
export class OwnShardCache {
  // A Map iterates in insertion order: re-inserting on use makes it an LRU.
  readonly #entries = new Map<TesseraId, CachedParity & { bytes: number }>();
  #bytes = 0;
  /**
   * Blob bytes that hashed to their id, by buffer and offset. A store that
   * shares instead of copying hands out views of the same buffer on every
   * read, and a stored blob is never written to (a new version is a new
   * `put`, a new buffer), so it need not be hashed at every check; a
   * copying store or a file hands out fresh bytes, hashed each time.
   */
  readonly #verified = new WeakMap<
    ArrayBufferLike,
    Map<number, { length: number; id: TesseraId }>
  >();

  /** Whether the parity of `plan` is small enough to keep. */
  fits(plan: FragmentPlan): boolean {
    return plan.parityShards * plan.shardSize <= MAX_BYTES;
  }

  /** The parity of `id` cut as `plan`, if kept. */
  get(id: TesseraId, plan: FragmentPlan): CachedParity | undefined {
    const e = this.#entries.get(id);
    if (
      !e || e.plan.shardSize !== plan.shardSize ||
      e.plan.shardCount !== plan.shardCount
    ) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, e);
    return e;
  }

  /** Keep the parity of `id` (unless too large); returns it. */
  set(id: TesseraId, value: CachedParity): CachedParity {
    const bytes = value.plan.parityShards * value.plan.shardSize;
    if (bytes > MAX_BYTES) return value;
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
    return value;
  }

  /** Whether exactly these bytes were seen to hash to `id`. */
  verified(bytes: Uint8Array, id: TesseraId): boolean {
    const seen = this.#verified.get(bytes.buffer)?.get(bytes.byteOffset);
    return seen?.id === id && seen.length === bytes.length;
  }

  /** Remember that these bytes hash to `id`. */
  markVerified(bytes: Uint8Array, id: TesseraId): void {
    let byOffset = this.#verified.get(bytes.buffer);
    if (!byOffset) this.#verified.set(bytes.buffer, byOffset = new Map());
    byOffset.set(bytes.byteOffset, { length: bytes.length, id });
  }
}
