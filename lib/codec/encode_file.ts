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
import { assertUnchanged, readFull } from "./file_io.ts";
import { hashFile } from "./hash_file.ts";
import { type PlanOptions, planTessera } from "./plan.ts";
import { HashWorker } from "./encode_worker.ts";
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
/** Share of the shard rows hashed on the main thread when a worker helps. */
const WORKER_SPLIT = 0.55;

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

  const worker = options.workers !== false && size >= WORKER_MIN
    ? await HashWorker.start()
    : null;
  try {
    const idJob = worker?.hashFile(path);
    const checksums = await encodeStripes(path, plan, sink, options, worker);
    const hashed = idJob ? await idJob : await hashFile(path, { signal });
    assertUnchanged(path, { want: size, got: hashed.size });
    return { id: hashed.hash, plan, checksums };
  } finally {
    worker?.stop();
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
  assertUnchanged(path, { want: plan.size, got: size });
  const id = toHex(hasher.digest());
  return { id, plan, checksums: [id] };
}

async function encodeStripes(
  path: string,
  plan: FragmentPlan,
  sink: ShardSink,
  options: EncodeFileOptions,
  worker: HashWorker | null,
): Promise<Checksum[]> {
  const { signal } = options;
  const k = plan.dataShards, m = plan.parityShards, total = k + m;
  const S = plan.shardSize;
  const width = Math.min(options.stripeBytes ?? DEFAULT_STRIPE, S);
  if (!(width > 0)) {
    throw new TesserasError("INVALID_INPUT", `invalid stripe size ${width}`);
  }
  const stripes = Math.ceil(S / width);
  // With a worker, it hashes rows [split, total) besides the whole file
  // for the id, while the main thread runs Reed-Solomon and hashes the
  // rest (measured: about even CPU for both on the Large tier).
  const split = worker ? Math.floor(total * WORKER_SPLIT) : total;
  // Three stripe buffers: one being read, one encoded, one written.
  const buffers = Array.from(
    { length: 3 },
    () =>
      worker
        ? new SharedArrayBuffer(total * width)
        : new ArrayBuffer(total * width),
  );
  const slots = buffers.map((buf) =>
    Array.from(
      { length: total },
      (_, i) => new Uint8Array(buf, i * width, width),
    )
  );
  worker?.initRows(buffers as SharedArrayBuffer[], width, split, total - split);
  const coder = new StripeCoder(k, m, width, split);
  // One handle per data shard, each reading its own contiguous range in
  // order, so a stripe's reads run in parallel with no seeking.
  const files: Deno.FsFile[] = [];
  const closeAll = () => files.splice(0).forEach((f) => f.close());
  let bytesRead = 0;
  try {
    for (let j = 0; j < k && j * S < plan.size; j++) {
      const f = await Deno.open(path, { read: true });
      files.push(f);
      if (j > 0) await f.seek(j * S, Deno.SeekMode.Start);
    }
  } catch (err) {
    closeAll();
    throw err;
  }

  const readStripe = async (s: number, rows: Uint8Array[]) => {
    const w = Math.min(width, S - s * width);
    const counts = await Promise.all(
      rows.slice(0, k).map((r, j) => {
        const row = r.subarray(0, w);
        // Never read past the shard's end: that belongs to the next shard.
        return j < files.length ? readFull(files[j], row) : 0;
      }),
    );
    counts.forEach((n, j) => {
      rows[j].fill(0, n, w);
      bytesRead += n;
    });
  };
  const writeStripe = (s: number, rows: Uint8Array[]) => {
    const w = Math.min(width, S - s * width);
    return Promise.all(
      rows.map((r, i) => sink.write(i, r.subarray(0, w))),
    ).then(() => {});
  };

  const done = (): Promise<void> => Promise.resolve();
  // Per slot: when its last stripe is written and hashed, it can be reused.
  const free: Promise<void>[] = [done(), done(), done()];
  let chain: Promise<void> = done();
  let reading = readStripe(0, slots[0]);
  reading.catch(() => {}); // observed; awaited below
  try {
    for (let s = 0; s < stripes; s++) {
      await reading;
      signal?.throwIfAborted();
      if (s + 1 < stripes) {
        const next = (s + 1) % 3;
        await free[next];
        reading = readStripe(s + 1, slots[next]);
        reading.catch(() => {});
      }
      const rows = slots[s % 3];
      const w = Math.min(width, S - s * width);
      coder.encode(rows, w);
      const hashed = worker ? worker.hashRows(s % 3, w) : done();
      // Writes stay in order per shard: stripe s after stripe s - 1.
      chain = chain.then(() => writeStripe(s, rows));
      free[s % 3] = Promise.all([chain, hashed]).then(() => {});
      // Observed here; the next await of this slot rethrows a failure.
      free[s % 3].catch(() => {});
    }
    await Promise.all(free);
    assertUnchanged(path, { want: plan.size, got: bytesRead });
    const mine = coder.finish();
    const theirs = worker ? await worker.finishRows() : [];
    return [...mine, ...theirs].map(toHex);
  } finally {
    coder.release();
    await Promise.allSettled([chain, ...free, reading]);
    closeAll();
  }
}
