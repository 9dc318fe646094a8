/**
 * The prove protocol's parsers under generated frames, like the other
 * protocols' in fuzz_test.ts: random bytes and valid protobuf with absurd
 * values through the server's request parser and the client's response
 * parser and answer check. Each either accepts, or throws a
 * `TesserasError` with an expected code, never anything else.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Uint8ArrayList } from "uint8arraylist";
import { isTesserasError } from "../../lib/core/mod.ts";
import {
  checkProofAnswer,
  parseProveRequest,
  parseProveResponse,
} from "../../lib/net/protocol/prove.ts";
import {
  WireProveRequest,
  WireProveResponse,
} from "../../lib/net/protocol/pb/prove.ts";

const RUNS = 10_000;
const INPUT_CODES = new Set(["INVALID_INPUT", "INVALID_ID", "TOO_LARGE"]);

function requestOutcome(bytes: Uint8Array): string {
  try {
    parseProveRequest(new Uint8ArrayList(bytes));
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
  fc.integer({ min: -10, max: 300_000 }),
  fc.constantFrom(0, 2 ** 30, 2 ** 52, -(2 ** 52)),
);
const idLike = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.constantFrom("ab".repeat(32), "../".repeat(21) + "a", "AB".repeat(32), ""),
);

Deno.test(`prove fuzz: ${RUNS} random request frames`, () => {
  let ok = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      if (requestOutcome(bytes) === "ok") ok++;
    }),
    { numRuns: RUNS, seed: 42 },
  );
  assert.ok(ok < RUNS / 100, `${ok} random frames accepted`);
});

Deno.test(`prove fuzz: ${RUNS} structured requests with absurd values`, () => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(
      idLike,
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
      ),
      fc.oneof(
        fc.array(absurdInt, { maxLength: 80 }),
        fc.uniqueArray(fc.nat({ max: 71 }), { maxLength: 5 }),
      ),
      (tesseraId, nonce, indices) => {
        const frame = WireProveRequest.encode({
          tesseraId,
          nonce: new Uint8Array(nonce),
          indices,
        });
        const code = requestOutcome(frame);
        seen.set(code, (seen.get(code) ?? 0) + 1);
        if (code === "ok") {
          assert.equal(tesseraId, "ab".repeat(32));
          assert.equal(nonce.length, 32);
        }
      },
    ),
    { numRuns: RUNS, seed: 7 },
  );
  assert.ok((seen.get("ok") ?? 0) > 0, `${[...seen]}`);
});

Deno.test(`prove fuzz: ${RUNS} random response frames`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        parseProveResponse(bytes, "peer");
      } catch (err) {
        assert.ok(isTesserasError(err), `threw a non-TesserasError: ${err}`);
      }
    }),
    { numRuns: RUNS, seed: 42 },
  );
});

Deno.test("prove fuzz: structured answers with absurd values are judged, never crash", async () => {
  const group = fc.record({
    group: fc.oneof(fc.nat({ max: 100 }), fc.constant(2 ** 32 - 1)),
    data: fc.uint8Array({ maxLength: 9000 }),
    siblings: fc.uint8Array({ maxLength: 400 }),
  });
  const shard = fc.record({
    index: absurdInt,
    checksum: idLike,
    size: absurdSize,
    groups: fc.array(group, { maxLength: 22 }),
  });
  const request = { tesseraId: "ab".repeat(32), nonce: new Uint8Array(32) };
  const known = new Map([[0, { checksum: "cd".repeat(32), size: 100_000 }]]);
  await fc.assert(
    fc.asyncProperty(
      fc.array(shard, { maxLength: 4 }),
      fc.oneof(absurdSize, fc.constant(1_700_000_000_000)),
      fc.uint8Array({ maxLength: 70 }),
      async (shards, timestamp, signature) => {
        const frame = WireProveResponse.encode({
          answer: {
            tesseraId: request.tesseraId,
            holder: "12D3KooWBogus",
            nonce: request.nonce,
            shards,
            timestamp,
            signature: new Uint8Array(signature),
          },
          errorCode: "",
          errorMessage: "",
        });
        try {
          const answer = parseProveResponse(frame, "12D3KooWBogus");
          await checkProofAnswer(answer, {
            request,
            peer: "12D3KooWBogus",
            known,
          });
          assert.fail("a bogus signature was accepted");
        } catch (err) {
          assert.ok(isTesserasError(err), `threw a non-TesserasError: ${err}`);
          assert.ok(
            ["PROTOCOL_ERROR", "ATTESTATION_FAILED"].includes(err.code),
            `unexpected code ${err.code}: ${err.message}`,
          );
        }
      },
    ),
    { numRuns: 500, seed: 3 },
  );
});
