import assert from "node:assert/strict";
import {
  equalsHex,
  fromHex,
  hexInto,
  isTesserasError,
  toHex,
} from "../../lib/core/mod.ts";

Deno.test("fromHex reads both cases back to the bytes toHex wrote; refuses odd lengths and non-hex", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = toHex(bytes);
  assert.deepEqual(fromHex(hex), bytes);
  assert.deepEqual(fromHex(hex.toUpperCase()), bytes);
  assert.deepEqual(fromHex(""), new Uint8Array(0));
  // Odd length; every ASCII character next to a digit range; non-ASCII
  // whose low bits look like a digit (U+0161 | 0x20 is no "a").
  for (
    const bad of [
      "abc",
      "0g",
      "/0",
      ":0",
      "@0",
      "`0",
      "G0",
      "0\u0161",
      "\u0130\u0130",
    ]
  ) {
    assert.throws(
      () => fromHex(bad),
      (e) => isTesserasError(e, "INVALID_INPUT"),
      bad,
    );
  }
});

Deno.test("equalsHex compares bytes with hex of either case without decoding; hexInto writes it in place", () => {
  const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
  const hex = toHex(bytes);
  assert.equal(equalsHex(bytes, hex), true);
  assert.equal(equalsHex(bytes, hex.toUpperCase()), true);
  const other = bytes.slice();
  other[31] ^= 1;
  assert.equal(equalsHex(other, hex), false);
  assert.equal(equalsHex(bytes, hex.slice(2)), false);
  assert.equal(equalsHex(bytes, hex.slice(0, 62) + "0g"), false);
  const out = new Uint8Array(32);
  assert.equal(hexInto(out, hex), 32);
  assert.deepEqual(out, bytes);
  assert.equal(hexInto(new Uint8Array(4), hex), 32, "counts what it spells");
  assert.equal(hexInto(out, "abc"), -1);
  assert.equal(hexInto(out, "zz"), -1);
});
