/**
 * The wire form of a verified fetch (docs/proofs.md): a header frame with
 * the shard's size, checksum and outboard, then the shard's bytes in
 * pieces of at most {@linkcode MAX_FETCH_PIECE} bytes, which the fetcher
 * feeds to a `ShardVerifier` as they arrive, so that a lying holder is
 * caught after one 8 KiB group instead of after the whole shard. Beside
 * `fetch.ts` (one frame with the whole shard), which it is to replace;
 * the handler and client are wired when retrieval uses it.
 *
 * @module
 */
import { isTesseraId, TesserasError } from "../../core/mod.ts";
import { ChunkTree } from "../../codec/mod.ts";
import type { Uint8ArrayList } from "uint8arraylist";
import {
  plainBytes,
  wireBytes,
  wireErrorCode,
  wireErrorMessage,
} from "./exchange.ts";
import { MAX_SHARD_BYTES } from "./limits.ts";
import { WireFetchPiece, WireVerifiedFetchHeader } from "./pb/prove.ts";

/** Largest shard bytes one piece frame carries. */
export const MAX_FETCH_PIECE = 64 * 1024;

/** Largest outboard of a legal shard: (2,731 groups - 1) x 64 bytes. */
export const MAX_OUTBOARD_BYTES: number =
  new ChunkTree(MAX_SHARD_BYTES).outboardBytes;

/** Largest header frame: the outboard and room for the fields. */
export const MAX_FETCH_HEADER_BYTES: number = MAX_OUTBOARD_BYTES + 4096;

/** A verified fetch's header, as the fetcher reads it. */
export interface VerifiedFetchHeader {
  /** The shard's size, bytes. */
  readonly size: number;
  /** Its checksum as the holder records it, hex (the fetcher checks
   * against its own record, not this). */
  readonly checksum: string;
  /** The shard's post-order outboard. */
  readonly outboard: Uint8Array;
}

/**
 * The header frame: the shard found, or an error.
 *
 * @example
 * ```ts
 * encodeVerifiedFetchHeader({ size: 400, checksum: "00".repeat(32), outboard: new Uint8Array(0) });
 * ```
 */
export function encodeVerifiedFetchHeader(
  header: VerifiedFetchHeader | {
    readonly error: { readonly code: string; readonly message: string };
  },
): Uint8Array {
  if ("error" in header) {
    return WireVerifiedFetchHeader.encode({
      found: false,
      size: 0,
      checksum: "",
      outboard: new Uint8Array(0),
      errorCode: header.error.code,
      errorMessage: header.error.message,
    });
  }
  return WireVerifiedFetchHeader.encode({
    found: true,
    size: header.size,
    checksum: header.checksum,
    outboard: wireBytes(header.outboard),
    errorCode: "",
    errorMessage: "",
  });
}

/**
 * The fetcher's parser of a header frame from `peer`: a found shard of a
 * legal size whose outboard has exactly the length that size implies.
 * Throws `PROTOCOL_ERROR` for a malformed frame, `NOT_FOUND` (or the
 * peer's code) when the peer has no such shard.
 *
 * @example
 * ```ts
 * declare const frame: Uint8Array;
 * const { size, outboard } = parseVerifiedFetchHeader(frame, "12D3KooW...");
 * ```
 */
export function parseVerifiedFetchHeader(
  frame: Uint8ArrayList | Uint8Array,
  peer: string,
): VerifiedFetchHeader {
  const bad = (why: string, cause?: unknown) =>
    new TesserasError(
      "PROTOCOL_ERROR",
      `verified fetch header from ${peer}: ${why}`,
      { cause },
    );
  if (frame.byteLength > MAX_FETCH_HEADER_BYTES) throw bad("too large");
  let wire: WireVerifiedFetchHeader;
  try {
    wire = WireVerifiedFetchHeader.decode(frame);
  } catch (cause) {
    throw bad("malformed", cause);
  }
  if (!wire.found) {
    throw new TesserasError(
      wire.errorCode === "" ? "NOT_FOUND" : wireErrorCode(wire.errorCode),
      `${peer} did not send the shard: ${
        wireErrorMessage(wire.errorMessage) || "not held"
      }`,
    );
  }
  const { size } = wire;
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SHARD_BYTES) {
    throw bad(`shard size ${size} is out of range`);
  }
  if (!isTesseraId(wire.checksum)) throw bad("malformed checksum");
  const want = new ChunkTree(size).outboardBytes;
  if (wire.outboard.length !== want) {
    throw bad(
      `outboard of ${wire.outboard.length} bytes; a ${size}-byte shard has ${want}`,
    );
  }
  return { size, checksum: wire.checksum, outboard: plainBytes(wire.outboard) };
}

/**
 * One piece frame of shard bytes.
 *
 * @example
 * ```ts
 * encodeFetchPiece(new Uint8Array(65536));
 * ```
 */
export function encodeFetchPiece(data: Uint8Array): Uint8Array {
  if (data.length > MAX_FETCH_PIECE) {
    throw new TesserasError(
      "INVALID_INPUT",
      `a fetch piece carries at most ${MAX_FETCH_PIECE} bytes, got ${data.length}`,
    );
  }
  return WireFetchPiece.encode({ data: wireBytes(data) });
}

/**
 * The fetcher's parser of a piece frame: its shard bytes, at most
 * {@linkcode MAX_FETCH_PIECE}. Throws `PROTOCOL_ERROR` otherwise.
 *
 * @example
 * ```ts
 * parseFetchPiece(encodeFetchPiece(new Uint8Array(3)), "p").length; // 3
 * ```
 */
export function parseFetchPiece(
  frame: Uint8ArrayList | Uint8Array,
  peer: string,
): Uint8Array {
  if (frame.byteLength > MAX_FETCH_PIECE + 16) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `fetch piece from ${peer} is too large`,
    );
  }
  try {
    const { data } = WireFetchPiece.decode(frame);
    if (data.length > MAX_FETCH_PIECE) throw new Error("piece too large");
    return plainBytes(data);
  } catch (cause) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `malformed fetch piece from ${peer}`,
      { cause },
    );
  }
}
