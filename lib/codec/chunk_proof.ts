/**
 * Chunk proofs: a group of a shard with the sibling chaining values on its
 * path to the root, which anyone holding only the shard's checksum (its
 * plain BLAKE3) can check. The holder reads the group and one 32-byte
 * sibling per level from its outboard, nothing else.
 *
 * @module
 */
import { equalsHex, TesserasError } from "../core/mod.ts";
import { parentCv, subtreeCv } from "./blake3_tree.ts";
import {
  ChunkTree,
  CV_BYTES,
  GROUP_BYTES,
  GROUP_CHUNKS,
  PAIR_BYTES,
  type PathStep,
} from "./chunk_tree.ts";
import { bytesEqual } from "./outboard.ts";
import { ProofError } from "./proof_error.ts";
import type { ReadAt } from "./read_at.ts";

/** One group of a shard and its path to the root. */
export interface GroupProof {
  /** The group's index in the shard. */
  readonly group: number;
  /** The group's bytes (8 KiB, less for the shard's last group). */
  readonly bytes: Uint8Array;
  /** The siblings' chaining values from the group up, 32 bytes each. */
  readonly siblings: Uint8Array;
}

/** A shard a holder proves from: its size, bytes and outboard. */
export interface ProofSource {
  /** The shard's size in bytes. */
  readonly size: number;
  /** The shard's bytes. */
  readonly shard: ReadAt;
  /** The shard's post-order outboard (see `outboard.ts`). */
  readonly outboard: ReadAt;
}

/**
 * The proofs of `groups` (distinct indices, in the order asked) from
 * `source`. Throws `CHECKSUM_MISMATCH` when the shard or its outboard is
 * shorter than the size says (the holder lost bytes: its own copy is
 * corrupt), `INVALID_INPUT` for a group outside the shard.
 *
 * @example
 * ```ts
 * import { bytesReadAt } from "./read_at.ts";
 * import { outboardOf } from "./outboard.ts";
 * const shard = new Uint8Array(100_000);
 * const { outboard } = outboardOf(shard);
 * const [proof] = await proveGroups({
 *   size: shard.length,
 *   shard: bytesReadAt(shard),
 *   outboard: bytesReadAt(outboard),
 * }, [3]);
 * proof.siblings.length; // 128: four levels
 * ```
 */
export async function proveGroups(
  source: ProofSource,
  groups: readonly number[],
): Promise<GroupProof[]> {
  // A shard of one group (the simulator's, and any under 8 KiB): the
  // proof is the shard itself, with no siblings and no outboard to read.
  if (source.size <= GROUP_BYTES && groups.length === 1 && groups[0] === 0) {
    const bytes = await source.shard.read(0, source.size);
    if (bytes.length !== source.size) throw lost("shard", 0);
    return [{ group: 0, bytes, siblings: NO_SIBLINGS }];
  }
  const tree = new ChunkTree(source.size);
  const paths = groups.map((g) => tree.path(g));
  const at = (step: PathStep) =>
    step.node * PAIR_BYTES + (step.fromLeft ? CV_BYTES : 0);
  const cvs = await readSiblings(source.outboard, paths.flat().map(at));
  const proofs: GroupProof[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    const length = tree.groupLength(group);
    const bytes = await source.shard.read(group * GROUP_BYTES, length);
    if (bytes.length !== length) throw lost("shard", group);
    const siblings = new Uint8Array(paths[i].length * CV_BYTES);
    paths[i].forEach((step, level) => {
      const cv = cvs.get(at(step));
      if (!cv) throw lost("outboard", group);
      siblings.set(cv, level * CV_BYTES);
    });
    proofs.push({ group, bytes, siblings });
  }
  return proofs;
}

/**
 * Siblings closer than this in the outboard are read in one go: the
 * paths of a challenge share their top levels and a path's lower levels
 * lie close together (post-order), so a 22 MiB shard's 20 paths (~160
 * distinct siblings) take about 40 reads instead of ~240.
 */
const COALESCE_GAP = 512;

/** The 32-byte values at `offsets` of `outboard`, by offset. */
async function readSiblings(
  outboard: ReadAt,
  offsets: readonly number[],
): Promise<Map<number, Uint8Array>> {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const out = new Map<number, Uint8Array>();
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] - sorted[j - 1] <= COALESCE_GAP) j++;
    const start = sorted[i];
    const range = await outboard.read(start, sorted[j - 1] + CV_BYTES - start);
    for (; i < j; i++) {
      const cv = range.subarray(
        sorted[i] - start,
        sorted[i] - start + CV_BYTES,
      );
      if (cv.length === CV_BYTES) out.set(sorted[i], cv);
    }
  }
  return out;
}

