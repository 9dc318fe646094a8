/**
 * Random access to bytes, in memory or in a file: what a holder reads a
 * sampled group or a sibling from, without reading the rest.
 *
 * @module
 */
import { readFull } from "./file_io.ts";

/** Reads `length` bytes at `offset`; fewer only at the end of the data. */
export interface ReadAt {
  /** The bytes at [offset, offset + length), shorter past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * A {@linkcode ReadAt} over bytes in memory (the simulator's shards, tests).
 *
 * @example
 * ```ts
 * const at = bytesReadAt(new Uint8Array([1, 2, 3]));
 * await at.read(1, 5); // Uint8Array [2, 3]
 * ```
 */
export function bytesReadAt(bytes: Uint8Array): ReadAt {
  return {
    read: (offset, length) =>
      Promise.resolve(bytes.slice(offset, offset + length)),
  };
}

/**
 * A {@linkcode ReadAt} over an open file: each read seeks, so reads must
 * not overlap in time (await one before the next).
 *
 * @example
 * ```ts
 * using file = await Deno.open("/tmp/000.shard");
 * const first = await fileReadAt(file).read(0, 8192);
 * ```
 */
export function fileReadAt(file: Deno.FsFile): ReadAt {
  return {
    async read(offset, length) {
      await file.seek(offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(length);
      const n = await readFull(file, buf);
      return n === length ? buf : buf.slice(0, n);
    },
  };
}

/** A {@linkcode ReadAt} that counts the bytes it returned. */
export interface CountingReadAt extends ReadAt {
  /** Bytes returned by every read so far. */
  readonly bytesRead: number;
}

/**
 * `inner`, counting the bytes read through it (what a check cost the
 * holder: benchmarks, metrics).
 *
 * @example
 * ```ts
 * const at = countingReadAt(bytesReadAt(new Uint8Array(10)));
 * await at.read(0, 4);
 * at.bytesRead; // 4
 * ```
 */
export function countingReadAt(inner: ReadAt): CountingReadAt {
  let bytesRead = 0;
  return {
    get bytesRead() {
      return bytesRead;
    },
    async read(offset, length) {
      const got = await inner.read(offset, length);
      bytesRead += got.length;
      return got;
    },
  };
}
