import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GROUP_BYTES,
  outboardOf,
  ProofError,
  ShardVerifier,
} from "../../lib/codec/mod.ts";
import { fromHex, isTesserasError, toHex } from "../../lib/core/mod.ts";
import {
  encodeFetchPiece,
  encodeVerifiedFetchHeader,
  MAX_FETCH_PIECE,
  parseFetchPiece,
  parseVerifiedFetchHeader,
  verifiedFetchSpec,
} from "../../lib/net/protocol/verified_fetch.ts";
import { netLimits } from "../../lib/net/protocol/limits.ts";
import type { InboundHandlers } from "../../lib/core/mod.ts";
import { bytes } from "../storage/helpers.ts";

/** The holder's frames for `data`: a header, then pieces. */
function frames(data: Uint8Array, lie?: number): Uint8Array[] {
  const { root, outboard } = outboardOf(data);
  const sent = data.slice();
  if (lie !== undefined) sent[lie] ^= 1;
  const out = [
    encodeVerifiedFetchHeader({
      size: data.length,
      checksum: toHex(root),
      outboard,
    }),
  ];
  for (let at = 0; at < sent.length; at += MAX_FETCH_PIECE) {
    out.push(encodeFetchPiece(sent.subarray(at, at + MAX_FETCH_PIECE)));
  }
  return out;
}

/** The fetcher: checks against the checksum it has on record. */
function fetch(
  fs: Uint8Array[],
  checksum: Uint8Array,
): { data: Uint8Array[]; pieces: number } {
  const header = parseVerifiedFetchHeader(fs[0], "holder");
  const v = new ShardVerifier({ size: header.size, checksum });
  v.push(header.outboard);
  const data: Uint8Array[] = [];
  let pieces = 0;
  for (const f of fs.slice(1)) {
    pieces++;
    data.push(v.push(parseFetchPiece(f, "holder")));
  }
  v.finish();
  return { data, pieces };
}

Deno.test("a verified fetch passes an honest holder's bytes through", () => {
  for (const size of [0, 400, GROUP_BYTES + 1, 300 * GROUP_BYTES + 5]) {
    const data = bytes(size, size + 1);
    const checksum = outboardOf(data).root;
    const got = fetch(frames(data), checksum).data;
    const joined = new Uint8Array(got.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of got) {
      joined.set(p, at);
      at += p.length;
    }
    assert.deepEqual(joined, data);
  }
});

Deno.test("a lying holder is caught in the piece that carries the lie", () => {
  const data = bytes(300 * GROUP_BYTES + 5, 3);
  const checksum = outboardOf(data).root;
  for (const lie of [10, 5 * MAX_FETCH_PIECE + 100, data.length - 1]) {
    const fs = frames(data, lie);
    const header = parseVerifiedFetchHeader(fs[0], "holder");
    const v = new ShardVerifier({ size: header.size, checksum });
    v.push(header.outboard);
    let piece = 0;
    assert.throws(() => {
      for (; piece + 1 < fs.length; piece++) {
        v.push(parseFetchPiece(fs[piece + 1], "holder"));
      }
    }, (e) => e instanceof ProofError && e.fault === "mismatch");
    // Caught in the piece with the lie, or the next one when the lie's
    // group straddles two pieces.
    const liePiece = Math.floor(lie / MAX_FETCH_PIECE);
    assert.ok(
      piece === liePiece || piece === liePiece + 1,
      `piece ${piece} for lie in ${liePiece}`,
    );
  }
  // A header claiming another shard's checksum does not fool the fetcher,
  // which checks against its own record.
  const other = bytes(300 * GROUP_BYTES + 5, 4);
  assert.throws(
    () => fetch(frames(other), checksum),
    (e) => e instanceof ProofError,
  );
});