const NO_SIBLINGS = new Uint8Array(0);

function lost(what: string, group: number): TesserasError {
  return new TesserasError(
    "CHECKSUM_MISMATCH",
    `the ${what} ends before group ${group}: this copy is damaged, scrub and re-fetch it`,
  );
}

/** What {@linkcode verifyGroupProofs} checks proofs against. */
export interface ProofTarget {
  /** The shard's size in bytes. */
  readonly size: number;
  /**
   * The shard's checksum (its BLAKE3): 32 bytes, or their hex (compared
   * as it is, without turning it into bytes).
   */
  readonly checksum: Uint8Array | string;
  /** The groups that were asked for, in order. */
  readonly groups: readonly number[];
}

/**
 * Check that `proofs` answer exactly `target.groups` of the shard whose
 * BLAKE3 is `target.checksum`. Throws a {@linkcode ProofError}
 * (`ATTESTATION_FAILED`) whose `fault` says what was wrong: `count`,
 * `position`, `length`, `depth` or `mismatch`. Returns each group's
 * chaining value (what the holder signs, `proofGroupCv`); `cvs`, when
 * given, are those values computed already for `target.size`, and are
 * used instead of hashing the groups again.
 *
 * @example
 * ```ts
 * import { blake3 } from "./blake3.ts";
 * const shard = new Uint8Array(9000);
 * const proofs = [{ group: 1, bytes: shard.subarray(8192), siblings: new Uint8Array(32) }];
 * try {
 *   verifyGroupProofs(proofs, { size: 9000, checksum: blake3(shard), groups: [1] });
 * } catch (e) {
 *   // e.fault === "mismatch": the sibling is not group 0's chaining value
 * }
 * ```
 */
export function verifyGroupProofs(
  proofs: readonly GroupProof[],
  target: ProofTarget,
  cvs?: readonly Uint8Array[],
): Uint8Array[] {
  const { groups, checksum } = target;
  if (proofs.length !== groups.length) {
    throw refused(
      "count",
      `${proofs.length} groups answered, ${groups.length} asked`,
    );
  }
  const tree = new ChunkTree(target.size);
  const out: Uint8Array[] = [];
  for (let i = 0; i < proofs.length; i++) {
    if (proofs[i].group !== groups[i]) {
      throw refused(
        "position",
        `group ${proofs[i].group} answered where ${groups[i]} was asked`,
      );
    }
    out.push(verifyGroupProof(proofs[i], tree, { checksum, cv: cvs?.[i] }));
  }
  return out;
}

/** Check one proof against the tree and the checksum; its group's CV. */
function verifyGroupProof(
  proof: GroupProof,
  tree: ChunkTree,
  against: {
    readonly checksum: Uint8Array | string;
    /** The group's chaining value, when computed already. */
    readonly cv: Uint8Array | undefined;
  },
): Uint8Array {
  const { group, bytes, siblings } = proof;
  if (!Number.isInteger(group) || group < 0 || group >= tree.groups) {
    throw refused(
      "position",
      `group ${group} is outside the shard's ${tree.groups}`,
    );
  }
  const length = tree.groupLength(group);
  if (bytes.length !== length) {
    throw refused(
      "length",
      `group ${group} has ${bytes.length} bytes, want ${length}`,
    );
  }
  const path = tree.path(group);
  if (siblings.length !== path.length * CV_BYTES) {
    throw refused(
      "depth",
      `group ${group} has ${siblings.length} bytes of siblings, want ${path.length} of ${CV_BYTES}`,
    );
  }
  const leaf = against.cv ??
    subtreeCv(bytes, group * GROUP_CHUNKS, path.length === 0);
  let cv = leaf;
  for (let i = 0; i < path.length; i++) {
    const sibling = siblings.subarray(i * CV_BYTES, (i + 1) * CV_BYTES);
    const root = i === path.length - 1;
    cv = path[i].fromLeft
      ? parentCv(cv, sibling, root)
      : parentCv(sibling, cv, root);
  }
  const { checksum } = against;
  if (
    typeof checksum === "string"
      ? !equalsHex(cv, checksum)
      : !bytesEqual(cv, checksum)
  ) {
    throw refused(
      "mismatch",
      `group ${group} and its siblings do not hash to the checksum (a wrong chunk or sibling)`,
    );
  }
  return leaf;
}

function refused(fault: ProofError["fault"], why: string): ProofError {
  return new ProofError(
    "ATTESTATION_FAILED",
    fault,
    `chunk proof refused: ${why}`,
  );
}
