/**
 * Segmented streaming encryption of a private tessera, after the STREAM
 * construction as age uses it: a file never sits in memory whole, and
 * every segment is authenticated with its position and whether it is the
 * last, so a truncated, reordered, duplicated or dropped segment fails.
 *
 * Ciphertext: a 40-byte header, then segments of at most `2^exp` bytes of
 * plaintext plus a 16-byte GCM tag each.
 *
 * | bytes | header field |
 * |---|---|
 * | 4 | `TSRP` |
 * | 1 | version (1) |
 * | 1 | `exp`: plaintext segment size is `2^exp` bytes (16-20: 64 KiB-1 MiB) |
 * | 2 | zero (reserved) |
 * | 16 | salt, random per file |
 * | 16 | key commitment: HKDF(content key, salt, `tesseras/v1/key-commitment`) |
 *
 * Each segment is AES-256-GCM under HKDF(content key, salt,
 * `tesseras/v1/segment-key`) with nonce = 11-byte big-endian segment
 * counter ‖ 1 byte last-segment flag, and the whole header as associated
 * data. The last segment carries the flag (an empty file is one empty last
 * segment; a non-empty file never ends with an empty segment). GCM alone
 * is not key-committing; the commitment makes a wrong key fail at once,
 * by name, rather than as an altered first segment.
 *
 * A decrypting stream hands on plaintext as each segment verifies, so a
 * consumer must treat the output as unconfirmed until the stream closes
 * without error (write to a temp file, rename at the end).
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { gcmOpen, gcmSeal, importAesKey, TAG_BYTES } from "./aes_gcm.ts";
import { hkdfSha256 } from "./hash.ts";
import { concatBytes, sameBytes } from "./bytes.ts";

/** Bytes of the header in front of the segments. */
export const SEGMENT_HEADER_BYTES = 40;
/** Default plaintext bytes per segment: 1 MiB, the largest the format
 * allows. WebCrypto's cost per call made 256 KiB segments take 1.4x the
 * CPU time of 1 MiB ones for the same bytes (docs/keys.md); files written
 * with 64 KiB or 256 KiB segments read as before. */
export const DEFAULT_SEGMENT_BYTES = 1 << 20;
const MAGIC = [0x54, 0x53, 0x52, 0x50]; // "TSRP"
const VERSION = 1;
const MIN_EXP = 16;
const MAX_EXP = 20;

/** Options of {@linkcode encryptingStream}. */
export interface SegmentOptions {
  /** Plaintext bytes per segment: a power of two, 64 KiB to 1 MiB. */
  readonly segmentBytes?: number;
}

/**
 * Bytes of the ciphertext of `plainSize` bytes of plaintext.
 *
 * @example
 * ```ts
 * encryptedSize(0); // 56: header and one empty last segment
 * encryptedSize(1048577); // 40 + 1048577 + 2 * 16
 * ```
 */
export function encryptedSize(
  plainSize: number,
  options: SegmentOptions = {},
): number {
  const seg = segmentBytesOf(options);
  const segments = Math.max(1, Math.ceil(plainSize / seg));
  return SEGMENT_HEADER_BYTES + plainSize + segments * TAG_BYTES;
}

/**
 * The largest plaintext whose ciphertext fits in `limit` bytes.
 *
 * @example
 * ```ts
 * encryptedSize(maxPlainSize(1 << 30)) <= 1 << 30; // true
 * ```
 */
export function maxPlainSize(
  limit: number,
  options: SegmentOptions = {},
): number {
  const seg = segmentBytesOf(options);
  const room = limit - SEGMENT_HEADER_BYTES;
  const whole = Math.floor(room / (seg + TAG_BYTES));
  const rest = room - whole * (seg + TAG_BYTES);
  return whole * seg + Math.max(0, rest - TAG_BYTES);
}

/**
 * True when `head` (a tessera's first bytes, at least 8) starts with a
 * private tessera's header: its magic, a known version, a valid segment
 * size and the reserved zeros. A public file that happens to start so is
 * a 1 in 2^50 chance.
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * looksPrivate(await encryptBytes(key, new Uint8Array(1))); // true
 * looksPrivate(new TextEncoder().encode("hello world")); // false
 * ```
 */
export function looksPrivate(head: Uint8Array): boolean {
  if (head.length < 8 || !MAGIC.every((b, i) => head[i] === b)) return false;
  return head[4] === VERSION && head[5] >= MIN_EXP && head[5] <= MAX_EXP &&
    head[6] === 0 && head[7] === 0;
}

