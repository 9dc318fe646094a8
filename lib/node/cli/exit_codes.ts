/**
 * Exit statuses of the command line, by error code, so scripts can tell a
 * missing tessera from an unreachable node.
 *
 * @module
 */
import type { ErrorCode } from "../../core/mod.ts";

/** Success. */
export const EXIT_OK = 0;
/** Any failure without a more specific status. */
export const EXIT_FAILURE = 1;
/** Bad usage: unknown command, bad flag, malformed argument. */
export const EXIT_USAGE = 2;

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ID: EXIT_USAGE,
  INVALID_INPUT: EXIT_USAGE,
  TOO_LARGE: 3,
  NOT_FOUND: 4,
  NOT_RUNNING: 5,
  ALREADY_RUNNING: 6,
  INSUFFICIENT_SHARDS: 7,
  UNAUTHORIZED: 8,
  CHECKSUM_MISMATCH: 9,
};

/**
 * The exit status for an error code.
 *
 * @example
 * ```ts
 * exitCodeFor("NOT_FOUND"); // 4
 * ```
 */
export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT_FAILURE;
}

/** What each exit status means, in the order `--help` lists them. */
const MEANINGS: readonly (readonly [number, string])[] = [
  [EXIT_OK, "success"],
  [EXIT_FAILURE, "any other failure (verify: inconsistencies found)"],
  [
    EXIT_USAGE,
    "bad usage or input: unknown command or flag, malformed id, get -o onto an existing file without --force",
  ],
  [3, "too large: a tessera holds at most 1 GiB"],
  [4, "not found: no such file, tessera or data directory"],
  [5, "no running node on this data directory"],
  [6, "another node already uses this data directory"],
  [
    7,
    "not enough shards could be fetched to rebuild the tessera (drop-local: too few proven on live holders)",
  ],
  [8, "the node refused the API token"],
  [9, "a checksum did not match"],
];

/**
 * The exit statuses as `--help` shows them, one per line.
 *
 * @example
 * ```ts
 * const text: string = exitStatusHelp();
 * console.assert(text.includes("  4  not found"));
 * ```
 */
export function exitStatusHelp(): string {
  return [
    "Exit statuses:",
    ...MEANINGS.map(([code, meaning]) => `  ${code}  ${meaning}`),
  ].join("\n");
}
