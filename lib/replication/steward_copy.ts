/**
 * What a steward keeps of the orphans it rebuilt (docs/stewards.md): the
 * `dataShards` survivors it fetched (each checked against the owner's
 * manifest) and the shards it rebuilt from them, in a staging area of
 * its blob store. The next loss of the same orphan is rebuilt from them
 * and pushed with no fetch: without them every lost shard of a Large
 * tessera cost 48 fetched shards for one placed. A copy lives while we
 * act as the orphan's steward; it goes when another steward takes over,
 * the owner comes back or we no longer hold the tessera, and a restart
 * loses it (a file store removes its staging areas when it starts): the
 * next rebuild fetches again, as the first did.
 *
 * @module
 */
import type { ShardStaging, TesseraId } from "../core/mod.ts";
import type { ShardReader } from "./stripes.ts";

/** Internal: the shards kept of one orphan. */
export interface KeptShards {
  /** Indices at hand, each verified against the manifest. */
  readonly indices: ReadonlySet<number>;
  /** Reads a kept shard. */
  readonly read: ShardReader;
}

interface Copy {
  readonly staging: ShardStaging;
  readonly indices: Set<number>;
  readonly shardSize: number;
}

/**
 * The copies one steward keeps.
 *
 * @example
 * ```ts
 * import { MemoryBlobStore } from "../memory/mod.ts";
 * import { StewardCopies } from "./steward_copy.ts";
 * const copies = new StewardCopies();
 * const staging = await new MemoryBlobStore().openStaging();
 * await staging.append(0, new Uint8Array(4));
 * await copies.keep("ab".repeat(32), { staging, indices: [0], shardSize: 4 });
 * copies.bytes; // 4
 * await copies.release("ab".repeat(32));
 * copies.bytes; // 0
 * ```
 */
export class StewardCopies {
  readonly #copies = new Map<TesseraId, Copy>();

  /** Bytes kept over all copies. */
  get bytes(): number {
    let sum = 0;
    for (const c of this.#copies.values()) sum += c.indices.size * c.shardSize;
    return sum;
  }

  /** The tesseras we keep shards of. */
  ids(): TesseraId[] {
    return [...this.#copies.keys()];
  }

  /** The shards kept of `id`, if any. */
  get(id: TesseraId): KeptShards | undefined {
    const copy = this.#copies.get(id);
    if (!copy) return undefined;
    return {
      indices: copy.indices,
      read: (index, range, options) => copy.staging.read(index, range, options),
    };
  }

  /**
   * Keep `staging` (its shards `indices`, verified) as the copy of `id`;
   * the staging area is ours from now on. A copy kept before is freed.
   */
  async keep(
    id: TesseraId,
    copy: {
      readonly staging: ShardStaging;
      readonly indices: Iterable<number>;
      readonly shardSize: number;
    },
  ): Promise<void> {
    const old = this.#copies.get(id);
    this.#copies.set(id, {
      staging: copy.staging,
      indices: new Set(copy.indices),
      shardSize: copy.shardSize,
    });
    if (old && old.staging !== copy.staging) await old.staging.remove();
  }

  /** Free the copy of `id` (nothing when none). */
  async release(id: TesseraId): Promise<void> {
    const copy = this.#copies.get(id);
    if (!copy) return;
    this.#copies.delete(id);
    await copy.staging.remove();
  }

  /** Free every copy but those of `keep`. */
  async retain(keep: ReadonlySet<TesseraId>): Promise<void> {
    for (const id of [...this.#copies.keys()]) {
      if (!keep.has(id)) await this.release(id);
    }
  }
}