/**
 * A stream that encrypts plaintext into the segmented format under the
 * 32-byte `contentKey` (one fresh key per tessera).
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sealed = ReadableStream.from([new Uint8Array(10)])
 *   .pipeThrough(encryptingStream(key));
 * ```
 */
export function encryptingStream(
  contentKey: Uint8Array,
  options: SegmentOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  let sealer: SegmentSealer;
  let segments: Segmenter;
  const queue = new InOrder();
  return new TransformStream({
    async start(controller) {
      sealer = await newSegmentSealer(contentKey, options);
      segments = new Segmenter(sealer.segmentBytes);
      controller.enqueue(sealer.header);
    },
    async transform(chunk, controller) {
      for (const full of segments.push(chunk)) {
        await queue.add(sealer.seal(full, false), controller);
      }
    },
    async flush(controller) {
      await queue.add(sealer.seal(segments.rest(), true), controller);
      await queue.drain(controller);
    },
  });
}

/**
 * Seals one file's segments, for a caller that cuts the plaintext itself
 * (reading a file straight into segment-sized buffers): the header goes
 * first, then the result of each `seal` in the order of the calls.
 */
export interface SegmentSealer {
  /** The 40-byte header, the first bytes of the ciphertext. */
  readonly header: Uint8Array;
  /** Plaintext bytes of every segment but the last. */
  readonly segmentBytes: number;
  /**
   * The next segment sealed (its index is fixed by the call, so several
   * may run at once). Every segment but the last holds exactly
   * `segmentBytes`; the last holds up to that, and is empty only when
   * it is the first (an empty file). Anything else is refused
   * (`INTERNAL`): it would seal bytes no reader accepts.
   */
  seal(plain: Uint8Array, last: boolean): Promise<Uint8Array>;
}

/**
 * A {@linkcode SegmentSealer} under the 32-byte `contentKey`, with a
 * fresh random salt.
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sealer = await newSegmentSealer(key);
 * const last = await sealer.seal(new Uint8Array(10), true);
 * last.length; // 26: 10 bytes and the tag, after the 40-byte header
 * ```
 */
export async function newSegmentSealer(
  contentKey: Uint8Array,
  options: SegmentOptions = {},
): Promise<SegmentSealer> {
  const seg = segmentBytesOf(options);
  const header = newHeader(seg);
  const keys = await segmentKeys(contentKey, header);
  header.set(keys.commitment, 24);
  let index = 0;
  return {
    header,
    segmentBytes: seg,
    // Async: a refusal rejects, as a failed seal does. The nonce is fixed
    // before the first await, so the call order is the segment order.
    async seal(plain, last) {
      const fits = last
        ? plain.length <= seg && (plain.length > 0 || index === 0)
        : plain.length === seg;
      if (!fits) {
        throw new TesserasError(
          "INTERNAL",
          `segment ${index} of ${plain.length} bytes cannot be sealed (${
            last ? "last" : "not last"
          }, segments of ${seg})`,
        );
      }
      index++;
      return await keys.seal(plain, last);
    },
  };
}

/**
 * A stream that decrypts the segmented format with `contentKey`.
 * `UNAUTHORIZED` for a wrong key, `CHECKSUM_MISMATCH` for an altered,
 * truncated, reordered, duplicated or dropped segment, `INVALID_INPUT`
 * for bytes that are no private tessera.
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const plain = ReadableStream.from([new Uint8Array(10)])
 *   .pipeThrough(encryptingStream(key))
 *   .pipeThrough(decryptingStream(key));
 * ```
 */
export function decryptingStream(
  contentKey: Uint8Array,
): TransformStream<Uint8Array, Uint8Array> {
  const header = new Segmenter(SEGMENT_HEADER_BYTES);
  let opener: SegmentOpener | undefined;
  let segments: Segmenter | undefined;
  const queue = new InOrder();
  return new TransformStream({
    async transform(chunk, controller) {
      if (opener === undefined || segments === undefined) {
        const [full] = header.push(chunk, { final: true });
        if (full === undefined) return;
        opener = await newSegmentOpener(contentKey, full);
        segments = new Segmenter(opener.sealedBytes);
        chunk = header.leftover();
      }
      for (const sealed of segments.push(chunk)) {
        await queue.add(opener.open(sealed, false), controller);
      }
    },
    async flush(controller) {
      if (opener === undefined || segments === undefined) {
        // Refused for its incomplete header.
        await newSegmentOpener(contentKey, header.rest());
        return;
      }
      await queue.add(opener.open(segments.rest(), true), controller);
      await queue.drain(controller);
    },
  });
}

