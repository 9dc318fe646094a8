/**
 * Shared fixtures of the proof kernel's tests: deterministic shard bytes,
 * an independent BLAKE3 (hash-wasm), and a reference outboard built by
 * the tree's recursive definition rather than by streaming.
 *
 * @module
 */
import { createBLAKE3 } from "hash-wasm";
import { parentCv, portableSubtreeCv } from "../../lib/codec/blake3_tree.ts";
import { GROUP_BYTES, GROUP_CHUNKS } from "../../lib/codec/chunk_tree.ts";

/** `n` pseudo-random bytes from `seed` (xorshift32). */
export { bytes as shardBytes } from "../storage/helpers.ts";

/** BLAKE3 of `bytes` by hash-wasm, hex: the independent root. */
export async function independentHex(bytes: Uint8Array): Promise<string> {
  const h = await createBLAKE3();
  h.init();
  for (let at = 0; at < bytes.length; at += 1 << 22) {
    h.update(bytes.subarray(at, at + (1 << 22)));
  }
  return h.digest("hex");
}

/** A copy of `bytes` with bit 0 of byte `at` flipped. */
export function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 1;
  return out;
}

/**
 * The outboard of `bytes` by the tree's recursive definition: the left
 * subtree takes the largest power of two of groups below the count, each
 * node's pair written after both children's (post-order).
 */
export function referenceOutboard(bytes: Uint8Array): Uint8Array {
  const groups = Math.max(1, Math.ceil(bytes.length / GROUP_BYTES));
  const pairs: Uint8Array[] = [];
  const walk = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) {
      const g = bytes.subarray(lo * GROUP_BYTES, hi * GROUP_BYTES);
      return portableSubtreeCv(g, lo * GROUP_CHUNKS, false);
    }
    let left = 1;
    while (left * 2 < hi - lo) left *= 2;
    const l = walk(lo, lo + left);
    const r = walk(lo + left, hi);
    const pair = new Uint8Array(64);
    pair.set(l);
    pair.set(r, 32);
    pairs.push(pair);
    return parentCv(l, r, false);
  };
  walk(0, groups);
  const out = new Uint8Array(pairs.length * 64);
  pairs.forEach((p, i) => out.set(p, i * 64));
  return out;
}
