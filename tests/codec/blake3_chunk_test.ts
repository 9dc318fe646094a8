import assert from "node:assert/strict";
import { blake3Chunk, blake3ChunkHex } from "../../lib/codec/blake3_chunk.ts";
import { PortableBlake3 } from "../../lib/codec/blake3_portable.ts";
import { blake3Hex, blake3Keyed, blake3KeyedHex } from "../../lib/codec/mod.ts";
import { toHex } from "../../lib/core/mod.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

Deno.test("blake3Chunk matches the portable reference at every length of one chunk", () => {
  for (let n = 0; n <= 1024; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 251 + n) & 0xff);
    const plain = toHex(new PortableBlake3().update(data).digest());
    const keyed = toHex(new PortableBlake3(key).update(data).digest());
    assert.equal(toHex(blake3Chunk(undefined, data)), plain, `plain ${n}`);
    assert.equal(blake3ChunkHex(undefined, data), plain, `plain hex ${n}`);
    assert.equal(toHex(blake3Chunk(key, data)), keyed, `keyed ${n}`);
    assert.equal(blake3ChunkHex(key, data), keyed, `keyed hex ${n}`);
  }
});

Deno.test("blake3 public functions agree across the one-chunk boundary", () => {
  for (const n of [1023, 1024, 1025, 2048, 5000]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    assert.equal(
      blake3KeyedHex(key, data),
      toHex(new PortableBlake3(key).update(data).digest()),
    );
    assert.equal(blake3KeyedHex(key, data), toHex(blake3Keyed(key, data)));
    assert.equal(
      blake3Hex(data),
      toHex(new PortableBlake3().update(data).digest()),
    );
  }
  // The published vector of the empty input.
  assert.equal(
    blake3Hex(new Uint8Array(0)),
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  );
});

Deno.test("blake3Chunk refuses more than one chunk", () => {
  assert.throws(() => blake3Chunk(undefined, new Uint8Array(1025)), RangeError);
});

Deno.test("digests from blake3Chunk do not alias each other", () => {
  const a = blake3Chunk(undefined, new Uint8Array([1]));
  const copy = a.slice();
  blake3Chunk(undefined, new Uint8Array([2]));
  assert.deepEqual(a, copy);
});

Deno.test("blake3Chunk reads views at any offset, in large and shared buffers", () => {
  // Every length up to a block and a bit, then a spread up to the chunk.
  const lengths = Array.from({ length: 80 }, (_, n) => n);
  for (let n = 80; n < 1024; n += 61) lengths.push(n);
  lengths.push(1023, 1024);
  const backings = [
    new ArrayBuffer(1040),
    new ArrayBuffer((1 << 20) + 2048), // past the cached view's size cap
    new SharedArrayBuffer(1040),
  ];
  for (const backing of backings) {
    const base = backing.byteLength - 1040;
    const all = new Uint8Array(backing);
    for (let i = 0; i < all.length; i++) all[i] = (i * 131 + 7) & 0xff;
    for (let offset = 0; offset < 8; offset++) {
      for (const n of lengths) {
        const view = new Uint8Array(backing, base + offset, n);
        const want = toHex(
          new PortableBlake3(key).update(view.slice()).digest(),
        );
        assert.equal(
          blake3ChunkHex(key, view),
          want,
          `${backing.constructor.name} ${backing.byteLength} B, offset ${offset}, ${n} B`,
        );
      }
    }
  }
});
