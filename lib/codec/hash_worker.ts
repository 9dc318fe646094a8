/**
 * Worker entry of the streaming encoder: hashes the whole file for the
 * tessera id, and hashes a share of the shard rows of every stripe (read
 * from SharedArrayBuffers the main thread fills), on another core.
 *
 * Protocol (all messages are plain objects with a `type`):
 * - out `ready` once loaded;
 * - in `file {path}` → out `file {hash, size}` (runs alongside the rest);
 * - in `rows-init {slots, width, first, count}`: `slots` are the stripe
 *   buffers (SharedArrayBuffer), each row `width` bytes apart; this worker
 *   hashes rows `first .. first+count-1`;
 * - in `rows {slot, w}` → out `rows` after hashing `w` bytes of each row;
 * - in `rows-finish` → out `rows-done {digests}`;
 * - out `error {message}` on any failure.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type Blake3Hasher, createBlake3 } from "./blake3.ts";
import { hashFile } from "./hash_file.ts";

let slots: Uint8Array[] = [];
let width = 0;
let first = 0;
let hashers: Blake3Hasher[] = [];

const fail = (err: unknown) =>
  self.postMessage({
    type: "error",
    message: err instanceof Error ? err.message : String(err),
  });

self.onmessage = (e: MessageEvent) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case "file":
        hashFile(msg.path).then(
          (r) => self.postMessage({ type: "file", ...r }),
          fail,
        );
        break;
      case "rows-init":
        slots = (msg.slots as SharedArrayBuffer[]).map((b) =>
          new Uint8Array(b)
        );
        width = msg.width;
        first = msg.first;
        hashers = Array.from({ length: msg.count }, () => createBlake3());
        break;
      case "rows": {
        const buf = slots[msg.slot];
        hashers.forEach((h, i) => {
          const at = (first + i) * width;
          h.update(buf.subarray(at, at + msg.w));
        });
        self.postMessage({ type: "rows" });
        break;
      }
      case "rows-finish":
        self.postMessage({
          type: "rows-done",
          digests: hashers.map((h) => h.digest()),
        });
        break;
    }
  } catch (err) {
    fail(err);
  }
};

self.postMessage({ type: "ready" });
