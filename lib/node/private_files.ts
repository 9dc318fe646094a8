/**
 * The owner's side of private tesseras on disk: a file encrypted into a
 * scratch file before `put` codes it (its id hashed on the way, so the
 * key is recorded before anything is placed), and the sinks a `get`
 * writes through: decrypting for a private tessera, refusing ciphertext
 * for whoever has no key.
 *
 * @module
 */
import { join } from "node:path";
import {
  type IoOptions,
  MAX_TESSERA_SIZE,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import { createBlake3 } from "../codec/mod.ts";
import {
  decryptingStream,
  encryptingStream,
  looksPrivate,
  maxPlainSize,
} from "../crypto/mod.ts";

/** A file encrypted for a put. */
export interface SealedFile {
  /** The scratch file holding the ciphertext (remove it after the put). */
  readonly path: string;
  /** The tessera id the ciphertext will have (BLAKE3 of it). */
  readonly id: TesseraId;
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

/**
 * Encrypt the file at `source` into a new scratch file (mode 0600,
 * synced), hashing the ciphertext as it is written. `TOO_LARGE` when the
 * ciphertext would pass the 1 GiB limit; a failure removes the scratch
 * file.
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
  const input = await Deno.open(source, { read: true });
  const plainSize = (await input.stat()).size;
  const limit = maxPlainSize(MAX_TESSERA_SIZE);
  if (plainSize > limit) {
    input.close();
    throw new TesserasError(
      "TOO_LARGE",
      `${source} is ${plainSize} bytes; a private tessera holds at most ${limit} (1 GiB less its encryption overhead): split it first`,
    );
  }
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const path = join(options.dir, `${crypto.randomUUID()}.sealed`);
  const out = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  const hasher = createBlake3();
  let done = 0;
  try {
    await input.readable
      .pipeThrough(
        counting((n) => options.onProgress?.(done += n, plainSize)),
      )
      .pipeThrough(encryptingStream(options.contentKey))
      .pipeTo(
        new WritableStream({
          async write(chunk) {
            hasher.update(chunk);
            await writeAll(out, chunk);
          },
        }),
        { signal: options.signal },
      );
    await out.sync();
    out.close();
  } catch (err) {
    try {
      out.close();
    } catch { /* closed already */ }
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  return { path, id: toHex(hasher.digest()), plainSize };
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
 * `file`. Errors of the decryption (wrong key, altered or truncated
 * ciphertext) reject `write` or `finish`; the caller removes the file.
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
  let size = 0;
  const start = () => {
    const stream = decryptingStream(contentKey);
    const done = stream.readable.pipeTo(
      new WritableStream({
        async write(chunk) {
          await writeAll(file, chunk);
          size += chunk.length;
        },
      }),
    );
    // Surfaces through the writer; never an unhandled rejection.
    done.catch(() => {});
    return { writer: stream.writable.getWriter(), done };
  };
  let run = start();
  return {
    get size() {
      return size;
    },
    async write(bytes) {
      // The transform copies what it keeps before this resolves.
      await run.writer.write(bytes);
    },
    async reset() {
      await run.writer.abort(new Error("retrieval starts over")).catch(
        () => {},
      );
      await run.done.catch(() => {});
      await rewind(file);
      size = 0;
      run = start();
    },
    async finish() {
      await run.writer.close();
      await run.done;
    },
  };
}

function privateTessera(id?: string): TesserasError {
  const which = id ? `tessera ${id}` : "this tessera";
  return new TesserasError(
    "UNAUTHORIZED",
    `${which} is private: only its owner or someone with its read capability (\`tesseras share ID\` on the owner's node) can read it; pass that with \`tesseras get --capability\``,
  );
}

function counting(
  onBytes: (n: number) => void,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      onBytes(chunk.length);
      controller.enqueue(chunk);
    },
  });
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
