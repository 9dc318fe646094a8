import assert from "node:assert/strict";
import {
  blake3,
  blake3Hex,
  blake3Keyed,
  createBlake3,
} from "../../lib/codec/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";
import { VECTOR_KEY, vectorInput, VECTORS } from "./blake3_vectors.ts";

Deno.test("blake3 matches the official vectors", () => {
  for (const [n, hash] of VECTORS) {
    const input = vectorInput(n);
    assert.equal(toHex(blake3(input)), hash, `length ${n}`);
    assert.equal(blake3Hex(input), hash, `length ${n}`);
  }
});

Deno.test("blake3Keyed matches the official keyed vectors", () => {
  for (const [n, , keyed] of VECTORS) {
    assert.equal(
      toHex(blake3Keyed(VECTOR_KEY, vectorInput(n))),
      keyed,
      `length ${n}`,
    );
  }
});

Deno.test("createBlake3 fed in uneven pieces matches the vectors", () => {
  const pieces = [1, 63, 64, 65, 1000, 1024, 7];
  for (const [n, hash, keyed] of VECTORS) {
    const input = vectorInput(n);
    const plain = createBlake3();
    const mac = createBlake3({ key: VECTOR_KEY });
    for (let off = 0, p = 0; off < n; p++) {
      const end = Math.min(n, off + pieces[p % pieces.length]);
      plain.update(input.subarray(off, end));
      mac.update(input.subarray(off, end));
      off = end;
    }
    assert.equal(toHex(plain.digest()), hash, `length ${n}`);
    assert.equal(toHex(mac.digest()), keyed, `keyed length ${n}`);
  }
});

Deno.test("interleaved incremental hashers do not disturb each other", () => {
  const a = createBlake3();
  const b = createBlake3();
  const input = vectorInput(5121);
  a.update(input.subarray(0, 3000));
  b.update(input.subarray(0, 10));
  assert.equal(blake3Hex(new Uint8Array(0)), VECTORS[0][1]);
  a.update(input.subarray(3000));
  b.update(input.subarray(10, 1025));
  assert.equal(toHex(a.digest()), VECTORS.find((v) => v[0] === 5121)![1]);
  assert.equal(toHex(b.digest()), VECTORS.find((v) => v[0] === 1025)![1]);
});

Deno.test("subarray views hash their own bytes only", () => {
  const big = vectorInput(4000);
  const view = big.subarray(3, 3 + 1025);
  assert.equal(blake3Hex(view), blake3Hex(view.slice()));
  assert.notEqual(blake3Hex(view), blake3Hex(big.subarray(0, 1025)));
});

Deno.test("keys must be 32 bytes", () => {
  assert.throws(
    () => blake3Keyed(new Uint8Array(31), new Uint8Array(1)),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  assert.throws(
    () => createBlake3({ key: new Uint8Array(33) }),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("a finalized hasher refuses more input", () => {
  const h = createBlake3();
  h.digest();
  assert.throws(
    () => h.update(new Uint8Array(1)),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("one-shot blake3 and blake3Keyed agree with the incremental hasher, interleaved", () => {
  const key = new Uint8Array(32).map((_, i) => i * 7);
  for (
    const n of [
      0,
      1,
      63,
      64,
      65,
      1023,
      1024,
      1025,
      2048,
      5000,
      31749,
      65536,
      65537,
    ]
  ) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    const plain = blake3(data);
    const keyed = blake3Keyed(key, data);
    // A long input between them must not disturb shared scratch.
    blake3(new Uint8Array(3000).fill(n & 0xff));
    assert.deepEqual(
      toHex(plain),
      toHex(
        createBlake3().update(data.subarray(0, n >> 1)).update(
          data.subarray(n >> 1),
        ).digest(),
      ),
      `plain ${n}`,
    );
    assert.deepEqual(
      toHex(keyed),
      toHex(createBlake3({ key }).update(data).digest()),
      `keyed ${n}`,
    );
    assert.notEqual(toHex(plain), toHex(keyed));
  }
});
