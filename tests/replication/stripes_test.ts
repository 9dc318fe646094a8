/**
 * Stripe-wise work on staged shard files (internal module): rebuilding
 * lost shards a column stripe at a time and streaming data out, with
 * stripe widths that do not divide the shard size.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { blake3Hex, encodeTessera } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { FsBlobStore } from "../../lib/storage/mod.ts";
import {
  rebuildStriped,
  type ShardReader,
  streamOut,
  stripePass,
} from "../../lib/replication/stripes.ts";
import { TEST_THRESHOLDS, testBytes } from "./test_network.ts";

Deno.test("rebuildStriped: lost data and parity shards rebuilt byte-exact over many odd stripes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-stripes-" });
  try {
    const blobs = new FsBlobStore({ root: join(dir, "blobs") });
    const data = testBytes(100_001, 21);
    const { plan, fragments } = encodeTessera(data, {
      thresholds: TEST_THRESHOLDS,
    });
    assert.equal(plan.tier, "large");
    const lost = [0, 5, 47, 48, 71];
    const staging = await blobs.openStaging();
    const into = await blobs.openStaging();
    try {
      const have: number[] = [];
      for (const f of fragments) {
        if (lost.includes(f.id.index)) continue;
        // Staged in two appends, as a fetch or an encoder would.
        await staging.append(f.id.index, f.data.subarray(0, 1000));
        await staging.append(f.id.index, f.data.subarray(1000));
        have.push(f.id.index);
      }
      const read: ShardReader = (i, r, o) => staging.read(i, r, o);
      const rebuilt = await rebuildStriped(read, into, {
        shape: plan,
        have,
        want: [...lost, 3], // 3 is held: not rebuilt
      }, { stripeBytes: 97 });
      assert.deepEqual([...rebuilt.keys()], lost);
      for (const i of lost) {
        assert.equal(rebuilt.get(i), fragments[i].id.checksum, `shard ${i}`);
        assert.deepEqual(
          await into.read(i, { offset: 0, length: plan.shardSize }),
          fragments[i].data,
        );
      }
      await assert.rejects(
        rebuildStriped(read, into, {
          shape: plan,
          have: have.slice(0, 47),
          want: [0],
        }),
        (e) => isTesserasError(e, "INSUFFICIENT_SHARDS"),
      );

      // Data shards out in file order, cut at the size, hashed on the way.
      const reader: ShardReader = (i, r, o) =>
        lost.includes(i) ? into.read(i, r, o) : staging.read(i, r, o);
      const chunks: Uint8Array[] = [];
      const hash = await streamOut(reader, {
        write: (b) => Promise.resolve(void chunks.push(b.slice())),
        reset: () => Promise.reject(new Error("no reset expected")),
      }, plan);
      assert.equal(hash, blake3Hex(data));
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
      assert.deepEqual(out, data);
    } finally {
      await staging.remove();
      await into.remove();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stripePass reads the next stripe while this one is handed on; a failure ahead or behind rejects the pass cleanly", async () => {
  const shape = { dataShards: 2, parityShards: 1, shardSize: 10 };
  const rows = [testBytes(10, 1), testBytes(10, 2)];
  const events: string[] = [];
  const read = (failAt?: number): ShardReader => (i, r) => {
    events.push(`read ${i}@${r.offset}`);
    if (r.offset === failAt) {
      return Promise.reject(new Error(`read failed at ${r.offset}`));
    }
    return Promise.resolve(rows[i].slice(r.offset, r.offset + r.length));
  };
  const got: Uint8Array[][] = [[], [], []];
  await stripePass(
    read(),
    (i, bytes) => {
      events.push(`sink ${i}@${got[i].length * 4}`);
      got[i].push(bytes);
    },
    { shape, have: [0, 1], emit: [0, 1, 2] },
    { stripeBytes: 4 },
  );
  // Stripe 4..8 is asked for before stripe 0..4 reaches the sink.
  assert.deepEqual(events.slice(0, 5), [
    "read 0@0",
    "read 1@0",
    "read 0@4",
    "read 1@4",
    "sink 0@0",
  ]);
  const joined = (parts: Uint8Array[]) =>
    new Uint8Array(parts.flatMap((b) => [...b]));
  for (const i of [0, 1]) assert.deepEqual(joined(got[i]), rows[i]);
  // The parity is right: shard 0 comes back from shard 1 and the parity.
  const parity = joined(got[2]);
  const back: Uint8Array[] = [];
  await stripePass(
    (i, r) =>
      Promise.resolve((i === 2 ? parity : rows[i]).slice(
        r.offset,
        r.offset + r.length,
      )),
    (_i, bytes) => {
      back.push(bytes);
    },
    { shape, have: [1, 2], emit: [0] },
    { stripeBytes: 3 },
  );
  assert.deepEqual(joined(back), rows[0]);

  // A read that fails two stripes on stops the pass after the first two.
  const sunk: number[] = [];
  await assert.rejects(
    stripePass(
      read(8),
      (i) => {
        sunk.push(i);
      },
      { shape, have: [0, 1], emit: [0, 1] },
      { stripeBytes: 4 },
    ),
    /read failed at 8/,
  );
  assert.deepEqual(sunk, [0, 1, 0, 1]);
  // A sink that fails while the next stripe's read fails too: the sink's
  // error, and the read ahead is not left to reject unheard (Deno's test
  // runner fails a test on an unhandled rejection).
  await assert.rejects(
    stripePass(
      read(4),
      () => {
        throw new Error("sink failed");
      },
      { shape, have: [0, 1], emit: [0] },
      { stripeBytes: 4 },
    ),
    /sink failed/,
  );
});
