/**
 * Our own tesseras' shards, recomputed from the blob store: the owner
 * needs them to check keyed proofs, to place and to repair without
 * fetching. One way for every store: the blob is read by ranges (data
 * shards are ranges of it), parity is computed a column stripe at a time
 * (see `stripePass`) and staged when it must be pushed, so a 1 GiB tessera
 * is never held in memory. The parity of small tesseras is kept in the
 * service's {@linkcode OwnShardCache}, so the health check of every sweep
 * does not encode them again.
 *
 * @module
 */
import {
  type Checksum,
  type Fragment,
  type FragmentId,
  type FragmentPlan,
  type IoOptions,
  isWholeCopy,
  type ShardParts,
  type ShardStaging,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import { planTessera } from "../codec/mod.ts";
import {
  blobReader,
  corruptBlob,
  dataShardReader,
  type SourceReader,
  STRIPE_BYTES,
} from "./blob_bytes.ts";
import type { ServiceContext } from "./context.ts";
import type { CachedParity } from "./shard_cache.ts";
import { ShardHash } from "./shard_hash.ts";
import { hashStriped, type ShardReader, stripePass } from "./stripes.ts";

/** Internal: one keyed proof to compute (see `attestationProof`). */
export interface ProofRequest {
  /** The challenge's proof key: its nonce. */
  readonly key: Uint8Array;
  /** The shard. */
  readonly index: number;
}

/** Internal: shards ready to push, loaded one at a time. */
export interface ShardLoader {
  /** Every shard's checksum (the recorded ones, or computed when none). */
  readonly checksums: readonly Checksum[];
  /** Shard `index` with its recorded checksum. */
  load(index: number, options?: IoOptions): Promise<Fragment>;
  /**
   * Shard `index` to be read in pieces as it is sent, for shards large
   * enough to be worth it; `undefined`: `load` it.
   */
  parts?(index: number): OutgoingShard | undefined;
  /** Free what was staged for it (idempotent). */
  release(): Promise<void>;
}

/** Internal: a shard to push, whole (`data`) or read as it goes (`parts`). */
export interface OutgoingShard {
  readonly id: FragmentId;
  /** Bytes of the shard. */
  readonly size: number;
  readonly data?: Uint8Array;
  readonly parts?: ShardParts;
}

/** Shards at least this large are read as they are sent, not loaded. */
const PARTS_MIN_BYTES = 1 << 20;

/** Internal: the identity of a tessera's shards, for labelling fragments. */
export interface ShardSource {
  readonly id: TesseraId;
  readonly plan: FragmentPlan;
  readonly checksums: readonly Checksum[];
}

/** Blobs up to this size are hashed from one read (and remembered). */
const ONE_READ = 4 << 20;

/** Internal: the shards of our blob `id`. */
export class OwnShards {
  readonly #ctx: ServiceContext;
  readonly #id: TesseraId;
  readonly #source: SourceReader;
  readonly #data: ShardReader;
  /** How the blob is cut, by its size and the service's thresholds. */
  readonly plan: FragmentPlan;

  /**
   * Internal: the shards of our blob `id`, or `null` when we have no
   * blob. Nothing is read yet: each use checks that the blob still
   * hashes to its id (rejecting `CHECKSUM_MISMATCH` when not).
   */
  static async open(
    ctx: ServiceContext,
    id: TesseraId,
    options: IoOptions = {},
  ): Promise<OwnShards | null> {
    const size = await ctx.blobs.size(id, options);
    if (size === null) return null;
    return new OwnShards(
      ctx,
      id,
      planTessera(size, { thresholds: ctx.thresholds }),
    );
  }

  private constructor(ctx: ServiceContext, id: TesseraId, plan: FragmentPlan) {
    this.#ctx = ctx;
    this.#id = id;
    this.plan = plan;
    this.#source = blobReader(ctx.blobs, id);
    this.#data = dataShardReader(this.#source, plan);
  }

  /**
   * Check that the blob still hashes to its id (the owner's scrub of its
   * own copy); rejects `CHECKSUM_MISMATCH` when not.
   */
  verifyBlob(options: IoOptions = {}): Promise<void> {
    return this.#verify(options);
  }

  /**
   * Keyed proofs, hex, in request order ("" for an index the tessera does
   * not have): one pass over the blob for all. Rejects
   * `CHECKSUM_MISMATCH` when the blob no longer hashes to its id.
   */
  async prove(
    requests: readonly ProofRequest[],
    options: IoOptions = {},
  ): Promise<string[]> {
    if (requests.length === 0) return [];
    await this.#verify(options);
    const { shardCount, shardSize } = this.plan;
    const byIndex = new Map<number, ShardHash[]>();
    const hashes = requests.map((r) => {
      if (!(r.index >= 0 && r.index < shardCount)) return null;
      const h = new ShardHash(shardSize, r.key);
      const list = byIndex.get(r.index);
      if (list) list.push(h);
      else byIndex.set(r.index, [h]);
      return h;
    });
    await this.#pass([...byIndex.keys()], (index, bytes) => {
      for (const h of byIndex.get(index)!) h.update(bytes);
    }, options);
    return hashes.map((h) => h?.digest() ?? "");
  }

  /**
   * Get shards `indices` ready to push, labelled with the recorded
   * `checksums` (`null`: computed, all of them); the caller releases the
   * loader. Rejects `CHECKSUM_MISMATCH` when the blob is corrupt or a
   * shard computed on the way disagrees with the recorded checksums.
   */
  async prepare(
    indices: readonly number[],
    recorded: readonly Checksum[] | null,
    options: IoOptions = {},
  ): Promise<ShardLoader> {
    await this.#verify(options);
    const parity = await this.#cachedParity(options);
    // Data shards are ranges of the blob; parity not cached is staged.
    const staged = new Set(
      parity || isWholeCopy(this.plan)
        ? []
        : indices.filter((i) => i >= this.plan.dataShards),
    );
    const staging = staged.size > 0
      ? await this.#ctx.blobs.openStaging(options)
      : null;
    try {
      // Checksums the cache knows are not computed again.
      const known = parity?.checksums ?? new Map<number, Checksum>();
      const computed = await this.#hashAndStage(
        recorded
          ? [...staged]
          : range(this.plan.shardCount).filter((i) => !known.has(i)),
        { staging, staged },
        options,
      );
      for (const [i, c] of known) computed.set(i, c);
      const checksums = recorded ??
        range(this.plan.shardCount).map((i) => computed.get(i)!);
      for (const [i, c] of computed) {
        if (c === checksums[i]) continue;
        throw new TesserasError(
          "CHECKSUM_MISMATCH",
          `shard ${i} of our tessera ${this.#id} no longer matches its recorded checksum: the placement records disagree with the blob`,
        );
      }
      const read = this.#reader(parity, staging);
      return shardLoader({ id: this.#id, plan: this.plan, checksums }, {
        read,
        release: () => staging?.remove() ?? Promise.resolve(),
      });
    } catch (e) {
      await staging?.remove();
      throw e;
    }
  }

  /** Hash shards `emit` (staging the parity ones when `staging`). */
  async #hashAndStage(
    emit: readonly number[],
    into: {
      readonly staging: ShardStaging | null;
      readonly staged: ReadonlySet<number>;
    },
    options: IoOptions,
  ): Promise<Map<number, Checksum>> {
    const { staging, staged } = into;
    const hashes = new Map(
      emit.map((i) => [i, new ShardHash(this.plan.shardSize)]),
    );
    await this.#pass(emit, async (index, bytes, o) => {
      hashes.get(index)!.update(bytes);
      if (staging && staged.has(index)) {
        await staging.append(index, bytes, o);
      }
    }, options);
    return new Map([...hashes].map(([i, h]) => [i, h.digest()]));
  }

  /** Stream shards `emit` to `sink`, from the blob and cached parity. */
  async #pass(
    emit: readonly number[],
    sink: (
      index: number,
      bytes: Uint8Array,
      options: IoOptions,
    ) => Promise<void> | void,
    options: IoOptions,
  ): Promise<void> {
    if (emit.length === 0) return;
    const parity = await this.#cachedParity(options);
    const { dataShards, shardCount } = this.plan;
    const have = parity ? range(shardCount) : range(dataShards);
    await stripePass(this.#reader(parity, null), sink, {
      shape: this.plan,
      have,
      emit,
    }, { ...options, stripeBytes: STRIPE_BYTES });
  }

  /** Reads any shard: data from the blob, parity cached or staged. */
  #reader(parity: CachedParity | null, staging: ShardStaging | null) {
    const k = this.plan.dataShards;
    const reader: ShardReader = (index, r, o) => {
      if (index < k) return this.#data(index, r, o);
      if (parity) {
        const shard = parity.shards[index - k];
        return Promise.resolve(shard.subarray(r.offset, r.offset + r.length));
      }
      if (staging) return staging.read(index, r, o);
      throw new TesserasError(
        "INVALID_INPUT",
        `parity shard ${index} of ${this.#id} was not staged`,
      );
    };
    return reader;
  }

  /**
   * The parity of a small tessera, computed once and kept by the
   * service; `null` for a whole copy or parity too large to keep.
   */
  async #cachedParity(options: IoOptions): Promise<CachedParity | null> {
    const cache = this.#ctx.ownCache;
    const { dataShards, shardCount, shardSize } = this.plan;
    if (isWholeCopy(this.plan) || !cache.fits(this.plan)) return null;
    const hit = cache.get(this.#id, this.plan);
    if (hit) return hit;
    const parity = range(shardCount).slice(dataShards);
    const shards = parity.map(() => new Uint8Array(shardSize));
    const hashes = parity.map(() => new ShardHash(shardSize));
    const at = parity.map(() => 0);
    await stripePass(
      this.#data,
      (index, bytes) => {
        const n = index - dataShards;
        shards[n].set(bytes, at[n]);
        at[n] += bytes.length;
        hashes[n].update(bytes);
      },
      { shape: this.plan, have: range(dataShards), emit: parity },
      {
        ...options,
        stripeBytes: STRIPE_BYTES,
      },
    );
    const checksums = new Map(parity.map((i, n) => [i, hashes[n].digest()]));
    return cache.set(this.#id, { plan: this.plan, shards, checksums });
  }

  /**
   * Check that the blob still hashes to its id: from one read when it is
   * small (remembered for the bytes a sharing store hands out again),
   * else streamed.
   */
  async #verify(options: IoOptions): Promise<void> {
    const size = this.plan.size;
    const cache = this.#ctx.ownCache;
    if (size <= ONE_READ) {
      const bytes = await this.#source({ offset: 0, length: size }, options);
      if (cache.verified(bytes, this.#id)) return;
      const hash = new ShardHash(size);
      hash.update(bytes);
      if (bytes.length !== size || hash.digest() !== this.#id) {
        throw corruptBlob(this.#id);
      }
      cache.markVerified(bytes, this.#id);
      return;
    }
    const read: ShardReader = (_i, r, o) => this.#source(r, o);
    const whole = { dataShards: 1, shardSize: size, size };
    if (await hashStriped(read, whole, options) !== this.#id) {
      throw corruptBlob(this.#id);
    }
  }
}

/**
 * Internal: a loader of the shards `read` gives (each whole, of the
 * plan's shard size), labelled with `src`'s checksums.
 */
export function shardLoader(
  src: ShardSource,
  io: {
    readonly read: ShardReader;
    readonly release: () => Promise<void>;
  },
): ShardLoader {
  const size = src.plan.shardSize;
  return {
    checksums: src.checksums,
    async load(index: number, options: IoOptions = {}): Promise<Fragment> {
      const data = await io.read(index, { offset: 0, length: size }, options);
      if (data.length !== size) {
        throw new TesserasError(
          "STORAGE_ERROR",
          `shard ${index} of ${src.id} is ${data.length} bytes, not ${size}`,
        );
      }
      return shardFragment(src, { index, data });
    },
    parts(index: number): OutgoingShard | undefined {
      if (size < PARTS_MIN_BYTES) return undefined;
      const { id } = shardFragment(src, { index, data: new Uint8Array(0) });
      return {
        id,
        size,
        parts: {
          read: (offset, length, options) =>
            io.read(index, { offset, length }, options ?? {}),
        },
      };
    },
    release: io.release,
  };
}

/** Internal: shard `index` of our tessera, labelled with its recorded checksum. */
export function shardFragment(
  src: ShardSource,
  shard: { readonly index: number; readonly data: Uint8Array },
): Fragment {
  return {
    id: {
      tesseraId: src.id,
      index: shard.index,
      shardCount: src.plan.shardCount,
      checksum: src.checksums[shard.index],
    },
    data: shard.data,
  };
}

/** Internal: `[0, n)`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
