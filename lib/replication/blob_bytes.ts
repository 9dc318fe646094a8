/**
 * The owner's blob as shards: the data shards are byte ranges of the blob
 * (the last ones zero-padded), read through the blob store's ranged reads;
 * and the staging areas every streaming step works in.
 *
 * @module
 */
import {
  type BlobStore,
  type ByteRange,
  type FragmentPlan,
  type IoOptions,
  type ShardStaging,
  type TesseraId,
  TesserasError,
} from "../core/mod.ts";
import type { ShardReader } from "./stripes.ts";

/**
 * Internal: bytes of each shard per stripe in our encodes. Measured on
 * 1 GiB: as fast as the codec's 512 KiB, with half the buffers.
 */
export const STRIPE_BYTES = 256 * 1024;

/** Internal: reads `range` of a tessera's bytes (fewer at its end). */
export type SourceReader = (
  range: ByteRange,
  options?: IoOptions,
) => Promise<Uint8Array>;

/** Internal: the ranged reader of our blob `id`; rejects `NOT_FOUND` if gone. */
export function blobReader(blobs: BlobStore, id: TesseraId): SourceReader {
  return async (range, options) => {
    const bytes = await blobs.readRange(id, range, options);
    if (!bytes) {
      throw new TesserasError(
        "NOT_FOUND",
        `our blob of tessera ${id} disappeared while it was being read`,
      );
    }
    return bytes;
  };
}

/**
 * Internal: the data shards of a tessera read from its bytes: shard `j`
 * is bytes `[j × shardSize, (j + 1) × shardSize)`, zero-padded past the
 * end (a Small tessera's one shard is the whole file).
 */
export function dataShardReader(
  source: SourceReader,
  plan: Pick<FragmentPlan, "shardSize">,
): ShardReader {
  const S = plan.shardSize;
  return async (index, range, options) => {
    const bytes = await source(
      { offset: index * S + range.offset, length: range.length },
      options,
    );
    if (bytes.length === range.length) return bytes;
    const padded = new Uint8Array(range.length);
    padded.set(bytes);
    return padded;
  };
}

/**
 * Internal: run `fn` with a fresh staging area of `blobs`, removed
 * afterwards whatever happens.
 */
export async function withStaging<T>(
  blobs: BlobStore,
  fn: (staging: ShardStaging) => Promise<T>,
  options: IoOptions = {},
): Promise<T> {
  const staging = await blobs.openStaging(options);
  try {
    return await fn(staging);
  } finally {
    await staging.remove();
  }
}

/** Internal: the error for a blob that no longer hashes to its id. */
export function corruptBlob(id: TesseraId): TesserasError {
  return new TesserasError(
    "CHECKSUM_MISMATCH",
    `our stored copy of tessera ${id} is corrupt: restore it from a backup, or delete it and retrieve it from the network`,
  );
}

/** Internal: the error for a blob we do not have. */
export function notInBlobStore(id: TesseraId): TesserasError {
  return new TesserasError(
    "NOT_FOUND",
    `tessera ${id} is not in our blob store: put the file first`,
  );
}
