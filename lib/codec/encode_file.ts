/**
 * The streaming put: a file becomes checksummed shards without ever being
 * held in memory. The file is read in column stripes (the same byte range
 * of every data shard), each stripe is encoded and hashed in wasm and
 * handed to a sink shard by shard, so a 1 GiB tessera needs about
 * 3 × (data + parity) × stripe bytes of memory (≈ 110 MiB for the Large
 * tier with the default 512 KiB stripe). Reading the next stripe, encoding
 * the current one and writing the previous one overlap. The tessera id
 * (BLAKE3 of the whole file, in file order) is computed by a worker on
 * another core when one can be started, otherwise by a second sequential
 * pass.
 *
 * @module
 */
import {
  type Checksum,
  type FragmentPlan,
  type IoOptions,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import { createBlake3 } from "./blake3.ts";
import { assertUnchanged, readAt, readFull } from "./file_io.ts";
import { hashFile } from "./hash_file.ts";
import { type PlanOptions, planTessera } from "./plan.ts";
import { StripeCoder } from "./stripe_coder.ts";

/** Receives the shards' bytes as they are produced. */
export interface ShardSink {
  /**
   * Append `bytes` to shard `index`. Per shard, calls come in file order
   * and the next call for the same shard waits until this one's promise
   * settles. `bytes` is reused after that: copy it to keep it.
   */
  write(index: number, bytes: Uint8Array): Promise<void> | void;
}

/** Options of {@linkcode encodeTesseraFile}. */
export interface EncodeFileOptions extends PlanOptions, IoOptions {
  /**
   * Compute the tessera id in a worker, in parallel (default true; falls
   * back to a second pass when a worker cannot start).
   */
  readonly workers?: boolean;
  /** Bytes of each shard per stripe (default 512 KiB). */
  readonly stripeBytes?: number;
}

/** What {@linkcode encodeTesseraFile} returns. */
export interface EncodedTesseraFile {
  /** BLAKE3 of the file's content, lowercase hex. */
  readonly id: TesseraId;
  /** How it was cut. */
  readonly plan: FragmentPlan;
  /** BLAKE3 of every shard, by index. */
  readonly checksums: Checksum[];
}

const DEFAULT_STRIPE = 512 * 1024;
/** Files smaller than this hash their id on the main thread. */
const WORKER_MIN = 32 << 20;
const SMALL_PIECE = 1 << 20;

/**
 * Encode the file at `path` into shards streamed to `sink`, returning the
 * tessera id, the plan and every shard's checksum. Throws `TOO_LARGE`
 * above 1 GiB, `INVALID_INPUT` if the file changes size while read, and
 * whatever the sink throws.
 *
 * @example
 * ```ts
 * const shards: Uint8Array[][] = [];
 * const { id, plan, checksums } = await encodeTesseraFile("photo.jpg", {
 *   write(index, bytes) { (shards[index] ??= []).push(bytes.slice()); },
 * });
 * ```
 */
export async function encodeTesseraFile(
  path: string,
  sink: ShardSink,
  options: EncodeFileOptions = {},
): Promise<EncodedTesseraFile> {
  const { signal } = options;
  signal?.throwIfAborted();
  const size = (await Deno.stat(path)).size;
  const plan = planTessera(size, options);
  if (plan.tier === "small") return await encodeSmall(path, plan, sink, signal);

  const idJob = options.workers !== false && size >= WORKER_MIN
    ? hashInWorker(path)
    : null;
  try {
    const checksums = await encodeStripes(path, plan, sink, options);
    const id = idJob ? await idJob.result.catch(() => null) : null;
    const hashed = id ?? await hashFile(path, { signal });
    assertUnchanged(path, size, hashed.size);
    return { id: hashed.hash, plan, checksums };
  } finally {
    idJob?.stop();
  }
}

async function encodeSmall(
  path: string,
  plan: FragmentPlan,
  sink: ShardSink,
  signal?: AbortSignal,
): Promise<EncodedTesseraFile> {
  using file = await Deno.open(path, { read: true });
  const hasher = createBlake3();
  const buf = new Uint8Array(Math.min(SMALL_PIECE, Math.max(plan.size, 1)));
  let size = 0;
  for (;;) {
    const n = await readFull(file, buf);
    signal?.throwIfAborted();
    // Write even an empty first piece, so a 0-byte shard still exists.
    if (n > 0 || size === 0) {
      hasher.update(buf.subarray(0, n));
      await sink.write(0, buf.subarray(0, n));
    }
    size += n;
    if (n < buf.length) break;
  }
  assertUnchanged(path, plan.size, size);
  const id = toHex(hasher.digest());
  return { id, plan, checksums: [id] };
}

async function encodeStripes(
  path: string,
  plan: FragmentPlan,
  sink: ShardSink,
  options: EncodeFileOptions,
): Promise<Checksum[]> {
  const { signal } = options;
  const k = plan.dataShards, m = plan.parityShards, total = k + m;
  const S = plan.shardSize;
  const width = Math.min(options.stripeBytes ?? DEFAULT_STRIPE, S);
  if (!(width > 0)) {
    throw new TesserasError("INVALID_INPUT", `invalid stripe size ${width}`);
  }
  const stripes = Math.ceil(S / width);
  // Three stripe buffers: one being read, one encoded, one written.
  const slots = Array.from({ length: 3 }, () => {
    const buf = new Uint8Array(total * width);
    return Array.from(
      { length: total },
      (_, i) => buf.subarray(i * width, (i + 1) * width),
    );
  });
  const coder = new StripeCoder(k, m, width);
  using file = await Deno.open(path, { read: true });
  let bytesRead = 0;

  const readStripe = async (s: number, rows: Uint8Array[]) => {
    const c = s * width, w = Math.min(width, S - c);
    for (let j = 0; j < k; j++) {
      const row = rows[j].subarray(0, w);
      const at = j * S + c;
      const n = at < plan.size ? await readAt(file, at, row) : 0;
      row.fill(0, n);
      bytesRead += n;
    }
  };
  const writeStripe = (s: number, rows: Uint8Array[]) => {
    const w = Math.min(width, S - s * width);
    return Promise.all(
      rows.map((r, i) => sink.write(i, r.subarray(0, w))),
    ).then(() => {});
  };

  const writes: Promise<void>[] = [
    Promise.resolve(),
    Promise.resolve(),
    Promise
      .resolve(),
  ];
  let chain: Promise<void> = Promise.resolve();
  try {
    let reading = readStripe(0, slots[0]);
    for (let s = 0; s < stripes; s++) {
      await reading;
      signal?.throwIfAborted();
      if (s + 1 < stripes) {
        const next = (s + 1) % 3;
        // That slot was last written as stripe s - 2.
        await writes[next];
        reading = readStripe(s + 1, slots[next]);
      }
      const rows = slots[s % 3];
      coder.encode(rows, Math.min(width, S - s * width));
      chain = chain.then(() => writeStripe(s, rows));
      writes[s % 3] = chain;
      // A failed write stops the loop at the next await of this slot; keep
      // the rejection observed meanwhile.
      chain.catch(() => {});
    }
    await chain;
    assertUnchanged(path, plan.size, bytesRead);
    return coder.finish().map(toHex);
  } finally {
    coder.release();
    await Promise.allSettled([chain, ...writes]);
  }
}

/** A running id hash. */
export interface IdJob {
  readonly result: Promise<{ hash: string; size: number }>;
  stop(): void;
}

/** Hash `path` in a worker; `null` when no worker can start. */
export function hashInWorker(path: string): IdJob | null {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./hash_worker.ts", import.meta.url), {
      type: "module",
    });
  } catch {
    return null;
  }
  const result = new Promise<{ hash: string; size: number }>(
    (resolve, reject) => {
      worker.onmessage = (e) => {
        if (e.data?.error) reject(new Error(e.data.error));
        else resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    },
  );
  result.catch(() => {});
  worker.postMessage({ path });
  return { result, stop: () => worker.terminate() };
}
