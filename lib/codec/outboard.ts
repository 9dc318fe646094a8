/**
 * Outboards: the interior of a shard's BLAKE3 tree above its chunk groups,
 * stored beside the shard so that a holder can prove any group against
 * the checksum by reading only that group and its path.
 *
 * The outboard is the tree's parent nodes in post-order, each as its two
 * children's chaining values (64 bytes): `(groups - 1) * 64` bytes, 0.78 %
 * of the shard at 8 KiB groups, nothing at all for a shard of one group.
 * It carries no header: its length and layout follow from the shard's
 * size ({@linkcode ChunkTree}). A streaming hasher completes nodes in
 * exactly this order, so {@linkcode OutboardBuilder} writes it while the
 * shard passes through, and its root is the shard's plain BLAKE3 hash.
 *
 * @module
 */
import { type IoOptions, TesserasError } from "../core/mod.ts";
import { groupCvs, pairCvs, parentCv, subtreeCv } from "./blake3_tree.ts";
import {
  ChunkTree,
  CV_BYTES,
  GROUP_BYTES,
  GROUP_CHUNKS,
  PAIR_BYTES,
  type TreeChild,
} from "./chunk_tree.ts";
import { readFull } from "./file_io.ts";
import { ProofError } from "./proof_error.ts";

/** What {@linkcode OutboardBuilder.finish} returns. */
export interface BuiltOutboard {
  /** BLAKE3 of the bytes (the shard's checksum), 32 bytes. */
  readonly root: Uint8Array;
  /** The post-order outboard, `(groups - 1) * 64` bytes. */
  readonly outboard: Uint8Array;
  /** Bytes hashed. */
  readonly size: number;
}

/** Input staged before its groups are hashed, in whole groups. */
const BATCH = 32 * GROUP_BYTES;

/**
 * Builds a shard's outboard and root from its bytes fed in pieces of any
 * size; memory stays at one batch of groups plus the outboard itself.
 *
 * @example
 * ```ts
 * const b = new OutboardBuilder();
 * b.update(new Uint8Array(10_000)).update(new Uint8Array(10_000));
 * const { root, outboard } = b.finish(); // root: blake3 of the 20,000 bytes
 * outboard.length; // 128
 * ```
 */
export class OutboardBuilder {
  /** Staged input; allocated on first need (one-shot hashes never do). */
  #buf = new Uint8Array(0);
  #len = 0;
  #size = 0;
  #groups = 0;
  readonly #stack: Uint8Array[] = [];
  #out = new Uint8Array(4 * PAIR_BYTES);
  #outLen = 0;
  #done = false;

