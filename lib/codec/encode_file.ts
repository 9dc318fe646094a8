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

/** How a plan's shards are cut into column stripes. */
interface StripeLayout {
  readonly plan: FragmentPlan;
  /** Data and all shards. */
  readonly k: number;
  readonly total: number;
  /** Bytes of each shard per stripe (the last stripe may be shorter). */
  readonly width: number;
  readonly stripes: number;
  /** Rows [0, split) are hashed here, [split, total) by the worker. */
  readonly split: number;
}

function stripeLayout(
  plan: FragmentPlan,
  options: EncodeFileOptions,
  worker: HashWorker | null,
): StripeLayout {
  const k = plan.dataShards, total = k + plan.parityShards;
  const width = Math.min(options.stripeBytes ?? DEFAULT_STRIPE, plan.shardSize);
  if (!(width > 0)) {
    throw new TesserasError("INVALID_INPUT", `invalid stripe size ${width}`);
  }
  // With a worker, it hashes rows [split, total) besides the whole file
  // for the id, while the main thread runs Reed-Solomon and hashes the
  // rest (measured: about even CPU for both on the Large tier).
  const split = worker ? Math.floor(total * WORKER_SPLIT) : total;
  const stripes = Math.ceil(plan.shardSize / width);
  return { plan, k, total, width, stripes, split };
}

/** Width of stripe `s`: the last one stops at the shard's end. */
function stripeWidth(layout: StripeLayout, s: number): number {
  return Math.min(layout.width, layout.plan.shardSize - s * layout.width);
}

/**
 * Three stripe buffers (one being read, one encoded, one written), each
 * cut into one row per shard; shared with the worker when there is one.
 */
function stripeSlots(
  layout: StripeLayout,
  worker: HashWorker | null,
): Uint8Array[][] {
  const { total, width } = layout;
  const buffers = Array.from(
    { length: 3 },
    () =>
      worker
        ? new SharedArrayBuffer(total * width)
        : new ArrayBuffer(total * width),
  );
  worker?.initRows(
    buffers as SharedArrayBuffer[],
    width,
    layout.split,
    total - layout.split,
  );
  return buffers.map((buf) =>
    Array.from(
      { length: total },
      (_, i) => new Uint8Array(buf, i * width, width),
    )
  );
}

/**
 * One handle per data shard, each reading its own contiguous range in
 * order, so a stripe's reads run in parallel with no seeking. Counts the
 * bytes read, to tell a file that shrank while read.
 */
class ShardReaders {
  #files: Deno.FsFile[] = [];
  #layout: StripeLayout;
  /** Bytes of the file read so far. */
  bytesRead = 0;

  private constructor(layout: StripeLayout) {
    this.#layout = layout;
  }

  static async open(path: string, layout: StripeLayout): Promise<ShardReaders> {
    const readers = new ShardReaders(layout);
    const { k, plan } = layout, S = plan.shardSize;
    try {
      for (let j = 0; j < k && j * S < plan.size; j++) {
        const f = await Deno.open(path, { read: true });
        readers.#files.push(f);
        if (j > 0) await f.seek(j * S, Deno.SeekMode.Start);
      }
    } catch (err) {
      readers.close();
      throw err;
    }
    return readers;
  }

  /** Fill the data rows of stripe `s`, zero past the file's end. */
  async read(s: number, rows: Uint8Array[]): Promise<void> {
    const w = stripeWidth(this.#layout, s), files = this.#files;
    const counts = await Promise.all(
      rows.slice(0, this.#layout.k).map((r, j) => {
        const row = r.subarray(0, w);
        // Never read past the shard's end: that belongs to the next shard.
        return j < files.length ? readFull(files[j], row) : 0;
      }),
    );
    counts.forEach((n, j) => {
      rows[j].fill(0, n, w);
      this.bytesRead += n;
    });
  }

  close(): void {
    this.#files.splice(0).forEach((f) => f.close());
  }
}

/** What the stripe pipeline works with. */
interface StripeParts {
  readonly layout: StripeLayout;
  readonly slots: Uint8Array[][];
  readonly readers: ShardReaders;
  readonly coder: StripeCoder;
  readonly sink: ShardSink;
  readonly worker: HashWorker | null;
}

async function encodeStripes(
  path: string,
  plan: FragmentPlan,
  sink: ShardSink,
  options: EncodeFileOptions,
  worker: HashWorker | null,
): Promise<Checksum[]> {
  const layout = stripeLayout(plan, options, worker);
  const slots = stripeSlots(layout, worker);
  const coder = new StripeCoder(
    layout.k,
    plan.parityShards,
    layout.width,
    layout.split,
  );
  let readers: ShardReaders | null = null;
  try {
    readers = await ShardReaders.open(path, layout);
    const parts = { layout, slots, readers, coder, sink, worker };
    await runStripes(parts, options.signal);
    assertUnchanged(path, { want: plan.size, got: readers.bytesRead });
    const mine = coder.finish();
    const theirs = worker ? await worker.finishRows() : [];
    return [...mine, ...theirs].map(toHex);
  } finally {
    coder.release();
    readers?.close();
  }
}

/**
 * Read stripe s + 1 while stripe s is encoded and stripe s - 1 written:
 * a slot is reused only once its last stripe is written and hashed.
 */
async function runStripes(
  parts: StripeParts,
  signal?: AbortSignal,
): Promise<void> {
  const { layout, slots, readers, coder, sink, worker } = parts;
  const done = (): Promise<void> => Promise.resolve();
  const free: Promise<void>[] = [done(), done(), done()];
  let chain: Promise<void> = done();
  let reading = readers.read(0, slots[0]);
  reading.catch(() => {}); // observed; awaited below
  try {
    for (let s = 0; s < layout.stripes; s++) {
      await reading;
      signal?.throwIfAborted();
      if (s + 1 < layout.stripes) {
        const next = (s + 1) % 3;
        await free[next];
        reading = readers.read(s + 1, slots[next]);
        reading.catch(() => {});
      }
      const rows = slots[s % 3], w = stripeWidth(layout, s);
      coder.encode(rows, w);
      const hashed = worker ? worker.hashRows(s % 3, w) : done();
      // Writes stay in order per shard: stripe s after stripe s - 1.
      chain = chain.then(() => writeStripe(sink, rows, w));
      free[s % 3] = Promise.all([chain, hashed]).then(() => {});
      // Observed here; the next await of this slot rethrows a failure.
      free[s % 3].catch(() => {});
    }
    await Promise.all(free);
  } finally {
    await Promise.allSettled([chain, ...free, reading]);
  }
}

function writeStripe(
  sink: ShardSink,
  rows: Uint8Array[],
  width: number,
): Promise<void> {
  return Promise.all(rows.map((r, i) => sink.write(i, r.subarray(0, width))))
    .then(() => {});
}
