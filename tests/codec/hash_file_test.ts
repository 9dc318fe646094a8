import assert from "node:assert/strict";
import { blake3Hex, copyFileHashed, hashFile } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { bytes as random, withTempDir } from "../storage/helpers.ts";

Deno.test("hashFile and copyFileHashed equal BLAKE3 of the bytes across their 4 MiB pieces", async () => {
  await withTempDir(async (dir) => {
    for (const n of [0, 1, 4 << 20, (4 << 20) + 1, (4 << 20) + 3, 9_000_001]) {
      const data = random(n, n + 1);
      const source = `${dir}/in-${n}.bin`;
      const dest = `${dir}/out-${n}.bin`;
      await Deno.writeFile(source, data);
      const expected = { hash: blake3Hex(data), size: n };
      assert.deepEqual(await hashFile(source), expected);
      // A longer file at dest is truncated, not overwritten in place.
      await Deno.writeFile(dest, random(n + 10, 1));
      assert.deepEqual(await copyFileHashed(source, dest), expected);
      assert.deepEqual(await hashFile(dest), expected);
      assert.deepEqual(await Deno.readFile(dest), data);
    }
  });
});

Deno.test("hashFile stops on an aborted signal and names a missing file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.bin`;
    await Deno.writeFile(path, random(1000, 3));
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(hashFile(path, { signal: ac.signal }), /stop/);
    await assert.rejects(hashFile(`${dir}/missing.bin`), Deno.errors.NotFound);
  });
});

Deno.test("copyFileHashed: TOO_LARGE past maxBytes, an aborted signal, a missing source", async () => {
  await withTempDir(async (dir) => {
    const source = `${dir}/in.bin`;
    await Deno.writeFile(source, random(9_000_000, 5));
    await assert.rejects(
      copyFileHashed(source, `${dir}/a.bin`, { maxBytes: 5_000_000 }),
      (e) => isTesserasError(e, "TOO_LARGE"),
    );
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(
      copyFileHashed(source, `${dir}/b.bin`, { signal: ac.signal }),
      /stop/,
    );
    await assert.rejects(
      copyFileHashed(`${dir}/missing.bin`, `${dir}/c.bin`),
      Deno.errors.NotFound,
    );
  });
});