Deno.test("malformed or inconsistent headers and pieces are PROTOCOL_ERROR; not found keeps its code", () => {
  const data = bytes(20 * GROUP_BYTES, 1);
  const { root, outboard } = outboardOf(data);
  const checksum = toHex(root);
  const bad = [
    encodeVerifiedFetchHeader({
      size: data.length,
      checksum,
      outboard: outboard.subarray(64),
    }),
    encodeVerifiedFetchHeader({
      size: data.length + GROUP_BYTES,
      checksum,
      outboard,
    }),
    encodeVerifiedFetchHeader({ size: 2 ** 40, checksum, outboard }),
    encodeVerifiedFetchHeader({ size: -1, checksum, outboard }),
    encodeVerifiedFetchHeader({ size: data.length, checksum: "xyz", outboard }),
    new Uint8Array([0xff, 0xff]),
  ];
  for (const f of bad) {
    assert.throws(
      () => parseVerifiedFetchHeader(f, "p"),
      (e) => isTesserasError(e, "PROTOCOL_ERROR"),
    );
  }
  assert.throws(
    () =>
      parseVerifiedFetchHeader(
        encodeVerifiedFetchHeader({
          error: { code: "NOT_FOUND", message: "no" },
        }),
        "p",
      ),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
  assert.throws(
    () => encodeFetchPiece(new Uint8Array(MAX_FETCH_PIECE + 1)),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
  assert.throws(
    () => parseFetchPiece(new Uint8Array(MAX_FETCH_PIECE + 100), "p"),
    (e) => isTesserasError(e, "PROTOCOL_ERROR"),
  );
  assert.deepEqual(fromHex(checksum), root);
});

Deno.test("fuzz: 10000 random header and piece frames never throw anything but a TesserasError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (frame) => {
      for (const parse of [parseVerifiedFetchHeader, parseFetchPiece]) {
        try {
          parse(frame, "p");
        } catch (err) {
          assert.ok(isTesserasError(err), `non-TesserasError: ${err}`);
        }
      }
    }),
    { numRuns: 10_000, seed: 5 },
  );
});

Deno.test("the server sends the outboard stored with the shard, not one rebuilt from the bytes it serves", async () => {
  const data = bytes(40 * GROUP_BYTES + 7, 21);
  const { root, outboard } = outboardOf(data);
  // Bytes that rotted on disk after the outboard was stored with them.
  const rotten = data.slice();
  rotten[9 * GROUP_BYTES + 5] ^= 1;
  const ref = { tesseraId: "ab".repeat(32), index: 0 };
  const from = { id: "fetcher", addresses: [] };
  const serve = async (handlers: Partial<InboundHandlers>) => {
    const spec = verifiedFetchSpec({
      handlers: () => handlers as InboundHandlers,
      limits: netLimits().fetch,
    });
    const out = await spec.handle(ref, from, new AbortController().signal);
    return out as readonly Uint8Array[];
  };
  let fetches = 0;
  const stored = await serve({
    onFetch: () => {
      fetches++;
      return Promise.resolve(rotten);
    },
    onVerifiedFetch: () =>
      Promise.resolve({ data: rotten, outboard, checksum: toHex(root) }),
  });
  assert.equal(fetches, 0, "the bytes alone are not asked for");
  const header = parseVerifiedFetchHeader(stored[0], "holder");
  assert.deepEqual(header.outboard, outboard);
  assert.equal(header.checksum, toHex(root));
  // The fetcher takes the stored outboard and refuses the bad group.
  const v = new ShardVerifier({ size: header.size, checksum: root });
  v.push(header.outboard);
  assert.throws(() => {
    for (const f of stored.slice(1)) v.push(parseFetchPiece(f, "holder"));
  }, (e) => e instanceof ProofError && e.fault === "mismatch");
  // Handlers without onVerifiedFetch: built from the bytes, as before.
  const built = await serve({ onFetch: () => Promise.resolve(rotten) });
  assert.deepEqual(
    parseVerifiedFetchHeader(built[0], "holder").outboard,
    outboardOf(rotten).outboard,
  );
  await assert.rejects(
    serve({
      onFetch: () => Promise.resolve(null),
      onVerifiedFetch: () => Promise.resolve(null),
    }),
    (e) => isTesserasError(e, "NOT_FOUND"),
  );
});
