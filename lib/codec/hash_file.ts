/**
 * BLAKE3 of a whole file, streamed: memory stays at one read buffer.
 *
 * @module
 */
import { type IoOptions, toHex } from "../core/mod.ts";
import { createBlake3 } from "./blake3.ts";
import { readFull } from "./file_io.ts";

/** Bytes read per step. */
const PIECE = 4 << 20;

/** Result of {@linkcode hashFile}. */
export interface FileHash {
  /** BLAKE3-256 of the file's bytes, lowercase hex. */
  readonly hash: string;
  /** Bytes hashed. */
  readonly size: number;
}

/** Options of {@linkcode hashFile}. */
export interface HashFileOptions extends IoOptions {
  /** 32-byte key for BLAKE3's keyed mode (an attestation's proof). */
  readonly key?: Uint8Array;
}

/**
 * BLAKE3-256 of the file at `path` (keyed with `options.key` when given),
 * read in 4 MiB pieces; the signal is checked between pieces.
 *
 * @example
 * ```ts
 * const { hash, size } = await hashFile("/tmp/photo.jpg");
 * ```
 */
export async function hashFile(
  path: string | URL,
  options: HashFileOptions = {},
): Promise<FileHash> {
  const { signal } = options;
  signal?.throwIfAborted();
  using file = await Deno.open(path, { read: true });
  const hasher = createBlake3(options.key ? { key: options.key } : {});
  const buf = new Uint8Array(PIECE);
  let size = 0;
  for (;;) {
    const n = await readFull(file, buf);
    signal?.throwIfAborted();
    if (n > 0) hasher.update(buf.subarray(0, n));
    size += n;
    if (n < buf.length) break;
  }
  return { hash: toHex(hasher.digest()), size };
}
