/**
 * Chunk proofs: a group of a shard with the sibling chaining values on its
 * path to the root, which anyone holding only the shard's checksum (its
 * plain BLAKE3) can check. The holder reads the group and one 32-byte
 * sibling per level from its outboard, nothing else.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { parentCv, subtreeCv } from "./blake3_tree.ts";
import {
  ChunkTree,
  CV_BYTES,
  GROUP_BYTES,
  GROUP_CHUNKS,
  PAIR_BYTES,
} from "./chunk_tree.ts";
import { equal } from "./outboard.ts";
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
  const tree = new ChunkTree(source.size);
  const proofs: GroupProof[] = [];
  for (const group of groups) {
    const length = tree.groupLength(group);
    const bytes = await source.shard.read(group * GROUP_BYTES, length);
    if (bytes.length !== length) throw lost("shard", group);
    const path = tree.path(group);
    const siblings = new Uint8Array(path.length * CV_BYTES);
    for (let i = 0; i < path.length; i++) {
      const { node, fromLeft } = path[i];
      const at = node * PAIR_BYTES + (fromLeft ? CV_BYTES : 0);
      const sibling = await source.outboard.read(at, CV_BYTES);
      if (sibling.length !== CV_BYTES) throw lost("outboard", group);
      siblings.set(sibling, i * CV_BYTES);
    }
    proofs.push({ group, bytes, siblings });
  }
  return proofs;
}

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
  /** The shard's checksum (its BLAKE3), 32 bytes. */
  readonly checksum: Uint8Array;
  /** The groups that were asked for, in order. */
  readonly groups: readonly number[];
}

/**
 * Check that `proofs` answer exactly `target.groups` of the shard whose
 * BLAKE3 is `target.checksum`. Throws a {@linkcode ProofError}
 * (`ATTESTATION_FAILED`) whose `fault` says what was wrong: `count`,
 * `position`, `length`, `depth` or `mismatch`.
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
): void {
  const { groups, checksum } = target;
  if (proofs.length !== groups.length) {
    throw refused(
      "count",
      `${proofs.length} groups answered, ${groups.length} asked`,
    );
  }
  const tree = new ChunkTree(target.size);
  for (let i = 0; i < proofs.length; i++) {
    if (proofs[i].group !== groups[i]) {
      throw refused(
        "position",
        `group ${proofs[i].group} answered where ${groups[i]} was asked`,
      );
    }
    verifyGroupProof(proofs[i], tree, checksum);
  }
}

/** Check one proof against the tree and the checksum. */
function verifyGroupProof(
  proof: GroupProof,
  tree: ChunkTree,
  checksum: Uint8Array,
): void {
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
  let cv = subtreeCv(bytes, group * GROUP_CHUNKS, path.length === 0);
  for (let i = 0; i < path.length; i++) {
    const sibling = siblings.subarray(i * CV_BYTES, (i + 1) * CV_BYTES);
    const root = i === path.length - 1;
    cv = path[i].fromLeft
      ? parentCv(cv, sibling, root)
      : parentCv(sibling, cv, root);
  }
  if (!equal(cv, checksum)) {
    throw refused(
      "mismatch",
      `group ${group} and its siblings do not hash to the checksum (a wrong chunk or sibling)`,
    );
  }
}

function refused(fault: ProofError["fault"], why: string): ProofError {
  return new ProofError(
    "ATTESTATION_FAILED",
    fault,
    `chunk proof refused: ${why}`,
  );
}
