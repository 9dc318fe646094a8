/**
 * The shape of BLAKE3's chunk tree over a shard, cut at chunk groups: how
 * many groups, how long each is, which nodes lie on the path from a group
 * to the root, and where each parent node sits in a post-order outboard.
 * Pure arithmetic, no hashing.
 *
 * BLAKE3 splits its input into 1 KiB chunks and builds a left-full binary
 * tree over them (a node's left subtree holds the largest power of two of
 * chunks that leaves at least one for the right). Every aligned run of
 * {@linkcode GROUP_CHUNKS} chunks (and the shorter last run) is a subtree
 * of that tree, so the tree above the groups is again a left-full tree,
 * over the groups: the outboard stores its parent nodes, each as the pair
 * of its children's chaining values (64 bytes), in post-order (children
 * before parents), the order in which a streaming hasher completes them.
 * That is the shape of iroh's bao-tree post-order outboard at
 * `BlockSize(3)`.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { CHUNK_BYTES } from "./blake3_chunk.ts";

/** Chunks per group: 8, so a group is 8 KiB (docs/proofs.md says why). */
export const GROUP_CHUNKS = 8;

/** Bytes per group: {@linkcode GROUP_CHUNKS} chunks of 1 KiB. */
export const GROUP_BYTES: number = GROUP_CHUNKS * CHUNK_BYTES;

/** Bytes of one outboard entry: a parent's left and right chaining values. */
export const PAIR_BYTES = 64;

/** Bytes of a chaining value (and of the root, the shard's checksum). */
export const CV_BYTES = 32;

/**
 * Largest shard a tree describes: 2^31 - 1 groups keep the node
 * arithmetic in 32-bit integers (16 TiB, far above any tier's shard).
 */
const MAX_GROUPS = 0x7fffffff;

/** One step of a path, from a group up to the root. */
export interface PathStep {
  /** The parent node's position in the post-order outboard. */
  readonly node: number;
  /** Whether the path comes up from the parent's left child. */
  readonly fromLeft: boolean;
}

/** A child of a parent node: another parent node, or a group. */
export interface TreeChild {
  /** Post-order position of the parent node, or the group's index. */
  readonly index: number;
  /** Whether the child is a group (a leaf of the tree above the groups). */
  readonly group: boolean;
}

/** A parent node and its two children, as {@linkcode ChunkTree.nodes} yields. */
export interface TreeNode {
  /** The node's position in the post-order outboard. */
  readonly node: number;
  /** Its left child. */
  readonly left: TreeChild;
  /** Its right child. */
  readonly right: TreeChild;
}

/** Number of set bits of a non-negative 32-bit integer. */
function popcount(n: number): number {
  let c = 0;
  for (let x = n; x !== 0; x &= x - 1) c++;
  return c;
}

/** Number of trailing zero bits of a positive 32-bit integer. */
function trailingZeros(n: number): number {
  return 31 - Math.clz32(n & -n);
}

/** The largest power of two strictly below `n` (n >= 2). */
function splitOf(n: number): number {
  return 1 << (31 - Math.clz32(n - 1));
}

/**
 * The geometry of a shard of `size` bytes. An empty shard has one empty
 * group, as BLAKE3 hashes it as one empty chunk.
 *
 * @example
 * ```ts
 * const tree = new ChunkTree(20_000); // 3 groups: 8192, 8192, 3616 bytes
 * tree.groups; // 3
 * tree.outboardBytes; // 128: two parent pairs
 * tree.path(2).length; // 1: group 2 is the root's right child
 * ```
 */
export class ChunkTree {
  /** Shard bytes. */
  readonly size: number;
  /** Number of groups (at least 1). */
  readonly groups: number;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new TesserasError(
        "INVALID_INPUT",
        `shard size must be a whole number of bytes, got ${size}`,
      );
    }
    const groups = Math.max(1, Math.ceil(size / GROUP_BYTES));
    if (groups > MAX_GROUPS) {
      throw new TesserasError("TOO_LARGE", `shard of ${size} bytes too large`);
    }
    this.size = size;
    this.groups = groups;
  }

  /** Bytes of the post-order outboard: one pair per parent node. */
  get outboardBytes(): number {
    return (this.groups - 1) * PAIR_BYTES;
  }

  /** Bytes of group `g`: {@linkcode GROUP_BYTES}, less for the last. */
  groupLength(g: number): number {
    this.#checkGroup(g);
    return Math.min(GROUP_BYTES, this.size - g * GROUP_BYTES);
  }

  /**
   * The parent nodes from group `g` up to the root (empty when the tree
   * is one group): the siblings of a proof of `g`, bottom-up.
   */
  path(g: number): PathStep[] {
    this.#checkGroup(g);
    const down: PathStep[] = [];
    let start = 0;
    let end = this.groups;
    for (let spine = 0; end - start > 1;) {
      const node = this.#postOrder(start, end, spine);
      const mid = start + splitOf(end - start);
      const fromLeft = g < mid;
      // Only the right spine (end = groups) holds imperfect nodes.
      if (fromLeft || end !== this.groups) spine = -1;
      else spine++;
      down.push({ node, fromLeft });
      if (fromLeft) end = mid;
      else start = mid;
    }
    return down.reverse();
  }

  /**
   * Post-order position of the parent node over groups [start, end).
   * A perfect node (a power of two of groups) is complete once group
   * `end - 1` is hashed: the `end - popcount(end)` parents inside
   * [0, end) come first, less the larger ones completed in the same
   * cascade. An imperfect node lies on the right spine and completes
   * only at the end, deepest first; `spine` is its depth on that spine
   * (-1 off it).
   */
  /** Every parent node with its children, from the root down. */
  *nodes(): Generator<TreeNode> {
    const todo: [number, number, number][] = [[0, this.groups, 0]];
    for (let next = todo.pop(); next; next = todo.pop()) {
      const [start, end, spine] = next;
      if (end - start < 2) continue;
      const mid = start + splitOf(end - start);
      const rightSpine = end === this.groups && spine >= 0 ? spine + 1 : -1;
      yield {
        node: this.#postOrder(start, end, spine),
        left: this.#child(start, mid, -1),
        right: this.#child(mid, end, rightSpine),
      };
      todo.push([start, mid, -1], [mid, end, rightSpine]);
    }
  }

  #child(start: number, end: number, spine: number): TreeChild {
    return end - start === 1
      ? { index: start, group: true }
      : { index: this.#postOrder(start, end, spine), group: false };
  }

  #postOrder(start: number, end: number, spine: number): number {
    const span = end - start;
    if ((span & (span - 1)) === 0) {
      const cascade = trailingZeros(end) - trailingZeros(span);
      return end - popcount(end) - 1 - cascade;
    }
    return this.groups - 2 - spine;
  }

  #checkGroup(g: number): void {
    if (!Number.isInteger(g) || g < 0 || g >= this.groups) {
      throw new TesserasError(
        "INVALID_INPUT",
        `group ${g} is outside a ${this.groups}-group shard`,
      );
    }
  }
}
