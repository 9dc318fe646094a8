/**
 * 10,000 generated frames per wire protocol through the server-side
 * parsers (the code every inbound byte goes through before a handler):
 * random bytes, and valid protobuf with absurd values. A parser either
 * returns a request that passes validation or throws a `TesserasError`
 * with an input code, never anything else.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { isTesserasError } from "../../lib/core/mod.ts";
import { netLimits } from "../../lib/net/mod.ts";
import { attestSpec } from "../../lib/net/protocol/attest.ts";
import { fetchSpec } from "../../lib/net/protocol/fetch.ts";
import { replicateSpec } from "../../lib/net/protocol/replicate.ts";
import { WireAttestRequest } from "../../lib/net/protocol/pb/attest.ts";
import { WireFetchRequest } from "../../lib/net/protocol/pb/fetch.ts";
import { WireFragmentEnvelope } from "../../lib/net/protocol/pb/replicate.ts";
import { Uint8ArrayList } from "uint8arraylist";

const RUNS = 10_000;
const INPUT_CODES = new Set(["INVALID_INPUT", "INVALID_ID", "TOO_LARGE"]);
const limits = netLimits();
const handlers = () => undefined;
const parsers = {
  replicate: replicateSpec({ handlers, limits: limits.replicate }).parse,
  attest: attestSpec({ handlers, limits: limits.attest }).parse,
  fetch: fetchSpec({ handlers, limits: limits.fetch }).parse,
};

/** Parse, returning the outcome's code ("ok" when accepted). */
function outcome(
  parse: (frame: Uint8ArrayList) => unknown,
  bytes: Uint8Array,
): string {
  try {
    parse(new Uint8ArrayList(bytes));
    return "ok";
  } catch (err) {
    assert.ok(isTesserasError(err), `parser threw a non-TesserasError: ${err}`);
    assert.ok(INPUT_CODES.has(err.code), `unexpected code ${err.code}`);
    return err.code;
  }
}

const absurdInt = fc.oneof(
  fc.integer({ min: -5, max: 80 }),
  fc.constantFrom(-1, 0, 1, 2 ** 31 - 1, -(2 ** 31)),
);
const absurdSize = fc.oneof(
  fc.integer({ min: -10, max: 5000 }),
  fc.constantFrom(0, 2 ** 30, 2 ** 30 + 1, 2 ** 52, -(2 ** 52)),
);
const idLike = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.constantFrom(
    "00".repeat(32),
    "../".repeat(21) + "a",
    "AB".repeat(32),
    "00".repeat(32) + "/",
    "",
  ),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) =>
    Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
  ),
);

Deno.test(`fuzz: ${RUNS} random byte frames per protocol`, () => {
  for (const [name, parse] of Object.entries(parsers)) {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const code = outcome(parse, bytes);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: 42 },
    );
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, RUNS, name);
    // Random bytes essentially never make a valid request.
    assert.ok((seen.get("ok") ?? 0) < RUNS / 100, `${name}: ${[...seen]}`);
  }
});

Deno.test(`fuzz: ${RUNS} structured envelopes with absurd values`, () => {
  let accepted = 0;
  const small = fc.uint8Array({ maxLength: 64 });
  fc.assert(
    fc.property(
      idLike,
      absurdInt,
      absurdInt,
      idLike,
      absurdSize,
      fc.constantFrom("small", "medium", "large", "", "__proto__", "huge"),
      absurdInt,
      absurdInt,
      absurdInt,
      absurdSize,
      absurdSize,
      absurdSize,
      small,
      (
        tesseraId,
        index,
        shardCount,
        checksum,
        size,
        tier,
        dataShards,
        parityShards,
        planShards,
        shardSize,
        originalSize,
        fragmentSize,
        data,
      ) => {
        const bytes = WireFragmentEnvelope.encode({
          fragment: { tesseraId, index, shardCount, checksum },
          plan: {
            size,
            tier,
            dataShards,
            parityShards,
            shardCount: planShards,
            shardSize,
          },
          originalSize,
          fragmentSize,
          data: data as Uint8Array<ArrayBuffer>,
        });
        if (outcome(parsers.replicate, bytes) === "ok") accepted++;
      },
    ),
    { numRuns: RUNS, seed: 7 },
  );
  // Only consistent envelopes pass; absurd generators rarely make one.
  assert.ok(accepted < RUNS / 10, `accepted ${accepted}`);
});

Deno.test(`fuzz: ${RUNS} structured attest and fetch requests`, () => {
  fc.assert(
    fc.property(
      idLike,
      fc.uint8Array({ maxLength: 40 }),
      fc.array(absurdInt, { maxLength: 80 }),
      (tesseraId, nonce, indices) => {
        const code = outcome(
          parsers.attest,
          WireAttestRequest.encode({
            tesseraId,
            nonce: nonce as Uint8Array<ArrayBuffer>,
            indices,
          }),
        );
        const valid = /^[0-9a-f]{64}$/.test(tesseraId) &&
          nonce.length === 32 && indices.length <= 72 &&
          indices.every((i) => i >= 0 && i < 72) &&
          new Set(indices).size === indices.length;
        assert.equal(code === "ok", valid);
      },
    ),
    { numRuns: RUNS, seed: 11 },
  );
  fc.assert(
    fc.property(idLike, absurdInt, (tesseraId, index) => {
      const code = outcome(
        parsers.fetch,
        WireFetchRequest.encode({ tesseraId, index }),
      );
      const valid = /^[0-9a-f]{64}$/.test(tesseraId) && index >= 0 &&
        index < 72;
      assert.equal(code === "ok", valid);
    }),
    { numRuns: RUNS, seed: 13 },
  );
});
