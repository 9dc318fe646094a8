/**
 * Free disk space without native code: Deno's `node:fs` implements
 * `statfs` (Deno has no `Deno.statfs`), which works in a compiled binary
 * and on every platform Deno supports. It needs `--allow-sys=statfs`
 * (and read access to the path).
 *
 * @module
 */
import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { IoOptions } from "../core/mod.ts";
import { isNotFound, storageError } from "./io_errors.ts";

/**
 * Bytes available to an unprivileged user on the file system holding
 * `path` (`f_bavail * f_bsize`, what `df` shows as "Available"). When
 * `path` does not exist yet, its nearest existing ancestor is asked.
 *
 * @example
 * ```ts
 * declare const dataDir: string;
 * if (await freeDiskBytes(dataDir) < 1_000_000_000) console.warn("low");
 * ```
 */
export async function freeDiskBytes(
  path: string,
  options: IoOptions = {},
): Promise<number> {
  const { signal } = options;
  let p = resolve(path);
  for (;;) {
    signal?.throwIfAborted();
    try {
      const s = await statfs(p, { bigint: true });
      return Number(s.bavail * s.bsize);
    } catch (err) {
      const parent = dirname(p);
      if (isNotFound(err) && parent !== p) {
        p = parent;
        continue;
      }
      throw storageError(err, `reading free space of ${path}`);
    }
  }
}
