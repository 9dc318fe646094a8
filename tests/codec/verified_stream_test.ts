import assert from "node:assert/strict";
import fc from "fast-check";
import {
  GROUP_BYTES,
  outboardOf,
  ProofError,
  type ProofFault,
  ShardVerifier,
  verifiedShardStream,
} from "../../lib/codec/mod.ts";
import { fromHex } from "../../lib/core/mod.ts";
import { concat } from "../net/frames.ts";
import { flipped, independentHex, shardBytes } from "./proof_fixtures.ts";

async function fixture(size: number) {
  const data = shardBytes(size, size + 5);
  const { outboard } = outboardOf(data);
  const checksum = fromHex(await independentHex(data));
  const stream = new Uint8Array([...outboard, ...data]);
  return { data, outboard, checksum, stream };
}

/** Feed `stream` in pieces cut at `cuts`; returns what was released. */
function feed(
  v: ShardVerifier,
  stream: Uint8Array,
  cuts: number[],
): Uint8Array {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    const end = Math.min(stream.length, at + c);
    out.push(v.push(stream.subarray(at, end)));
    at = end;
  }
  return concat(...out);
}

function isFault(fault: ProofFault) {
  return (e: unknown) =>
    e instanceof ProofError && e.fault === fault &&
    e.code === "CHECKSUM_MISMATCH";
}

Deno.test("edge sizes stream through verified, in pieces of any size", async () => {
  for (
    const size of [
      0,
      1,
      400,
      GROUP_BYTES,
      GROUP_BYTES + 1,
      13 * GROUP_BYTES - 1,
      70 * GROUP_BYTES + 3,
    ]
  ) {
    const { data, checksum, stream } = await fixture(size);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 20 }),
        (cuts) => {
          const v = new ShardVerifier({ size, checksum });
          assert.deepEqual(feed(v, stream, cuts), data);
          v.finish();
          assert.equal(v.verified, size);
          return Promise.resolve();
        },
      ),
      { numRuns: 15 },
    );
  }
});

Deno.test("a lying holder is caught at the first bad group; earlier groups pass", async () => {
  const size = 70 * GROUP_BYTES + 3;
  const { outboard, checksum, stream } = await fixture(size);
  for (const at of [0, 5000, GROUP_BYTES, 33 * GROUP_BYTES + 17, size - 1]) {
    const bad = flipped(stream, outboard.length + at);
    const v = new ShardVerifier({ size, checksum });
    let released = 0;
    // One group's worth per piece, as a fetch would arrive.
    const piece = GROUP_BYTES;
    assert.throws(() => {
      for (let i = 0; i < bad.length; i += piece) {
        released += v.push(bad.subarray(i, i + piece)).length;
      }
    }, isFault("mismatch"));
    const badGroup = Math.floor(at / GROUP_BYTES);
    assert.ok(released <= badGroup * GROUP_BYTES, `released ${released}`);
    // Caught within one group (plus the outboard) of the bad byte.
    assert.ok(v.verified >= (badGroup - 1) * GROUP_BYTES);
  }
});

Deno.test("a tampered or short outboard is refused before any shard byte", async () => {
  const size = 13 * GROUP_BYTES - 1;
  const { outboard, checksum, stream } = await fixture(size);
  for (let at = 0; at < outboard.length; at += 13) {
    const v = new ShardVerifier({ size, checksum });
    assert.throws(
      () => v.push(flipped(stream, at).subarray(0, outboard.length)),
      isFault("outboard"),
    );
  }
  const v = new ShardVerifier({ size, checksum });
  v.push(stream.subarray(0, outboard.length - 1));
  assert.throws(() => v.finish(), isFault("length"));
});

Deno.test("a short or long stream is refused", async () => {
  const size = 5 * GROUP_BYTES + 10;
  const { checksum, stream } = await fixture(size);
  const short = new ShardVerifier({ size, checksum });
  short.push(stream.subarray(0, stream.length - 1));
  assert.throws(() => short.finish(), isFault("length"));
  const long = new ShardVerifier({ size, checksum });
  assert.throws(
    () => long.push(new Uint8Array([...stream, 0])),
    isFault("length"),
  );
  const wrongChecksum = new ShardVerifier({
    size: 400,
    checksum: new Uint8Array(32),
  });
  assert.throws(
    () => wrongChecksum.push(new Uint8Array(400)),
    isFault("mismatch"),
  );
  assert.throws(
    () => new ShardVerifier({ size: 0, checksum: new Uint8Array(32) }),
    isFault("mismatch"),
  );
});

Deno.test("verifiedShardStream passes verified bytes and errors on a lie", async () => {
  const size = 40 * GROUP_BYTES + 77;
  const { data, outboard, checksum } = await fixture(size);
  const pieces = (d: Uint8Array) =>
    ReadableStream.from([
      outboard,
      d.subarray(0, 100_000),
      d.subarray(100_000),
    ]);
  const got = await new Response(
    pieces(data).pipeThrough(verifiedShardStream({ size, checksum })),
  ).bytes();
  assert.deepEqual(got, data);
  await assert.rejects(
    new Response(
      pieces(flipped(data, 200_000)).pipeThrough(
        verifiedShardStream({ size, checksum }),
      ),
    ).bytes(),
    isFault("mismatch"),
  );
  await assert.rejects(
    new Response(
      ReadableStream.from([outboard, data.subarray(0, 10)]).pipeThrough(
        verifiedShardStream({ size, checksum }),
      ),
    )
      .bytes(),
    isFault("length"),
  );
});
