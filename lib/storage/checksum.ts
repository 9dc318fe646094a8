/**
 * BLAKE3 checksums of shard bytes and shard files, with lib/codec's
 * BLAKE3 (the one function every layer uses for ids and checksums).
 *
 * @module
 */
import { type Checksum, type IoOptions, toHex } from "../core/mod.ts";
import { blake3Hex, createBlake3 } from "../codec/mod.ts";

/** Bytes read per chunk when hashing a file. */
const CHUNK = 1 << 20;

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
 * BLAKE3-256 and size of the file at `path`, read in 1 MiB chunks (a
 * shard is never held whole in memory); the signal is checked between
 * chunks.
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
  const { signal } = options;
  signal?.throwIfAborted();
  const h = createBlake3();
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(CHUNK);
  let size = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = await file.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    size += n;
  }
  return { checksum: toHex(h.digest()), size };
}
