/**
 * Reading whole ranges of files, the small I/O helpers of the streaming
 * encoder and hasher.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";

/**
 * Fill `into` from the file's position; returns bytes read (EOF: fewer).
 *
 * @example
 * ```ts
 * using file = await Deno.open("/tmp/photo.jpg");
 * const head = new Uint8Array(8);
 * const n = await readFull(file, head); // 8 unless the file is shorter
 * ```
 */
export async function readFull(
  file: Deno.FsFile,
  into: Uint8Array,
): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const n = await file.read(into.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/**
 * Throws `INVALID_INPUT` naming the file when it changed size under us
 * (`size.got` bytes where `size.want` were expected).
 */
export function assertUnchanged(
  path: string,
  size: { readonly want: number; readonly got: number },
): void {
  const { want, got } = size;
  if (want !== got) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${path} changed while it was read (${want} bytes expected, ${got} found): retry when it is no longer being written`,
    );
  }
}

/**
 * The file a blob store is asked to import, checked first: `NOT_FOUND`
 * when it cannot be read, `INVALID_INPUT` when it is no file, `TOO_LARGE`
 * past `limit.maxBytes`. The memory and disk stores both start so.
 *
 * @example
 * ```ts ignore
 * const info = await statImportSource("/tmp/photo.jpg", { maxBytes: 1 << 30 });
 * ```
 */
export async function statImportSource(
  source: string,
  limit: { readonly maxBytes?: number | undefined } = {},
): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch (err) {
    throw new TesserasError("NOT_FOUND", `cannot read ${source}: ${err}`);
  }
  if (!info.isFile) {
    throw new TesserasError("INVALID_INPUT", `${source} is not a file`);
  }
  if (limit.maxBytes !== undefined && info.size > limit.maxBytes) {
    throw new TesserasError(
      "TOO_LARGE",
      `${source} is ${info.size} bytes; the limit is ${limit.maxBytes} bytes`,
    );
  }
  return info;
}
