import assert from "node:assert/strict";
import { blake3Hex, hashFile } from "../../lib/codec/mod.ts";
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
