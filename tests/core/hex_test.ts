import assert from "node:assert/strict";
import { fromHex, isTesserasError, toHex } from "../../lib/core/mod.ts";

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
