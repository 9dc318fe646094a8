import assert from "node:assert/strict";
import { freeDiskBytes } from "../../lib/storage/mod.ts";
import { withTempDir } from "./helpers.ts";

Deno.test("freeDiskBytes reports the space of the path's file system, asking the nearest existing ancestor", async () => {
  await withTempDir(async (dir) => {
    const free = await freeDiskBytes(dir);
    assert.ok(Number.isSafeInteger(free) && free > 0, String(free));
    const deeper = await freeDiskBytes(`${dir}/not/yet/created`);
    // Same file system; other processes may write meanwhile.
    assert.ok(
      Math.abs(deeper - free) < 64 * 1024 * 1024,
      `${deeper} vs ${free}`,
    );
    await assert.rejects(
      freeDiskBytes(dir, { signal: AbortSignal.abort() }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
  });
});
