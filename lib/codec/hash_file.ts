/**
 * BLAKE3 of a whole file, streamed (memory stays at one read buffer), and
 * a copy that hashes what it writes.
 *
 * @module
 */
import { type IoOptions, TesserasError, toHex } from "../core/mod.ts";
import { createBlake3 } from "./blake3.ts";
import { readFull } from "./file_io.ts";
import { type SlicedDigest, SlicedHash, type Slices } from "./sliced_hash.ts";

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
  options.signal?.throwIfAborted();
  const hasher = createBlake3(options.key ? { key: options.key } : {});
  const size = await eachPiece(path, options, (piece) => hasher.update(piece));
  return { hash: toHex(hasher.digest()), size };
}

/**
 * Hand every 4 MiB piece of the file at `path` to `use`, in order (the
 * buffer is reused: `use` must not keep it); resolves with the bytes
 * read. The signal is checked after each read.
 */
async function eachPiece(
  path: string | URL,
  options: IoOptions,
  use: (piece: Uint8Array) => void,
): Promise<number> {
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(PIECE);
  let size = 0;
  for (;;) {
    const n = await readFull(file, buf);
    options.signal?.throwIfAborted();
    if (n > 0) use(buf.subarray(0, n));
    size += n;
    if (n < buf.length) return size;
  }
}

/**
 * BLAKE3 of the file at `path` and of each of its `slices` (zero-padded;
 * see {@linkcode SlicedHash}), in one read of 4 MiB pieces.
 *
 * @example
 * ```ts
 * import { hashFileSliced } from "./hash_file.ts";
 * const { hash, slices } = await hashFileSliced("/tmp/a.bin", {
 *   slices: { size: 1 << 20, count: 4 },
 * });
 * ```
 */
export async function hashFileSliced(
  path: string,
  options: IoOptions & { readonly slices?: Slices } = {},
): Promise<SlicedDigest & { readonly size: number }> {
  options.signal?.throwIfAborted();
  const hasher = new SlicedHash(options.slices);
  const size = await eachPiece(path, options, (piece) => hasher.update(piece));
  return { ...hasher.digest(), size };
}

/** Options of {@linkcode copyFileHashed}. */
export interface CopyHashedOptions extends IoOptions {
  /** Also hash these slices of the copy (see {@linkcode SlicedHash}). */
  readonly slices?: Slices;
  /** Rejects `TOO_LARGE` once more than this many bytes were read. */
  readonly maxBytes?: number;
}

/**
 * Copy the file at `source` to `dest` (created or truncated), hashing the
 * bytes on the way: resolves with the BLAKE3-256 of what was written (and
 * of its `slices`, when asked). The copy is not flushed to disk: the
 * caller flushes it when it needs it durable (a put's staging does so
 * beside the encode). Each 4 MiB piece is written while the next is read and
 * this one hashed, so the hash costs the copy no time where the disk is
 * the bottleneck (a put's import: the id is known when the copy is, with
 * no second pass over the file). Rejects `TOO_LARGE`
 * when the source grew past `maxBytes` while it was copied (the partial
 * copy is the caller's to remove); the signal is checked between pieces.
 *
 * @example
 * ```ts
 * import { copyFileHashed } from "./hash_file.ts";
 * const { hash, size } = await copyFileHashed("/tmp/a.bin", "/tmp/b.bin");
 * ```
 */
export async function copyFileHashed(
  source: string,
  dest: string,
  options: CopyHashedOptions = {},
): Promise<FileHash & SlicedDigest> {
  const { signal, maxBytes = Infinity } = options;
  using from = await Deno.open(source, { read: true });
  using to = await Deno.open(dest, {
    write: true,
    create: true,
    truncate: true,
  });
  const hasher = new SlicedHash(options.slices);
  const buffers = [new Uint8Array(PIECE), new Uint8Array(PIECE)];
  let writing: Promise<void> = Promise.resolve();
  let size = 0;
  try {
    let n = await readFull(from, buffers[0]);
    for (let turn = 0; n > 0; turn ^= 1) {
      signal?.throwIfAborted();
      size += n;
      if (size > maxBytes) {
        throw new TesserasError(
          "TOO_LARGE",
          `${source} grew past ${maxBytes} bytes while it was copied`,
        );
      }
      const piece = buffers[turn].subarray(0, n);
      // The other buffer is free once its write is done.
      await writing;
      writing = writeAll(to, piece);
      const next = n < PIECE
        ? Promise.resolve(0)
        : readFull(from, buffers[turn ^ 1]);
      hasher.update(piece);
      n = await next;
    }
    await writing;
  } catch (err) {
    await writing.catch(() => {});
    throw err;
  }
  return { ...hasher.digest(), size };
}

/** Write all of `bytes` (a write may take fewer than given). */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await file.write(bytes.subarray(at));
  }
}