/**
 * Opens one file's segments, for a caller that cuts the ciphertext
 * itself (into reused buffers): the result of each `open` is the
 * plaintext of the next segment, in the order of the calls.
 */
export interface SegmentOpener {
  /** Ciphertext bytes (plaintext and tag) of every segment but the last. */
  readonly sealedBytes: number;
  /**
   * The next segment opened (its index is fixed by the call, so several
   * may run at once); refused as {@linkcode decryptingStream} refuses.
   */
  open(sealed: Uint8Array, last: boolean): Promise<Uint8Array>;
}

/**
 * A {@linkcode SegmentOpener} for the file whose 40-byte header is
 * `header`: `INVALID_INPUT` when it is no private tessera's,
 * `UNAUTHORIZED` when `contentKey` is not its key, `CHECKSUM_MISMATCH`
 * when it is shorter (the file ended inside it).
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sealed = await encryptBytes(key, new Uint8Array(10));
 * const opener = await newSegmentOpener(key, sealed.subarray(0, 40));
 * (await opener.open(sealed.subarray(40), true)).length; // 10
 * ```
 */
export async function newSegmentOpener(
  contentKey: Uint8Array,
  header: Uint8Array,
): Promise<SegmentOpener> {
  if (header.length < SEGMENT_HEADER_BYTES) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      "the private tessera is truncated: its header is incomplete",
    );
  }
  const fixed = header.slice(0, SEGMENT_HEADER_BYTES);
  const seg = parseHeader(fixed);
  const keys = await segmentKeys(contentKey, fixed);
  checkCommitment(keys, fixed);
  return {
    sealedBytes: seg + TAG_BYTES,
    open: (sealed, last) => keys.open(sealed, last),
  };
}

/**
 * `plain` encrypted whole (for small inputs and tests; files use
 * {@linkcode encryptingStream}).
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sealed = await encryptBytes(key, new Uint8Array(3));
 * (await decryptBytes(key, sealed)).length; // 3
 * ```
 */
export async function encryptBytes(
  contentKey: Uint8Array,
  plain: Uint8Array,
  options: SegmentOptions = {},
): Promise<Uint8Array> {
  return await collect(
    ReadableStream.from([plain]).pipeThrough(
      encryptingStream(contentKey, options),
    ),
  );
}

/**
 * `sealed` decrypted whole (see {@linkcode decryptingStream} for errors).
 *
 * @example
 * ```ts
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * (await decryptBytes(key, await encryptBytes(key, new Uint8Array(0)))).length; // 0
 * ```
 */
export async function decryptBytes(
  contentKey: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  return await collect(
    ReadableStream.from([sealed]).pipeThrough(decryptingStream(contentKey)),
  );
}

/** The keys of one file and the counter of the next segment. */
interface SegmentKeys {
  readonly commitment: Uint8Array;
  seal(plain: Uint8Array, last: boolean): Promise<Uint8Array>;
  open(sealed: Uint8Array, last: boolean): Promise<Uint8Array>;
}

async function segmentKeys(
  contentKey: Uint8Array,
  header: Uint8Array,
): Promise<SegmentKeys> {
  const salt = header.slice(8, 24);
  const raw = await hkdfSha256(contentKey, "tesseras/v1/segment-key", {
    salt,
  });
  const aes = await importAesKey(raw);
  raw.fill(0);
  const commitment = await hkdfSha256(
    contentKey,
    "tesseras/v1/key-commitment",
    { salt, length: 16 },
  );
  // The header as associated data, commitment included (it is filled in
  // before the first segment is sealed).
  const aad = header;
  let counter = 0;
  let ended = false;
  const next = (last: boolean) => {
    if (ended) throw new TesserasError("INTERNAL", "segment after the last");
    ended = last;
    return nonceOf(counter++, last);
  };
  return {
    commitment,
    seal: (plain, last) => gcmSeal(aes, plain, { iv: next(last), aad }),
    async open(sealed, last) {
      const index = counter;
      if (sealed.length < TAG_BYTES) throw truncated();
      const plain = await gcmOpen(
        aes,
        sealed,
        {
          iv: next(last),
          aad,
          failure: last
            ? "the private tessera's last segment does not authenticate: it was truncated or altered"
            : `segment ${index} of the private tessera does not authenticate: it was altered, reordered, duplicated or dropped`,
        },
      );
      if (last && index > 0 && plain.length === 0) throw truncated();
      return plain;
    },
  };
}

