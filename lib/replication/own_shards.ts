/**
 * Our own tesseras' shards, recomputed from the blob store: the owner
 * needs them to check keyed proofs and to repair without fetching.
 *
 * Two ways, by what the blob store can do. A store with the streaming
 * capabilities (`blobFile`, `readRange`, `openStaging`: the daemon's
 * files) is never read whole: proofs are hashed during one streaming
 * encode of the blob file, data shards are byte ranges of the blob, and
 * parity shards to push are staged as files during that pass. Any other
 * store (memory: tests and the simulator) is loaded and encoded in memory.
 *
 * @module
 */
import {
  type Checksum,
  type Fragment,
  type FragmentPlan,
  type IoOptions,
  type LocalFile,
  type ShardStaging,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import {
  type Blake3Hasher,
  blake3Hex,
  createBlake3,
  encodeTesseraFile,
  planTessera,
  rsEncode,
} from "../codec/mod.ts";
import { attestationProof } from "./attest_crypto.ts";
import type { ServiceContext } from "./context.ts";
import { type FileBlobs, fileBlobs, STRIPE_BYTES } from "./file_blobs.ts";
import { shardCache } from "./shard_cache.ts";

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
  /** Free what `prepare` staged (idempotent). */
  release(): Promise<void>;
}

/** Internal: our shards of one tessera. */
export interface OwnShards {
  readonly plan: FragmentPlan;
  /** Shard bytes by index, when the blob was loaded whole (memory stores). */
  readonly shards?: readonly Uint8Array[];
  /**
   * Keyed proofs, hex, in request order: one pass over the blob for all.
   * Rejects `CHECKSUM_MISMATCH` when the blob no longer hashes to its id.
   */
  prove(
    requests: readonly ProofRequest[],
    options?: IoOptions,
  ): Promise<string[]>;
  /**
   * Get shards `indices` ready to push, labelled with the recorded
   * `checksums` (`null`: computed); the caller releases the loader.
   * Rejects `CHECKSUM_MISMATCH` when the blob is corrupt or disagrees
   * with the recorded checksums.
   */
  prepare(
    indices: readonly number[],
    checksums: readonly Checksum[] | null,
    options?: IoOptions,
  ): Promise<ShardLoader>;
}

/** Internal: the error for a blob that no longer hashes to its id. */
export function corruptBlob(id: TesseraId): TesserasError {
  return new TesserasError(
    "CHECKSUM_MISMATCH",
    `our stored copy of tessera ${id} is corrupt: restore it from a backup, or delete it and retrieve it from the network`,
  );
}

/**
 * Internal: the shards of our blob `id`, or `null` when we have no blob.
 * In memory, one hash (the id check) instead of one per shard: shards of
 * a blob that hashes to its id are the shards whose checksums we
 * recorded. Throws `CHECKSUM_MISMATCH` when the blob no longer hashes to
 * its id (from files: when a pass over it finds so).
 */
export async function ownShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions = {},
): Promise<OwnShards | null> {
  const files = fileBlobs(ctx);
  if (files) {
    const file = await files.blobFile(id, options);
    if (!file) return null;
    return new FileShards(ctx, files, { id, file });
  }
  const data = await ctx.blobs.get(id, options);
  if (!data) return null;
  if (hashedBlobs.get(data) !== id) {
    if (blake3Hex(data) !== id) throw corruptBlob(id);
    hashedBlobs.set(data, id);
  }
  // The blob hashes to its id, so a cached encoding of it is still ours.
  const cache = shardCache(ctx);
  const hit = cache.get(id);
  if (hit) return new MemoryShards(id, hit.plan, hit.shards);
  const plan = planTessera(data.length, { thresholds: ctx.thresholds });
  if (plan.tier === "small") return new MemoryShards(id, plan, [data]);
  const shards = rsEncode(data, plan);
  cache.set(id, { plan, shards });
  return new MemoryShards(id, plan, shards);
}

/**
 * Blob objects that hashed to their id. A memory store that shares
 * instead of copying hands out the same object on every `get`, and a
 * stored blob is never written to (a new version is a new `put`, a new
 * object), so it need not be hashed again at every check; a copying
 * store hands out a fresh object each time, hashed each time.
 */
const hashedBlobs = new WeakMap<Uint8Array, TesseraId>();

class MemoryShards implements OwnShards {
  readonly #id: TesseraId;
  readonly plan: FragmentPlan;
  readonly shards: readonly Uint8Array[];

  constructor(
    id: TesseraId,
    plan: FragmentPlan,
    shards: readonly Uint8Array[],
  ) {
    this.#id = id;
    this.plan = plan;
    this.shards = shards;
  }

  prove(requests: readonly ProofRequest[]): Promise<string[]> {
    return Promise.resolve(
      requests.map((r) =>
        this.shards[r.index]
          ? attestationProof(r.key, this.shards[r.index])
          : "" // no such shard: nothing can prove it
      ),
    );
  }

  prepare(
    _indices: readonly number[],
    recorded: readonly Checksum[] | null,
  ): Promise<ShardLoader> {
    const checksums = recorded ?? this.shards.map((s) => blake3Hex(s));
    const fragments = asFragments(
      { id: this.#id, plan: this.plan, checksums },
      this.shards,
    );
    return Promise.resolve({
      checksums,
      load: (index: number) => Promise.resolve(fragments[index]),
      release: () => Promise.resolve(),
    });
  }
}

class FileShards implements OwnShards {
  readonly #ctx: ServiceContext;
  readonly #files: FileBlobs;
  readonly #id: TesseraId;
  readonly #file: LocalFile;
  readonly plan: FragmentPlan;

