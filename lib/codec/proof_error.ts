/**
 * Why a chunk proof, an outboard or a verified stream was refused: one
 * error type whose `fault` names the part that was wrong, so a caller can
 * count it against the holder's standing and log the reason.
 *
 * @module
 */
import { type ErrorCode, TesserasError } from "../core/mod.ts";

/**
 * What was wrong:
 * - `count`: not the number of groups the challenge sampled;
 * - `position`: a group other than the one sampled (or outside the shard);
 * - `length`: group bytes (or a stream) of the wrong length;
 * - `depth`: a sibling path of the wrong length for the group's depth;
 * - `mismatch`: the group and its siblings do not hash to the checksum
 *   (a tampered chunk or sibling: from the checksum alone the two look
 *   the same);
 * - `outboard`: an outboard of the wrong length or that does not hash to
 *   the checksum.
 */
export type ProofFault =
  | "count"
  | "position"
  | "length"
  | "depth"
  | "mismatch"
  | "outboard";

/**
 * A refused proof. Its `code` is `ATTESTATION_FAILED` for an answer to a
 * challenge and `CHECKSUM_MISMATCH` for fetched bytes.
 *
 * @example
 * ```ts
 * const e = new ProofError("ATTESTATION_FAILED", "depth", "group 3: 2 siblings, want 11");
 * e.fault; // "depth"
 * ```
 */
export class ProofError extends TesserasError {
  /** The part of the proof that was wrong. */
  readonly fault: ProofFault;

  constructor(code: ErrorCode, fault: ProofFault, message: string) {
    super(code, message);
    this.name = "ProofError";
    this.fault = fault;
  }
}
