import assert from "node:assert/strict";
import {
  blake3Hex,
  createFileSink,
  decodeTessera,
  encodeTessera,
  encodeTesseraFile,
  hashFile,
  type ShardSink,
} from "../../lib/codec/mod.ts";
import { HashWorker } from "../../lib/codec/encode_worker.ts";
import { isTesserasError } from "../../lib/core/mod.ts";

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A sink that keeps copies, checking per-shard order is respected. */
function memorySink(): ShardSink & { shards: Uint8Array[] } {
  const parts: Uint8Array[][] = [];
  const busy = new Set<number>();
  const sink = {
    shards: [] as Uint8Array[],
    async write(index: number, bytes: Uint8Array) {
      assert.equal(busy.has(index), false, `overlapping writes to ${index}`);
      busy.add(index);
      const copy = bytes.slice();
      await new Promise((r) => setTimeout(r, 0));
      (parts[index] ??= []).push(copy);
      const all = parts[index];
      const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of all) {
        out.set(p, o);
        o += p.length;
      }
      sink.shards[index] = out;
      busy.delete(index);
    },
  };
  return sink;
}

async function withFile(
  data: Uint8Array,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_codec_" });
  try {
    const path = `${dir}/input.bin`;
    await Deno.writeFile(path, data);
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("streaming file encode equals encodeTessera (all tiers, odd stripes)", async () => {
  const thresholds = { mediumFrom: 10_000, largeFrom: 200_000 };
  for (
    const [size, stripeBytes] of [
      [0, 4096],
      [9_999, 4096],
      [10_000, 64],
      [123_457, 1000],
      [200_000, 4096],
      [777_777, 5000],
    ]
  ) {
    const data = random(size, size + 1);
    const want = encodeTessera(data, { thresholds });
    await withFile(data, async (path) => {
      const sink = memorySink();
      const got = await encodeTesseraFile(path, sink, {
        thresholds,
        stripeBytes,
      });
      assert.equal(got.id, want.id, `size ${size}`);
      assert.deepEqual(got.plan, want.plan);
      assert.deepEqual(got.checksums, want.fragments.map((f) => f.id.checksum));
      assert.deepEqual(
        sink.shards.map((s) => s ?? new Uint8Array(0)),
        want.fragments.map((f) => f.data),
        `size ${size}`,
      );
    });
  }
});

Deno.test("streaming encode of 40 MiB: id from the worker, shard files on disk", async () => {
  const data = random(40 << 20, 9);
  await withFile(data, async (path, dir) => {
    const sink = createFileSink((i) =>
      `${dir}/${String(i).padStart(3, "0")}.shard`
    );
    let result;
    try {
      result = await encodeTesseraFile(path, sink);
    } finally {
      await sink.close({ sync: false });
    }
    assert.equal(result.id, blake3Hex(data));
    assert.equal(result.plan.tier, "medium");
    const shards: (Uint8Array | null)[] = [];
    for (let i = 0; i < result.plan.shardCount; i++) {
      const bytes = await Deno.readFile(sink.paths[i]);
      assert.equal(blake3Hex(bytes), result.checksums[i]);
      shards.push(i % 3 === 1 ? null : bytes);
    }
    assert.deepEqual(decodeTessera(result.plan, shards), data);
    assert.deepEqual(await hashFile(path), {
      hash: result.id,
      size: data.length,
    });
  });
});

Deno.test("a failing sink rejects the encode; an aborted one stops", async () => {
  const thresholds = { mediumFrom: 1000, largeFrom: 1_000_000 };
  await withFile(random(100_000, 4), async (path) => {
    await assert.rejects(
      encodeTesseraFile(path, {
        write(index) {
          if (index === 20) throw new Error("disk full");
        },
      }, { thresholds, stripeBytes: 512 }),
      /disk full/,
    );
    const controller = new AbortController();
    let calls = 0;
    await assert.rejects(
      encodeTesseraFile(path, {
        write() {
          if (++calls === 30) controller.abort(new Error("stop"));
        },
      }, { thresholds, stripeBytes: 512, signal: controller.signal }),
      /stop/,
    );
  });
});

Deno.test("files above 1 GiB are TOO_LARGE before any read", async () => {
  await withFile(new Uint8Array(0), async (path) => {
    await Deno.truncate(path, 1_073_741_825);
    await assert.rejects(
      encodeTesseraFile(path, { write() {} }),
      (e) => isTesserasError(e, "TOO_LARGE"),
    );
  });
});

Deno.test("the hashing worker starts and hashes a file", async () => {
  const data = random(3_000_000, 8);
  await withFile(data, async (path) => {
    const worker = await HashWorker.start();
    assert.ok(worker, "worker did not start");
    try {
      assert.deepEqual(await worker.hashFile(path), {
        hash: blake3Hex(data),
        size: data.length,
      });
    } finally {
      worker.stop();
    }
  });
});
