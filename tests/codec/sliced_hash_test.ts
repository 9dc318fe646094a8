/**
 * SlicedHash: the whole stream's BLAKE3 and each zero-padded slice's, fed
 * in pieces that straddle slice boundaries.
 */
import assert from "node:assert/strict";
import { blake3Hex, SlicedHash } from "../../lib/codec/mod.ts";
import { bytes as random } from "../storage/helpers.ts";

/** Slice `i` of `data`, zero-padded to `size`. */
function padded(data: Uint8Array, i: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(data.subarray(i * size, (i + 1) * size));
  return out;
}

Deno.test("SlicedHash: whole and padded slices, fed in straddling pieces", () => {
  // 1,000 bytes in slices of 300: three full, one of 100 (padded), a
  // fifth wholly padding; and 150,001 bytes past a slice count of 2.
  for (
    const [n, size, count] of [
      [1000, 300, 5],
      [150_001, 70_000, 2],
      [0, 10, 2],
      [64, 64, 1],
    ]
  ) {
    const data = random(n, n + size);
    for (const piece of [1, 7, 299, 1 << 16, n + 1]) {
      const h = new SlicedHash({ size, count });
      for (let at = 0; at < n; at += piece) {
        h.update(data.subarray(at, at + piece));
      }
      const { hash, slices } = h.digest();
      assert.equal(hash, blake3Hex(data), `whole ${n}/${piece}`);
      assert.deepEqual(
        slices,
        Array.from(
          { length: count },
          (_, i) => blake3Hex(padded(data, i, size)),
        ),
        `slices of ${n} by ${size}, pieces of ${piece}`,
      );
    }
  }
});

Deno.test("SlicedHash without slices is the plain hash; a slice size of 0 is refused", () => {
  const data = random(5000, 9);
  const h = new SlicedHash();
  h.update(data.subarray(0, 1234));
  h.update(data.subarray(1234));
  assert.deepEqual(h.digest(), { hash: blake3Hex(data) });
  assert.throws(() => new SlicedHash({ size: 0, count: 2 }), RangeError);
});
