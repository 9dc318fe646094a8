/**
 * BLAKE3 checksums of shard bytes and shard files, with lib/codec's
 * BLAKE3 (the one function every layer uses for ids and checksums).
 *
 * @module
 */
import type { Checksum, IoOptions } from "../core/mod.ts";
import { blake3Hex, hashFile } from "../codec/mod.ts";

/**
 * BLAKE3-256 of `data`, lowercase hex.
 *
 * @example
 * ```ts
 * await checksumOf(new Uint8Array()); // "af1349b9…3262"
 * ```
 */
export function checksumOf(data: Uint8Array): Promise<Checksum> {
  return Promise.resolve(blake3Hex(data));
}

/** Checksum and length of a file. */
export interface FileDigest {
  /** BLAKE3-256 of the file's bytes, lowercase hex. */
  readonly checksum: Checksum;
  /** Bytes read. */
  readonly size: number;
}

/**
 * BLAKE3-256 and size of the file at `path`, streamed (a shard is never
 * held whole in memory); the signal is checked between pieces.
 *
 * @example
 * ```ts
 * const { checksum, size } = await checksumOfFile("/data/x/000.shard");
 * ```
 */
export async function checksumOfFile(
  path: string,
  options: IoOptions = {},
): Promise<FileDigest> {
  const { hash, size } = await hashFile(path, options);
  return { checksum: hash, size };
}
