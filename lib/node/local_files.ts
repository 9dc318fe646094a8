/**
 * The checks on a user's own files that both the command line (before it
 * calls the daemon) and the daemon (which does the reading and writing)
 * make: a file `put` can store, an output `get` may write. One rule each,
 * with the same words on both sides.
 *
 * @module
 */
import { MAX_TESSERA_SIZE, TesserasError } from "../core/mod.ts";

/**
 * Why a file operation failed, in words, without the path and syscall
 * Deno appends (`…: stat '/x/y'`): the caller names the file once.
 *
 * @example
 * ```ts
 * fsReason(new Deno.errors.NotFound("x")); // "no such file or directory"
 * ```
 */
export function fsReason(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file or directory";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/(?: \(os error \d+\))?: \w+ '[^']*'$/, "");
}

/** Options of {@linkcode checkStorableFile} and {@linkcode checkOutputFree}. */
export interface ShownAs {
  /** How to name the file in messages (default: the path given). */
  readonly shownAs?: string;
}

/**
 * Throws `NOT_FOUND`, `INVALID_INPUT` (not a regular file) or `TOO_LARGE`
 * unless `path` is a file `put` can store; resolves with its size.
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile();
 * const size: number = await checkStorableFile(path); // 0
 * ```
 */
export async function checkStorableFile(
  path: string,
  options: ShownAs = {},
): Promise<number> {
  const name = options.shownAs ?? path;
  const info = await Deno.stat(path).catch((err) => {
    throw new TesserasError(
      "NOT_FOUND",
      `cannot read ${name}: ${fsReason(err)}`,
    );
  });
  if (!info.isFile) {
    throw new TesserasError("INVALID_INPUT", `${name} is not a file`);
  }
  if (info.size > MAX_TESSERA_SIZE) {
    throw new TesserasError(
      "TOO_LARGE",
      `${name} is ${info.size} bytes; a tessera holds at most 1 GiB (${MAX_TESSERA_SIZE} bytes): split it first`,
    );
  }
  return info.size;
}

/**
 * Throws `INVALID_INPUT` when something already exists at `path`: `get`
 * replaces a file only when told to (`--force`).
 *
 * @example
 * ```ts
 * await checkOutputFree("/tmp/surely-not-there-" + crypto.randomUUID());
 * ```
 */
export async function checkOutputFree(
  path: string,
  options: ShownAs = {},
): Promise<void> {
  const exists = await Deno.lstat(path).then(() => true, () => false);
  if (exists) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${
        options.shownAs ?? path
      } already exists: pass --force to replace it, or choose another -o`,
    );
  }
}
