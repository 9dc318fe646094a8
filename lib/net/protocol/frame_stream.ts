/**
 * A length-prefixed request frame read as it arrives, for a protocol
 * whose frames are too large to buffer whole (a replicate frame carries a
 * shard of up to 22 MiB): the length prefix first, then the frame's bytes
 * in pieces, small fields whole. Writes length-prefixed replies like
 * `lpStream`. The errors carry lpStream's names, so the server side maps
 * them to the same replies (`TOO_LARGE`, `PROTOCOL_ERROR`, `TIMEOUT`).
 *
 * @module
 */
import type { Stream } from "@libp2p/interface";
import { type ByteStream, byteStream } from "@libp2p/utils";
import { Uint8ArrayList } from "uint8arraylist";
import { TesserasError } from "../../core/mod.ts";

/** A frame longer than allowed (named as lpStream names it). */
class FrameTooLongError extends Error {
  override name = "InvalidDataLengthError";
}

/** A frame whose own fields overrun it: malformed content, as a decoder says. */
function overrun(message: string): TesserasError {
  return new TesserasError("INVALID_INPUT", `malformed frame: ${message}`);
}

/** Most bytes a varint of a frame length or a protobuf field may take. */
const MAX_VARINT_BYTES = 10;

/** Bytes read per piece at most, when none are buffered yet. */
const PIECE_BYTES = 256 * 1024;

/**
 * One inbound frame, read incrementally.
 *
 * @example
 * ```ts
 * import type { Stream } from "@libp2p/interface";
 * declare const stream: Stream;
 * declare const signal: AbortSignal;
 * const frame = new FrameStream(stream, 32 * 1024 * 1024);
 * await frame.begin(signal); // the frame's length
 * for await (const piece of frame.pieces(frame.left, signal)) piece.length;
 * ```
 */
export class FrameStream {
  readonly #bytes: ByteStream<Stream>;
  readonly #max: number;
  #left = 0;

  /**
   * @param stream the inbound stream
   * @param maxFrameBytes the largest frame accepted (after its prefix)
   */
  constructor(stream: Stream, maxFrameBytes: number) {
    this.#max = maxFrameBytes;
    this.#bytes = byteStream(stream, {
      maxBufferSize: maxFrameBytes + MAX_VARINT_BYTES,
    });
  }

  /** Bytes of the frame not read yet. */
  get left(): number {
    return this.#left;
  }

  /** Reads the length prefix; returns the frame's length. */
  async begin(signal: AbortSignal): Promise<number> {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = (await this.#bytes.read({ bytes: 1, signal })).get(0);
      value += (byte & 0x7f) * scale;
      if (value > this.#max) {
        throw new FrameTooLongError(
          `frame of ${value}+ bytes exceeds ${this.#max}`,
        );
      }
      if (byte < 0x80) return this.#left = value;
      scale *= 128;
    }
    throw new FrameTooLongError("length prefix too long");
  }

  /** Exactly `n` bytes of the frame (small fields). */
  async take(n: number, signal: AbortSignal): Promise<Uint8ArrayList> {
    this.#claim(n);
    if (n === 0) return new Uint8ArrayList();
    return await this.#bytes.read({ bytes: n, signal });
  }

  /** One varint of the frame, as its value and its bytes. */
  async varint(
    signal: AbortSignal,
  ): Promise<{ value: number; raw: Uint8Array }> {
    const raw = new Uint8Array(MAX_VARINT_BYTES);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = (await this.take(1, signal)).get(0);
      raw[i] = byte;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return { value, raw: raw.subarray(0, i + 1) };
      scale *= 128;
    }
    throw overrun("varint longer than 10 bytes");
  }

  /** The frame's next `n` bytes in pieces, as they arrive. */
  async *pieces(n: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    this.#claim(n);
    let left = n;
    while (left > 0) {
      const buffered = this.#buffered();
      const want = Math.min(left, buffered > 0 ? buffered : PIECE_BYTES);
      const list = await this.#bytes.read({ bytes: want, signal });
      left -= list.byteLength;
      for (const piece of list) yield piece;
    }
  }

  /**
   * Reads and drops the rest of the frame: a request found malformed
   * part-way is answered only once it is whole, so a truncated one still
   * reads as truncated (the stream's end rejects here).
   */
  async drain(signal: AbortSignal): Promise<void> {
    for await (const _ of this.pieces(this.#left, signal)) {
      // dropped
    }
  }

  /** Writes one length-prefixed reply frame. */
  async write(
    data: Uint8Array | Uint8ArrayList,
    options?: { signal?: AbortSignal },
  ): Promise<void> {
    const prefix = new Uint8Array(MAX_VARINT_BYTES);
    let n = data.byteLength;
    let at = 0;
    while (n >= 128) {
      prefix[at++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    prefix[at++] = n;
    await this.#bytes.write(
      new Uint8ArrayList(prefix.subarray(0, at), data),
      options,
    );
  }

  /** Stops reading: unread bytes go back to the stream. */
  unwrap(): Stream {
    return this.#bytes.unwrap();
  }

  /** Bytes already received and not read (byteStream's own buffer). */
  #buffered(): number {
    const own = this.#bytes as unknown as { readBuffer?: Uint8ArrayList };
    return own.readBuffer?.byteLength ?? 0;
  }

  #claim(n: number): void {
    if (n > this.#left) {
      throw overrun(
        `a field of ${n} bytes overruns its frame (${this.#left} left)`,
      );
    }
    this.#left -= n;
  }
}