  constructor(
    ctx: ServiceContext,
    files: FileBlobs,
    blob: { id: TesseraId; file: LocalFile },
  ) {
    this.#ctx = ctx;
    this.#files = files;
    this.#id = blob.id;
    this.#file = blob.file;
    this.plan = planTessera(blob.file.size, { thresholds: ctx.thresholds });
  }

  async prove(
    requests: readonly ProofRequest[],
    options: IoOptions = {},
  ): Promise<string[]> {
    if (requests.length === 0) return [];
    const byIndex = new Map<number, Blake3Hasher[]>();
    const hashers = requests.map((r) => {
      const h = createBlake3({ key: r.key });
      const list = byIndex.get(r.index);
      if (list) list.push(h);
      else byIndex.set(r.index, [h]);
      return h;
    });
    await this.#pass({
      write(index, bytes) {
        for (const h of byIndex.get(index) ?? []) h.update(bytes);
      },
    }, options);
    return hashers.map((h) => toHex(h.digest()));
  }

  async prepare(
    indices: readonly number[],
    recorded: readonly Checksum[] | null,
    options: IoOptions = {},
  ): Promise<ShardLoader> {
    const { plan } = this;
    const small = plan.tier === "small" || plan.shardCount === 1;
    // Data shards are ranges of the blob; only parity needs staging.
    const staged = new Set(
      small ? [] : indices.filter((i) => i >= plan.dataShards),
    );
    const staging = staged.size > 0
      ? await this.#files.openStaging(options)
      : null;
    let checksums: readonly Checksum[];
    try {
      // The pass runs even with nothing to stage: it proves the blob whole.
      const computed = await this.#pass({
        write: (index, bytes) =>
          staged.has(index)
            ? staging!.append(index, bytes, options)
            : undefined,
      }, options);
      checksums = recorded ?? computed;
      for (const i of indices) {
        if (computed[i] !== checksums[i]) {
          throw new TesserasError(
            "CHECKSUM_MISMATCH",
            `shard ${i} of our tessera ${this.#id} no longer matches its recorded checksum: the placement records disagree with the blob`,
          );
        }
      }
    } catch (e) {
      await staging?.remove();
      throw e;
    }
    return fileShardLoader(this.#files, {
      id: this.#id,
      plan,
      checksums,
      staging,
    });
  }

  /** Stream-encode the blob into `sink`; returns every shard's checksum. */
  async #pass(
    sink: { write(index: number, bytes: Uint8Array): Promise<void> | void },
    options: IoOptions,
  ): Promise<Checksum[]> {
    // Background work (health checks, repair): no hash worker, whose
    // isolate and shared buffers linger after each pass; the id is hashed
    // in a second sequential read instead.
    const result = await encodeTesseraFile(this.#file.path, sink, {
      thresholds: this.#ctx.thresholds,
      signal: options.signal,
      workers: false,
      stripeBytes: STRIPE_BYTES,
    });
    if (result.id !== this.#id) throw corruptBlob(this.#id);
    return result.checksums;
  }
}

/**
 * Internal: loads the shards of our blob `id` for pushing: data shards
 * (and a Small tessera's one shard) as ranges of the blob, zero-padded;
 * parity shards from `staging`, where a streaming encode put them.
 */
export function fileShardLoader(
  files: FileBlobs,
  src: {
    readonly id: TesseraId;
    readonly plan: FragmentPlan;
    readonly checksums: readonly Checksum[];
    readonly staging: ShardStaging | null;
  },
): ShardLoader {
  const { id, plan, checksums, staging } = src;
  const small = plan.tier === "small" || plan.shardCount === 1;
  const size = plan.shardSize;
  const fromBlob = async (offset: number, options: IoOptions) => {
    const bytes = await files.readRange(id, { offset, length: size }, options);
    if (!bytes) {
      throw new TesserasError(
        "NOT_FOUND",
        `our blob of tessera ${id} disappeared while its shards were being placed`,
      );
    }
    if (bytes.length === size) return bytes;
    // The last data shards run past the end of the file: zero padding.
    const padded = new Uint8Array(size);
    padded.set(bytes);
    return padded;
  };
  return {
    checksums,
    async load(index: number, options: IoOptions = {}): Promise<Fragment> {
      let data: Uint8Array;
      if (small) data = await fromBlob(0, options);
      else if (index < plan.dataShards) {
        data = await fromBlob(index * size, options);
      } else {
        if (!staging) {
          throw new TesserasError(
            "INVALID_INPUT",
            `parity shard ${index} of ${id} was not staged`,
          );
        }
        data = await staging.read(index, { offset: 0, length: size }, options);
        if (data.length !== size) {
          throw new TesserasError(
            "STORAGE_ERROR",
            `staged shard ${index} of ${id} is ${data.length} bytes, not ${size}`,
          );
        }
      }
      return shardFragment({ id, plan, checksums }, { index, data });
    },
    release: () => staging?.remove() ?? Promise.resolve(),
  };
}

/**
 * Internal: `shards` of our tessera `src.id` as fragments, with the
 * checksums we recorded.
 */
export function asFragments(
  src: {
    readonly id: TesseraId;
    readonly plan: FragmentPlan;
    readonly checksums: readonly Checksum[];
  },
  shards: readonly Uint8Array[],
): Fragment[] {
  return shards.map((data, index) => shardFragment(src, { index, data }));
}

/** Internal: shard `index` of our tessera, labelled with its recorded checksum. */
export function shardFragment(
  src: {
    readonly id: TesseraId;
    readonly plan: FragmentPlan;
    readonly checksums: readonly Checksum[];
  },
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
