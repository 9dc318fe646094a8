/**
 * The one error type of tesseras: every failure carries a stable `code` so
 * that callers (the CLI, the HTTP API, the wire protocols) can map it to an
 * exit status or a reply without parsing messages.
 *
 * @module
 */

/** Stable error codes. Messages say what happened and what to do. */
export type ErrorCode =
  | "CHECKSUM_MISMATCH"
  | "DEFICIT_EXCEEDED"
  | "TOO_LARGE"
  | "NOT_FOUND"
  | "INSUFFICIENT_SHARDS"
  | "INVALID_ID"
  | "INVALID_INPUT"
  | "INSUFFICIENT_SPACE"
  | "PEER_LIMIT_EXCEEDED"
  | "RATE_LIMITED"
  | "UNAUTHORIZED"
  | "TIMEOUT"
  | "UNREACHABLE"
  | "PROTOCOL_ERROR"
  | "ATTESTATION_FAILED"
  | "ALREADY_RUNNING"
  | "NOT_RUNNING"
  | "STORAGE_ERROR"
  | "INTERNAL";

/**
 * Error with a machine-readable code.
 *
 * @example
 * ```ts
 * throw new TesserasError("TOO_LARGE", "file is 2 GiB; the limit is 1 GiB");
 * ```
 */
export class TesserasError extends Error {
  /** The stable code of this failure. */
  readonly code: ErrorCode;

  /**
   * @param code stable code
   * @param message what happened and what to do about it
   * @param options standard error options (`cause`)
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TesserasError";
    this.code = code;
  }
}

/**
 * True when `err` is a {@linkcode TesserasError}, optionally with `code`.
 *
 * @example
 * ```ts
 * declare const e: unknown;
 * if (isTesserasError(e, "NOT_FOUND")) console.error("no such tessera");
 * ```
 */
export function isTesserasError(
  err: unknown,
  code?: ErrorCode,
): err is TesserasError {
  return err instanceof TesserasError &&
    (code === undefined || err.code === code);
}
