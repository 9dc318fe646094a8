import assert from "node:assert/strict";
import { ChunkTree, GROUP_BYTES } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";

/**
 * The reference geometry: nodes numbered by a recursive post-order walk
 * of the left-full tree over `groups`, with each group's ancestors.
 */
function reference(groups: number) {
  const nodes = new Map<string, number>();
  const paths: { node: number; fromLeft: boolean }[][] = Array.from(
    { length: groups },
    () => [],
  );
  let next = 0;
  const walk = (lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    let left = 1;
    while (left * 2 < hi - lo) left *= 2;
    walk(lo, lo + left);
    walk(lo + left, hi);
    const id = next++;
    nodes.set(`${lo}:${hi}`, id);
    for (let g = lo; g < hi; g++) {
      paths[g].push({ node: id, fromLeft: g < lo + left });
    }
  };
  walk(0, groups);
  return { count: next, paths };
}

Deno.test("path positions equal a recursive post-order walk for 1..600 groups and edges", () => {
  const counts = [
    ...Array.from({ length: 600 }, (_, i) => i + 1),
    1023,
    1024,
    1025,
    2731,
    4097,
  ];
  for (const groups of counts) {
    const tree = new ChunkTree(groups * GROUP_BYTES);
    assert.equal(tree.groups, groups);
    const ref = reference(groups);
    assert.equal(tree.outboardBytes, ref.count * 64);
    for (let g = 0; g < groups; g++) {
      assert.deepEqual(tree.path(g), ref.paths[g], `group ${g} of ${groups}`);
    }
  }
});

Deno.test("nodes() lists every parent once with its children", () => {
  for (const groups of [1, 2, 3, 5, 8, 12, 13, 100, 257]) {
    const tree = new ChunkTree(groups * GROUP_BYTES - 1);
    const seen = new Set<number>();
    const leaves: number[] = [];
    const childNodes = new Set<number>();
    for (const { node, left, right } of tree.nodes()) {
      assert.ok(!seen.has(node));
      seen.add(node);
      for (const c of [left, right]) {
        if (c.group) leaves.push(c.index);
        else childNodes.add(c.index);
      }
    }
    assert.equal(seen.size, groups - 1);
    const all = groups === 1 ? [] : Array.from({ length: groups }, (_, i) => i);
    assert.deepEqual(leaves.sort((a, b) => a - b), all);
    // Every node but the root (the last in post-order) is someone's child.
    for (const n of seen) assert.equal(childNodes.has(n), n !== groups - 2);
  }
});

Deno.test("group counts and lengths at the edges", () => {
  const cases: [number, number, number][] = [
    [0, 1, 0],
    [1, 1, 1],
    [GROUP_BYTES, 1, GROUP_BYTES],
    [GROUP_BYTES + 1, 2, 1],
    [22369622, 2731, 22369622 - 2730 * GROUP_BYTES],
  ];
  for (const [size, groups, last] of cases) {
    const tree = new ChunkTree(size);
    assert.equal(tree.groups, groups, `size ${size}`);
    assert.equal(tree.groupLength(groups - 1), last, `size ${size}`);
    if (groups > 1) assert.equal(tree.groupLength(0), GROUP_BYTES);
  }
});

Deno.test("bad sizes and groups are INVALID_INPUT", () => {
  for (const size of [-1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new ChunkTree(size),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  }
  const tree = new ChunkTree(3 * GROUP_BYTES);
  for (const g of [-1, 3, 0.5]) {
    assert.throws(
      () => tree.path(g),
      (e) => isTesserasError(e, "INVALID_INPUT"),
    );
  }
});
