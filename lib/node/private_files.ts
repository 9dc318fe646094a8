/**
 * The owner's side of private tesseras on disk: a file encrypted into a
 * scratch file before `put` codes it (the put hashes it into its id and
 * records the key before anything is placed), and the sinks a `get`
 * writes through: decrypting for a private tessera, refusing ciphertext
 * for whoever has no key.
 *
 * @module
 */
import { join } from "node:path";
import {
  type IoOptions,
  MAX_TESSERA_SIZE,
  TesserasError,
} from "../core/mod.ts";
import { readFull } from "../codec/mod.ts";
import {
  looksPrivate,
  maxPlainSize,
  newSegmentOpener,
  newSegmentSealer,
  SEGMENT_HEADER_BYTES,
  type SegmentOpener,
} from "../crypto/mod.ts";

/** A file encrypted for a put. */
export interface SealedFile {
  /** The scratch file holding the ciphertext (remove it after the put). */
  readonly path: string;
  /** Bytes of plaintext. */
  readonly plainSize: number;
}

/** Options of {@linkcode sealFile}. */
export interface SealFileOptions extends IoOptions {
  /** Directory of the scratch file (inside the data directory). */
  readonly dir: string;
  /** The tessera's fresh 32-byte content key. */
  readonly contentKey: Uint8Array;
  /** Called with plaintext bytes encrypted so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Segments being sealed at once: WebCrypto runs them off the main thread. */
const SEALING_IN_FLIGHT = 4;

/**
 * Encrypt the file at `source` into a new scratch file (mode 0600).
 * `TOO_LARGE` when the ciphertext would pass the 1 GiB limit; a failure
 * removes the scratch file. Neither hashed nor synced here: the put
 * that takes the file hashes it into the tessera id as it encodes it,
 * and syncs it when its staging takes it, so a private put reads and
 * writes the ciphertext no more often than a public put does its file.
 *
 * @example
 * ```ts
 * import { newContentKey } from "../crypto/mod.ts";
 * const sealed = await sealFile("/photos/1950.jpg", {
 *   dir: "/srv/tesseras/sealing",
 *   contentKey: newContentKey(),
 * });
 * ```
 */
export async function sealFile(
  source: string,
  options: SealFileOptions,
): Promise<SealedFile> {
  using input = await Deno.open(source, { read: true });
  const plainSize = (await input.stat()).size;
  const limit = maxPlainSize(MAX_TESSERA_SIZE);
  if (plainSize > limit) throw tooLarge(source, plainSize, limit);
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const path = join(options.dir, `${crypto.randomUUID()}.sealed`);
  try {
    using out = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    await sealInto(input, out, { ...options, source, plainSize, limit });
  } catch (err) {
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  return { path, plainSize };
}

/**
 * The sealing loop: the file is read straight into segment-sized
 * buffers (one read a segment, no stream of 64 KiB chunks to cut up),
 * up to {@linkcode SEALING_IN_FLIGHT} segments are encrypted at once,
 * and their ciphertexts are written in order. A segment is sealed as the
 * last once the read after it comes back empty (or it is short).
 */
async function sealInto(
  input: Deno.FsFile,
  out: Deno.FsFile,
  options: SealFileOptions & {
    readonly source: string;
    readonly plainSize: number;
    readonly limit: number;
  },
): Promise<void> {
  const sealer = await newSegmentSealer(options.contentKey);
  const seg = sealer.segmentBytes;
  await writeAll(out, sealer.header);
  // Plaintext buffers go back to `free` once their segment is written:
  // a few buffers for the whole file, not a fresh one (and its page
  // faults) per segment.
  const free: Uint8Array[] = [];
  const pending: { sealing: Promise<Uint8Array>; buf: Uint8Array }[] = [];
  const writeUntil = async (left: number) => {
    while (pending.length > left) {
      const { sealing, buf } = pending.shift()!;
      await writeAll(out, await sealing);
      free.push(buf);
    }
  };
  const read = async () => {
    const buf = free.pop() ?? new Uint8Array(seg);
    return buf.subarray(0, await readFull(input, buf));
  };
  let done = 0;
  let current = await read();
  for (;;) {
    options.signal?.throwIfAborted();
    const next = current.length < seg ? new Uint8Array(0) : await read();
    const last = next.length === 0;
    done += current.length;
    // The file grew since it was measured.
    if (done > options.limit) {
      throw tooLarge(options.source, done, options.limit);
    }
    const sealing = sealer.seal(current, last);
    // Never an unhandled rejection: writeUntil awaits it in its turn.
    sealing.catch(() => {});
    pending.push({ sealing, buf: new Uint8Array(current.buffer) });
    options.onProgress?.(done, Math.max(done, options.plainSize));
    await writeUntil(SEALING_IN_FLIGHT - 1);
    if (last) break;
    current = next;
  }
  await writeUntil(0);
}

function tooLarge(
  source: string,
  size: number,
  limit: number,
): TesserasError {
  return new TesserasError(
    "TOO_LARGE",
    `${source} is ${size} bytes; a private tessera holds at most ${limit} (1 GiB less its encryption overhead): split it first`,
  );
}

/** Where a retrieval writes, as `ReplicationService.retrieveTesseraTo` wants. */
export interface RetrieveSink {
  /** Append verified tessera bytes (a view reused afterwards). */
  write(bytes: Uint8Array): Promise<void>;
  /** Discard everything written: the retrieval starts over. */
  reset(): Promise<void>;
  /** All bytes are in: finish (and verify the last segment). */
  finish(): Promise<void>;
  /** Bytes written to the file so far. */
  readonly size: number;
}

/**
 * A sink writing a tessera's bytes to `file` as they are. With
 * `refusePrivate`, bytes that start as a private tessera are refused
 * (`UNAUTHORIZED`): whoever has no key gets a clear error, not ciphertext.
 *
 * @example
 * ```ts
 * const file = await Deno.open("/tmp/out", { write: true, create: true });
 * const sink = plainSink(file, { refusePrivate: true });
 * await sink.write(new Uint8Array([1, 2, 3]));
 * await sink.finish();
 * ```
 */
export function plainSink(
  file: Deno.FsFile,
  options: { readonly refusePrivate: boolean; readonly id?: string },
): RetrieveSink {
  let size = 0;
  let head = new Uint8Array(0);
  const check = (bytes: Uint8Array) => {
    if (!options.refusePrivate || head.length >= 8) return;
    head = new Uint8Array([...head, ...bytes.subarray(0, 8 - head.length)]);
    if (looksPrivate(head)) throw privateTessera(options.id);
  };
  return {
    get size() {
      return size;
    },
    async write(bytes) {
      check(bytes);
      await writeAll(file, bytes);
      size += bytes.length;
    },
    async reset() {
      await rewind(file);
      size = 0;
      head = new Uint8Array(0);
    },
    finish: () => Promise.resolve(),
  };
}

/**
 * A sink that decrypts a private tessera's bytes with `contentKey` into
 * `file` as they arrive, up to {@linkcode OPENING_IN_FLIGHT} segments at
 * once (no second pass over a temporary file). Errors of the decryption
 * (wrong key, altered or truncated ciphertext) reject `write` or
 * `finish`; the caller removes the file.
 *
 * @example
 * ```ts
 * declare const contentKey: Uint8Array;
 * const file = await Deno.open("/tmp/out", { write: true, create: true });
 * const sink = decryptingSink(file, contentKey);
 * ```
 */
export function decryptingSink(
  file: Deno.FsFile,
  contentKey: Uint8Array,
): RetrieveSink {
  let run = new Decryption(file, contentKey);
  return {
    get size() {
      return run.size;
    },
    write: (bytes) => run.write(bytes),
    async reset() {
      await run.abandon();
      await rewind(file);
      run = new Decryption(file, contentKey);
    },
    finish: () => run.finish(),
  };
}

/** Segments being opened at once: WebCrypto runs them off the main thread. */
const OPENING_IN_FLIGHT = 4;

/**
 * One pass of a decrypting sink: the header gathered first, then the
 * ciphertext cut into its segments in reused buffers, each full one
 * opened once a byte after it shows it is not the last, plaintexts
 * written in order.
 */
class Decryption {
  readonly #file: Deno.FsFile;
  readonly #key: Uint8Array;
  readonly #header = new Uint8Array(SEGMENT_HEADER_BYTES);
  #headerFilled = 0;
  #opener: SegmentOpener | undefined;
  #segment: Uint8Array = new Uint8Array(0);
  #filled = 0;
  readonly #free: Uint8Array[] = [];
  readonly #pending: { opening: Promise<Uint8Array>; buf: Uint8Array }[] = [];
  /** Plaintext bytes written. */
  size = 0;

  constructor(file: Deno.FsFile, key: Uint8Array) {
    this.#file = file;
    this.#key = key;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    if (this.#opener === undefined) {
      at = Math.min(bytes.length, SEGMENT_HEADER_BYTES - this.#headerFilled);
      this.#header.set(bytes.subarray(0, at), this.#headerFilled);
      this.#headerFilled += at;
      if (this.#headerFilled < SEGMENT_HEADER_BYTES) return;
      this.#opener = await newSegmentOpener(this.#key, this.#header);
      this.#segment = new Uint8Array(this.#opener.sealedBytes);
    }
    while (at < bytes.length) {
      // Full, and more follows: not the last segment.
      if (this.#filled === this.#segment.length) await this.#open(false);
      const n = Math.min(
        this.#segment.length - this.#filled,
        bytes.length - at,
      );
      this.#segment.set(bytes.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
    }
  }

  async finish(): Promise<void> {
    // A file that ended inside its header is refused for it.
    this.#opener ??= await newSegmentOpener(
      this.#key,
      this.#header.subarray(0, this.#headerFilled),
    );
    await this.#open(true);
    await this.#writeUntil(0);
  }

  /** Wait for the segments still opening (their results are moot). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.#pending.map((p) => p.opening));
    this.#pending.length = 0;
  }

  async #open(last: boolean): Promise<void> {
    const buf = this.#segment;
    const opening = this.#opener!.open(buf.subarray(0, this.#filled), last);
    // Never an unhandled rejection: #writeUntil awaits it in its turn.
    opening.catch(() => {});
    this.#pending.push({ opening, buf });
    this.#segment = this.#free.pop() ?? new Uint8Array(buf.length);
    this.#filled = 0;
    await this.#writeUntil(OPENING_IN_FLIGHT - 1);
  }

  async #writeUntil(left: number): Promise<void> {
    while (this.#pending.length > left) {
      const { opening, buf } = this.#pending.shift()!;
      const plain = await opening;
      await writeAll(this.#file, plain);
      this.size += plain.length;
      this.#free.push(buf);
    }
  }
}

function privateTessera(id?: string): TesserasError {
  const which = id ? `tessera ${id}` : "this tessera";
  return new TesserasError(
    "UNAUTHORIZED",
    `${which} is private: only its owner or someone with its read capability (\`tesseras share ID\` on the owner's node) can read it; pass that with \`tesseras get --capability\``,
  );
}

async function rewind(file: Deno.FsFile): Promise<void> {
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  // write() may take fewer bytes than given (e.g. on a nearly full disk).
  for (let at = 0; at < bytes.length;) {
    at += await file.write(bytes.subarray(at));
  }
}
