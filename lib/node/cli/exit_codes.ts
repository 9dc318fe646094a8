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
