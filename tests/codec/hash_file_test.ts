import assert from "node:assert/strict";
import { blake3Hex, copyFileHashed, hashFile } from "../../lib/codec/mod.ts";
import { isTesserasError } from "../../lib/core/mod.ts";
import { bytes as random } from "../storage/helpers.ts";

Deno.test("hashFile equals BLAKE3 of the bytes across its 4 MiB pieces", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_hash_file_" });
  try {
    for (const n of [0, 1, 4 << 20, (4 << 20) + 1, 9_000_001]) {
      const data = random(n, n + 1);
      const path = `${dir}/in-${n}.bin`;
      await Deno.writeFile(path, data);
      assert.deepEqual(await hashFile(path), {
        hash: blake3Hex(data),
        size: n,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashFile stops on an aborted signal and names a missing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_hash_file_" });
  try {
    const path = `${dir}/in.bin`;
    await Deno.writeFile(path, random(1000, 3));
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await assert.rejects(hashFile(path, { signal: ac.signal }), /stop/);
    await assert.rejects(hashFile(`${dir}/missing.bin`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyFileHashed copies and hashes the bytes across its pieces, the hash equals hashFile's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_copy_hashed_" });
  try {
    for (const n of [0, 1, 4 << 20, (4 << 20) + 3, 9_000_001]) {
      const data = random(n, n + 7);
      const source = `${dir}/in-${n}.bin`;
      const dest = `${dir}/out-${n}.bin`;
      await Deno.writeFile(source, data);
      // A longer file at dest is truncated, not overwritten in place.
      await Deno.writeFile(dest, random(n + 10, 1));
      const copied = await copyFileHashed(source, dest);
      assert.deepEqual(copied, { hash: blake3Hex(data), size: n });
      assert.deepEqual(copied, await hashFile(dest));
      assert.deepEqual(await Deno.readFile(dest), data);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyFileHashed: TOO_LARGE past maxBytes, an aborted signal, a missing source", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_copy_hashed_" });
  try {
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