function truncated(): TesserasError {
  return new TesserasError(
    "CHECKSUM_MISMATCH",
    "the private tessera is truncated or malformed: its last segment is missing",
  );
}

function nonceOf(counter: number, last: boolean): Uint8Array {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(3, BigInt(counter));
  iv[11] = last ? 1 : 0;
  return iv;
}

function newHeader(segmentBytes: number): Uint8Array {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  header.set(MAGIC);
  header[4] = VERSION;
  header[5] = Math.log2(segmentBytes);
  crypto.getRandomValues(header.subarray(8, 24));
  return header;
}

function parseHeader(header: Uint8Array): number {
  if (!MAGIC.every((b, i) => header[i] === b)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "these bytes are no private tessera (no TSRP header): is it a public one?",
    );
  }
  if (header[4] !== VERSION) {
    throw new TesserasError(
      "INVALID_INPUT",
      `private tessera format ${
        header[4]
      } is not known to this version of tesseras`,
    );
  }
  const exp = header[5];
  if (exp < MIN_EXP || exp > MAX_EXP || header[6] !== 0 || header[7] !== 0) {
    throw new TesserasError(
      "INVALID_INPUT",
      "the private tessera's header is malformed",
    );
  }
  return 2 ** exp;
}

function checkCommitment(keys: SegmentKeys, header: Uint8Array): void {
  if (!sameBytes(keys.commitment, header.subarray(24, 40))) {
    throw new TesserasError(
      "UNAUTHORIZED",
      "this key does not open this private tessera: the capability is for another tessera, or it was mistyped",
    );
  }
}

function segmentBytesOf(options: SegmentOptions): number {
  const seg = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const exp = Math.log2(seg);
  if (!Number.isInteger(exp) || exp < MIN_EXP || exp > MAX_EXP) {
    throw new TesserasError(
      "INVALID_INPUT",
      `segment size must be a power of two from 64 KiB to 1 MiB; got ${seg}`,
    );
  }
  return seg;
}

/** Segments sealed or opened at once: WebCrypto runs them in parallel. */
const IN_FLIGHT = 4;

/**
 * Segment operations in flight, handed on in the order they started (the
 * nonce of each was fixed when it started, so order is what matters). A
 * failure surfaces when its turn comes; later ones are then moot.
 */
class InOrder {
  readonly #pending: Promise<Uint8Array>[] = [];

  /** Start tracking `op`; hand on the oldest ones once too many run. */
  async add(
    op: Promise<Uint8Array>,
    controller: TransformStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    // Never an unhandled rejection: the error is raised by the await below.
    op.catch(() => {});
    this.#pending.push(op);
    while (this.#pending.length >= IN_FLIGHT) {
      controller.enqueue(await this.#pending.shift()!);
    }
  }

  /** Hand on every operation still running. */
  async drain(
    controller: TransformStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    while (this.#pending.length > 0) {
      controller.enqueue(await this.#pending.shift()!);
    }
  }
}

/**
 * Cuts a byte stream into pieces of `size`, holding the latest full piece
 * back until a byte after it arrives: only then is it known not to be the
 * last.
 */
class Segmenter {
  readonly #size: number;
  #buf: Uint8Array;
  #filled = 0;
  #leftover: Uint8Array = new Uint8Array(0);

  constructor(size: number) {
    this.#size = size;
    this.#buf = new Uint8Array(size);
  }

  /**
   * The full pieces known not to be last after `chunk`. With `final`, a
   * full piece is handed out at once (a header: what follows is not its
   * business) and what follows it is kept for {@linkcode leftover}.
   */
  push(chunk: Uint8Array, options: { final?: boolean } = {}): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#filled === this.#size) {
        out.push(this.#buf);
        this.#buf = new Uint8Array(this.#size);
        this.#filled = 0;
      }
      const n = Math.min(this.#size - this.#filled, chunk.length - at);
      this.#buf.set(chunk.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (options.final && this.#filled === this.#size) {
        this.#leftover = chunk.subarray(at);
        return [this.#buf];
      }
    }
    return out;
  }

  /** What followed the final piece in the chunk that completed it. */
  leftover(): Uint8Array {
    return this.#leftover;
  }

  /** The bytes held back: the last piece, possibly short or empty. */
  rest(): Uint8Array {
    return this.#buf.subarray(0, this.#filled);
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return concatBytes(await Array.fromAsync(stream));
}
