import assert from "node:assert/strict";
import {
  formatCapability,
  looksLikeCapability,
  parseCapability,
} from "../../lib/crypto/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";

const ID = "0123456789abcdef".repeat(4);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

Deno.test("a capability round-trips id and key through one tsr1 token", () => {
  const token = formatCapability({ id: ID, key: KEY });
  assert.match(token, /^tsr1[02-9ac-hj-np-z]{110}$/);
  const back = parseCapability(token);
  assert.equal(back.id, ID);
  assert.equal(toHex(back.key), toHex(KEY));
  // Upper case and surrounding whitespace, as copied from a mail.
  assert.equal(parseCapability(`  ${token.toUpperCase()}\n`).id, ID);
  assert.ok(looksLikeCapability(token));
  assert.equal(looksLikeCapability(ID), false);
});

Deno.test("every one-character typo and every cut is refused", () => {
  const token = formatCapability({ id: ID, key: KEY });
  const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  for (let i = 4; i < token.length; i++) {
    const c = token[i];
    const other = alphabet[(alphabet.indexOf(c) + 1) % 32];
    const typo = token.slice(0, i) + other + token.slice(i + 1);
    assert.throws(
      () => parseCapability(typo),
      (err) => isTesserasError(err, "INVALID_INPUT"),
      `position ${i}`,
    );
  }
  for (const cut of [token.slice(0, -1), token.slice(0, 60), token.slice(1)]) {
    assert.throws(
      () => parseCapability(cut),
      (err) => isTesserasError(err, "INVALID_INPUT"),
    );
  }
  // Two swapped neighbours.
  const swapped = token.slice(0, 20) + token[21] + token[20] + token.slice(22);
  if (swapped !== token) assert.throws(() => parseCapability(swapped));
});

Deno.test("a bech32m token of another prefix or shape is refused", () => {
  const token = formatCapability({ id: ID, key: KEY });
  assert.throws(
    () => parseCapability(`x${token}`),
    /not a valid read capability|starts with tsr1/,
  );
  assert.throws(() => parseCapability(ID), /not a valid read capability/);
  assert.throws(
    () => formatCapability({ id: "zz", key: KEY }),
    (err) => isTesserasError(err, "INVALID_ID"),
  );
  assert.throws(
    () => formatCapability({ id: ID, key: KEY.subarray(1) }),
    /32 bytes/,
  );
});
