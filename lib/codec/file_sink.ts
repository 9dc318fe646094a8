/**
 * A {@linkcode ShardSink} that appends each shard to its own file.
 *
 * @module
 */
import type { ShardSink } from "./encode_file.ts";

/** A file-backed sink; close it when the encoder returns or throws. */
export interface FileSink extends ShardSink, AsyncDisposable {
  /** Paths written so far, by shard index. */
  readonly paths: readonly string[];
  /** Flush (fsync when asked) and close every file. */
  close(options?: { sync?: boolean }): Promise<void>;
}

/**
 * A sink writing shard `index` to `pathFor(index)` (created or truncated
 * on its first write).
 *
 * @example
 * ```ts
 * await using sink = createFileSink((i) => `/tmp/t/${i}.shard`);
 * // await encodeTesseraFile("big.bin", sink);
 * ```
 */
export function createFileSink(pathFor: (index: number) => string): FileSink {
  const files = new Map<number, Deno.FsFile>();
  const opening = new Map<number, Promise<Deno.FsFile>>();
  const paths: string[] = [];
  const open = (index: number): Promise<Deno.FsFile> => {
    let p = opening.get(index);
    if (!p) {
      paths[index] = pathFor(index);
      p = Deno.open(paths[index], {
        write: true,
        create: true,
        truncate: true,
      }).then((f) => {
        files.set(index, f);
        return f;
      });
      opening.set(index, p);
    }
    return p;
  };
  const close = async (options: { sync?: boolean } = {}) => {
    await Promise.allSettled(opening.values());
    const all = [...files.values()];
    files.clear();
    opening.clear();
    if (options.sync) await Promise.all(all.map((f) => f.sync()));
    for (const f of all) f.close();
  };
  return {
    paths,
    async write(index: number, bytes: Uint8Array): Promise<void> {
      const f = await open(index);
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