  /** Absorb more bytes; returns the builder for chaining. */
  update(data: Uint8Array): this {
    this.#live();
    this.#size += data.length;
    let pos = 0;
    while (pos < data.length) {
      // A staged batch is hashed only once more input follows it: its
      // last group might otherwise be the shard's last (or only) group.
      if (this.#len === BATCH) {
        this.#absorb(this.#buf);
        this.#len = 0;
      }
      if (this.#len === 0 && data.length - pos > BATCH) {
        const whole = Math.floor((data.length - pos - 1) / GROUP_BYTES);
        this.#absorb(data.subarray(pos, pos + whole * GROUP_BYTES));
        pos += whole * GROUP_BYTES;
        continue;
      }
      const take = Math.min(BATCH - this.#len, data.length - pos);
      if (this.#buf.length < this.#len + take) this.#grow(this.#len + take);
      this.#buf.set(data.subarray(pos, pos + take), this.#len);
      this.#len += take;
      pos += take;
    }
    return this;
  }

  /** The root and the outboard; the builder is then spent. */
  finish(): BuiltOutboard {
    this.#live();
    this.#done = true;
    const tail = this.#buf.subarray(0, this.#len);
    const lastAt = this.#len === 0
      ? 0
      : Math.floor((this.#len - 1) / GROUP_BYTES) * GROUP_BYTES;
    if (lastAt > 0) this.#absorb(tail.subarray(0, lastAt));
    const last = tail.subarray(lastAt);
    if (this.#groups === 0) {
      return {
        root: subtreeCv(last, 0, true),
        outboard: new Uint8Array(0),
        size: this.#size,
      };
    }
    this.#push(subtreeCv(last, this.#groups * GROUP_CHUNKS, false));
    return {
      root: this.#closeSpine(),
      outboard: this.#out.slice(0, this.#outLen),
      size: this.#size,
    };
  }

  /** Grow the staging buffer to hold at least `n` bytes (at most a batch). */
  #grow(n: number): void {
    const grown = new Uint8Array(
      Math.min(BATCH, Math.max(n, 2 * this.#buf.length)),
    );
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  /** Hash whole groups (not the shard's last) and push their CVs. */
  #absorb(groups: Uint8Array): void {
    const cvs = groupCvs(groups, this.#groups);
    for (let i = 0; i < cvs.length; i += CV_BYTES) {
      this.#push(cvs.subarray(i, i + CV_BYTES));
    }
  }

  /**
   * Push the next group's CV and merge every subtree it completes,
   * writing each merged node's pair: perfect nodes complete here, in
   * post-order.
   */
  #push(cv: Uint8Array): void {
    this.#stack.push(cv);
    this.#groups++;
    for (let total = this.#groups; total % 2 === 0; total /= 2) {
      const right = this.#stack.pop()!;
      const left = this.#stack.pop()!;
      this.#emit(left, right);
      this.#stack.push(parentCv(left, right, false));
    }
  }

  /**
   * Merge what is left on the stack from the right (the imperfect nodes
   * of the right spine, deepest first) and return the root hash.
   */
  #closeSpine(): Uint8Array {
    let right = this.#stack.pop()!;
    if (this.#stack.length === 0) {
      // A power of two of groups: the last pair written is the root's,
      // merged without the ROOT flag; hash it again as the root.
      const at = this.#outLen - PAIR_BYTES;
      const pair = this.#out.subarray(at, at + PAIR_BYTES);
      return parentCv(
        pair.subarray(0, CV_BYTES),
        pair.subarray(CV_BYTES),
        true,
      );
    }
    while (this.#stack.length > 0) {
      const left = this.#stack.pop()!;
      this.#emit(left, right);
      right = parentCv(left, right, this.#stack.length === 0);
    }
    return right;
  }

  #emit(left: Uint8Array, right: Uint8Array): void {
    if (this.#outLen + PAIR_BYTES > this.#out.length) {
      const grown = new Uint8Array(this.#out.length * 2);
      grown.set(this.#out.subarray(0, this.#outLen));
      this.#out = grown;
    }
    this.#out.set(left, this.#outLen);
    this.#out.set(right, this.#outLen + CV_BYTES);
    this.#outLen += PAIR_BYTES;
  }

  #live(): void {
    if (this.#done) {
      throw new TesserasError(
        "INVALID_INPUT",
        "outboard builder already finished: create a new one",
      );
    }
  }
}

/**
 * The outboard and root of `bytes`.
 *
 * @example
 * ```ts
 * outboardOf(new Uint8Array(8192)).outboard.length; // 0: one group
 * ```
 */
export function outboardOf(bytes: Uint8Array): BuiltOutboard {
  // One group (the simulator's shards): its hash is the root, no outboard.
  if (bytes.length <= GROUP_BYTES) {
    return {
      root: subtreeCv(bytes, 0, true),
      outboard: new Uint8Array(0),
      size: bytes.length,
    };
  }
  return new OutboardBuilder().update(bytes).finish();
}

/** Bytes read per step by {@linkcode outboardOfFile}. */
const PIECE = 1 << 20;

/**
 * The outboard and root of the file at `path`, read in 1 MiB pieces (the
 * shard never in memory whole); the signal is checked between pieces.
 *
 * @example
 * ```ts
 * const { root, outboard, size } = await outboardOfFile("/tmp/000.shard");
 * ```
 */
export async function outboardOfFile(
  path: string | URL,
  options: IoOptions = {},
): Promise<BuiltOutboard> {
  const { signal } = options;
  signal?.throwIfAborted();
  using file = await Deno.open(path, { read: true });
  const builder = new OutboardBuilder();
  const buf = new Uint8Array(PIECE);
  for (;;) {
    const n = await readFull(file, buf);
    signal?.throwIfAborted();
    if (n > 0) builder.update(buf.subarray(0, n));
    if (n < buf.length) break;
  }
  return builder.finish();
}

/** What {@linkcode checkOutboard} is checked against. */
export interface OutboardTarget {
  /** The shard's size in bytes. */
  readonly size: number;
  /** The shard's checksum (its BLAKE3), 32 bytes. */
  readonly checksum: Uint8Array;
}

/**
 * Check that `outboard` is the outboard of a shard of `target.size` bytes
 * whose BLAKE3 is `target.checksum`, and return the chaining value every
 * group must hash to (32 bytes per group, side by side; for a one-group
 * shard, the checksum itself, hashed as the root). Costs one compression
 * per node and reads no shard bytes. Throws a {@linkcode ProofError}
 * (`CHECKSUM_MISMATCH`, fault `outboard`) naming what is wrong.
 *
 * @example
 * ```ts
 * const shard = new Uint8Array(20_000);
 * const { root, outboard } = outboardOf(shard);
 * checkOutboard(outboard, { size: shard.length, checksum: root }).length; // 96
 * ```
 */
export function checkOutboard(
  outboard: Uint8Array,
  target: OutboardTarget,
): Uint8Array {
  const tree = new ChunkTree(target.size);
  if (outboard.length !== tree.outboardBytes) {
    throw badOutboard(
      `${outboard.length} bytes for a ${target.size}-byte shard, want ${tree.outboardBytes}`,
    );
  }
  if (tree.groups === 1) return target.checksum.slice(0, CV_BYTES);
  const cvs = pairCvs(outboard);
  const root = tree.groups - 2;
  const top = outboard.subarray(root * PAIR_BYTES, (root + 1) * PAIR_BYTES);
  if (
    !bytesEqual(
      parentCv(top.subarray(0, 32), top.subarray(32), true),
      target.checksum,
    )
  ) {
    throw badOutboard("its root does not hash to the checksum");
  }
  const groups = new Uint8Array(tree.groups * CV_BYTES);
  const expect = (child: TreeChild, cv: Uint8Array) => {
    const i = child.index * CV_BYTES;
    if (child.group) groups.set(cv, i);
    else if (!bytesEqual(cvs.subarray(i, i + CV_BYTES), cv)) {
      throw badOutboard(
        `node ${child.index} does not hash to its parent's entry`,
      );
    }
  };
  for (const { node, left, right } of tree.nodes()) {
    const pair = outboard.subarray(node * PAIR_BYTES, (node + 1) * PAIR_BYTES);
    expect(left, pair.subarray(0, CV_BYTES));
    expect(right, pair.subarray(CV_BYTES));
  }
  return groups;
}

function badOutboard(why: string): ProofError {
  return new ProofError(
    "CHECKSUM_MISMATCH",
    "outboard",
    `outboard refused: ${why}; rebuild it from the shard`,
  );
}

/**
 * Byte equality (of chaining values, checksums).
 *
 * @example
 * ```ts
 * bytesEqual(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
