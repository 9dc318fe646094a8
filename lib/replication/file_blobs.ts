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
