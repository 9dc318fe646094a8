/**
 * The requester's verdict on each shard of a chunk-proof answer
 * (docs/proofs.md): the proofs against what the requester knows of each
 * shard (its checksum and size), from the checksum alone, at the groups
 * the challenge samples. Pure: the envelope and signature are the
 * transport's to check.
 *
 * @module
 */
import type { ProofAnswer, ShardProofs } from "../core/mod.ts";
import { verifyGroupProofs } from "./chunk_proof.ts";
import { ProofError, type ProofFault } from "./proof_error.ts";
import { proofGroupCv, shardProofsDigest } from "./proof_signing.ts";
import { sampleGroups } from "./sample.ts";

/** Largest shard a legal tessera has (1 GiB / 48). */
const MAX_SHARD_BYTES = Math.ceil(2 ** 30 / 48);

/** The challenge a verdict is about. */
export interface ProofChallenge {
  /** The tessera. */
  readonly tesseraId: string;
  /** The challenge's nonce. */
  readonly nonce: Uint8Array;
  /** Shards asked; empty or absent: every shard the holder keeps. */
  readonly indices?: readonly number[];
}

/** What the requester knows of a shard it asked about: its row. */
export interface KnownShard {
  /** The shard's checksum, hex. */
  readonly checksum: string;
  /** The shard's size, bytes. */
  readonly size: number;
}

/** The verdict on one shard of a checked answer. */
export type ShardVerdict =
  | { readonly index: number; readonly ok: true }
  | {
    readonly index: number;
    readonly ok: false;
    /** What was wrong with its proofs. */
    readonly fault: ProofFault | "checksum" | "size" | "unasked";
    /** Why, in words. */
    readonly reason: string;
  };

/** An answer judged: each shard's verdict and the digest its holder signed. */
export interface JudgedAnswer {
  /** One verdict per shard answered, in the answer's order. */
  readonly verdicts: ShardVerdict[];
  /**
   * Each shard's proofs digest (`shardProofsDigest`), in the answer's
   * order: what the signature must cover, from the chaining values the
   * judging computed (no second hash of the groups).
   */
  readonly digests: string[];
}

/**
 * Judge each shard of an answer whose envelope checked: its proofs
 * against what the requester knows (`known`, by index: checksum and
 * size), from the checksum alone, with the groups the nonce, holder,
 * tessera and index sample. One verdict per shard answered.
 *
 * @example
 * ```ts
 * import type { ProofAnswer } from "../core/mod.ts";
 * declare const answer: ProofAnswer;
 * declare const request: ProofChallenge;
 * declare const peer: string;
 * declare const known: ReadonlyMap<number, KnownShard>;
 * const verdicts = judgeProofs(answer, { request, peer, known });
 * ```
 */
export function judgeProofs(
  answer: ProofAnswer,
  from: {
    readonly request: ProofChallenge;
    readonly peer: string;
    readonly known: ReadonlyMap<number, KnownShard>;
  },
): ShardVerdict[] {
  return judgeAnswer(answer, from).verdicts;
}

/**
 * {@linkcode judgeProofs} with each shard's signed digest beside its
 * verdict, for a requester that checks the signature after judging: each
 * group is hashed once, for both.
 *
 * @example
 * ```ts
 * import type { ProofAnswer } from "../core/mod.ts";
 * import { proofAnswerSigningBytes } from "./proof_signing.ts";
 * declare const answer: ProofAnswer;
 * declare const request: ProofChallenge;
 * declare const peer: string;
 * declare const known: ReadonlyMap<number, KnownShard>;
 * const { verdicts, digests } = judgeAnswer(answer, { request, peer, known });
 * const signed = proofAnswerSigningBytes(answer, digests);
 * ```
 */
export function judgeAnswer(
  answer: ProofAnswer,
  from: {
    readonly request: ProofChallenge;
    readonly peer: string;
    readonly known: ReadonlyMap<number, KnownShard>;
  },
): JudgedAnswer {
  const verdicts: ShardVerdict[] = [];
  const digests: string[] = [];
  for (const s of answer.shards) {
    // The groups' chaining values as signed (for the claimed size), which
    // are also what the check walks up when the size is the known one.
    const cvs = s.groups.map((g) => proofGroupCv(g, s.size));
    digests.push(shardProofsDigest(s, cvs));
    verdicts.push(judgeShard(s, cvs, from));
  }
  return { verdicts, digests };
}

function judgeShard(
  shard: ShardProofs,
  cvs: readonly Uint8Array[],
  from: {
    readonly request: ProofChallenge;
    readonly peer: string;
    readonly known: ReadonlyMap<number, KnownShard>;
  },
): ShardVerdict {
  const { index } = shard;
  const asked = from.request.indices ?? [];
  const row = from.known.get(index);
  const no = (
    fault: Exclude<ShardVerdict, { ok: true }>["fault"],
    reason: string,
  ) => ({
    index,
    ok: false as const,
    fault,
    reason,
  });
  if (row === undefined || (asked.length > 0 && !asked.includes(index))) {
    return no("unasked", `shard ${index} was not asked for`);
  }
  if (shard.checksum !== row.checksum) {
    return no(
      "checksum",
      `shard ${index} is claimed under checksum ${shard.checksum}, not ${row.checksum}`,
    );
  }
  if (shard.size !== row.size || row.size > MAX_SHARD_BYTES) {
    return no(
      "size",
      `shard ${index} is claimed as ${shard.size} bytes, not ${row.size}`,
    );
  }
  try {
    const groups = sampleGroups({
      nonce: from.request.nonce,
      holder: from.peer,
      tessera: from.request.tesseraId,
      index,
    }, row.size);
    // The sizes agree (above): the chaining values are those of the check.
    verifyGroupProofs(shard.groups, {
      size: row.size,
      checksum: row.checksum,
      groups,
    }, cvs);
    return { index, ok: true };
  } catch (err) {
    if (err instanceof ProofError) return no(err.fault, err.message);
    throw err;
  }
}
