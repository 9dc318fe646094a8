/**
 * The streaming capabilities of a blob store, when it has them all: the
 * service then never loads a whole tessera into memory.
 *
 * @module
 */
import type {
  ByteRange,
  IoOptions,
  LocalFile,
  ShardStaging,
  TesseraId,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Internal: bytes of each shard per stripe in our streaming encodes. Half
 * the codec's default: measured on 1 GiB, as fast, and the encoder's
 * buffers (three stripes of 72 rows) shrink from 108 to 54 MiB.
 */
export const STRIPE_BYTES = 256 * 1024;

/** Internal: a blob store's optional file capabilities, bound. */
export interface FileBlobs {
  blobFile(id: TesseraId, options?: IoOptions): Promise<LocalFile | null>;
  readRange(
    id: TesseraId,
    range: ByteRange,
    options?: IoOptions,
  ): Promise<Uint8Array | null>;
  openStaging(options?: IoOptions): Promise<ShardStaging>;
}

/** Internal: the store's file capabilities, or `null` unless it has all. */
export function fileBlobs(ctx: ServiceContext): FileBlobs | null {
  const b = ctx.blobs;
  if (!b.blobFile || !b.readRange || !b.openStaging) return null;
  return {
    blobFile: b.blobFile.bind(b),
    readRange: b.readRange.bind(b),
    openStaging: b.openStaging.bind(b),
  };
}

/**
 * Internal: run `fn` with a fresh staging area, removed afterwards
 * whatever happens.
 */
export async function withStaging<T>(
  files: FileBlobs,
  fn: (staging: ShardStaging) => Promise<T>,
  options: IoOptions = {},
): Promise<T> {
  const staging = await files.openStaging(options);
  try {
    return await fn(staging);
  } finally {
    await staging.remove();
  }
}
