/**
 * Worker entry: hashes one file with {@linkcode hashFile} and posts the
 * result, so the tessera id of a large file is computed on another core
 * while the main thread encodes shards.
 *
 * Message in: `{ path: string }`; out: `{ hash, size }` or `{ error }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { hashFile } from "./hash_file.ts";

self.onmessage = async (e: MessageEvent<{ path: string }>) => {
  try {
    const result = await hashFile(e.data.path);
    self.postMessage(result);
  } catch (err) {
    self.postMessage({
      error: err instanceof Error ? err.message : String(err),
    });
  }
  self.close();
};
