/**
 * The wire form of a verified fetch (docs/proofs.md): a header frame with
 * the shard's size, checksum and outboard, then the shard's bytes in
 * pieces of at most {@linkcode MAX_FETCH_PIECE} bytes, which the fetcher
 * feeds to a `ShardVerifier` as they arrive, so that a lying holder is
 * caught after one 8 KiB group instead of after the whole shard: the
 * fetcher stops reading and resets the stream, and its caller asks the
 * next holder. `/tesseras/fetch/2.0.0` ({@linkcode verifiedFetchSpec},
 * {@linkcode sendVerifiedFetch}), used whenever the fetcher knows the
 * shard's checksum (retrieval and repair always do); `fetch.ts` (one
 * frame with the whole shard) stays for a fetch without one.
 *
 * @module
 */
import {
  type Checksum,
  fromHex,
  isTesseraId,
  type ServedShard,
  type ShardRef,
  TesserasError,
  toHex,
} from "../../core/mod.ts";
import { ChunkTree, outboardOf, ShardVerifier } from "../../codec/mod.ts";
import type { Libp2p } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";
import type { NetMetrics } from "../metrics.ts";
import {
  ConcurrencyGate,
  type InboundSpec,
  plainBytes,
  requestReading,
  wireBytes,
  wireErrorCode,
  wireErrorMessage,
  withBytesField,
} from "./exchange.ts";
import type { FetchServerContext } from "./fetch.ts";
import {
  assertServable,
  heldShard,
  requestFromWire,
  runningHandlers,
  validateShardRef,
} from "./fetch.ts";
import {
  MAX_SHARD_BYTES,
  type ProtocolLimits,
  VERIFIED_FETCH_PROTOCOL,
} from "./limits.ts";
import { WireFetchRequest } from "./pb/fetch.ts";
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

/**
 * The server side of `/tesseras/fetch/2.0.0`: the shard's header (size,
 * checksum, outboard) and its bytes in pieces. The outboard is the one
 * stored with the shard (`onVerifiedFetch`), read, not rebuilt: building
 * it from the bytes served costs one BLAKE3 pass over the shard per
 * fetch. Handlers without `onVerifiedFetch` get it built from the bytes.
 *
 * @example
 * ```ts
 * import type { InboundHandlers } from "../../core/mod.ts";
 * import { netLimits } from "./limits.ts";
 * declare const service: InboundHandlers;
 * const spec = verifiedFetchSpec({ handlers: () => service, limits: netLimits().fetch });
 * ```
 */
export function verifiedFetchSpec(
  ctx: FetchServerContext,
): InboundSpec<ShardRef> {
  return {
    name: "fetch",
    limits: ctx.limits,
    gate: new ConcurrencyGate(ctx.limits.maxConcurrent),
    parse: requestFromWire,
    async handle(shard, from, signal) {
      const handlers = runningHandlers(ctx);
      if (handlers.onVerifiedFetch === undefined) {
        const data = await heldShard(ctx, { shard, from }, signal);
        const built = outboardOf(data);
        return servedFrames({
          data,
          outboard: built.outboard,
          checksum: toHex(built.root),
        });
      }
      const served = await handlers.onVerifiedFetch(shard, from, { signal });
      assertServable(shard, served?.data ?? null);
      return servedFrames(served!);
    },
    errorReply: (code, message) =>
      encodeVerifiedFetchHeader({ error: { code, message } }),
  };
}

/**
 * The header and piece frames of a served shard. A piece is framed from
 * where its bytes lie (`withBytesField`: byte for byte what
 * {@linkcode encodeFetchPiece} writes), not copied into a frame of its own.
 */
function servedFrames(
  served: ServedShard,
): (Uint8Array | Uint8ArrayList)[] {
  const { data } = served;
  const frames: (Uint8Array | Uint8ArrayList)[] = [
    encodeVerifiedFetchHeader({
      size: data.length,
      checksum: served.checksum,
      outboard: served.outboard,
    }),
  ];
  for (let at = 0; at < data.length; at += MAX_FETCH_PIECE) {
    const piece = data.subarray(at, at + MAX_FETCH_PIECE);
    frames.push(withBytesField(NO_FIELDS, PIECE_DATA_FIELD, piece));
  }
  return frames;
}

/** A message with no field set (encodes to no bytes). */
const NO_FIELDS = new Uint8Array(0);

/** `WireFetchPiece.data`'s field number. */
const PIECE_DATA_FIELD = 1;

/** The key of `WireFetchPiece.data` (field 1, length-delimited). */
const PIECE_DATA_KEY = PIECE_DATA_FIELD * 8 + 2;

/** Options of {@linkcode sendVerifiedFetch}. */
export interface SendVerifiedFetchOptions {
  /** The shard's checksum on our own record: what the bytes must hash to. */
  readonly checksum: Checksum;
  /** Its size when we know it (the plan's): a header saying otherwise is refused. */
  readonly size?: number;
  /** Limits of the fetch protocol (time); frames are limited here. */
  readonly limits: ProtocolLimits;
  /** Counters. */
  readonly metrics: NetMetrics;
  /** Cancellation. */
  readonly signal?: AbortSignal;
  /** Called with the shard bytes received so far as each piece arrives. */
  readonly onPiece?: (received: number) => void;
}

/**
 * Fetch one shard from `peer`, checked group by group against
 * `options.checksum` as it arrives. A holder that sends a bad outboard,
 * a bad group, or too few or too many bytes is refused at once with
 * `CHECKSUM_MISMATCH` (the stream is reset: nothing more is read), so the
 * caller asks the next holder after at most one group past the lie.
 * Rejects `NOT_FOUND` when the peer does not hold it, or as
 * `requestResponse` does.
 *
 * @example
 * ```ts
 * import type { Libp2p } from "@libp2p/interface";
 * import type { NetMetrics } from "../metrics.ts";
 * import { netLimits } from "./limits.ts";
 * declare const libp2p: Libp2p;
 * declare const metrics: NetMetrics;
 * const bytes = await sendVerifiedFetch(libp2p, "12D3KooW...", {
 *   tesseraId: "ab".repeat(32), index: 0,
 * }, { checksum: "cd".repeat(32), limits: netLimits().fetch, metrics });
 * ```
 */
export function sendVerifiedFetch(
  libp2p: Libp2p,
  peer: string,
  shard: ShardRef,
  options: SendVerifiedFetchOptions,
): Promise<Uint8Array> {
  validateShardRef(shard);
  return requestReading(libp2p, {
    peer,
    protocol: VERIFIED_FETCH_PROTOCOL,
    request: WireFetchRequest.encode({
      tesseraId: shard.tesseraId,
      index: shard.index,
    }),
  }, {
    name: "fetch",
    limits: { ...options.limits, maxResponseBytes: MAX_FETCH_HEADER_BYTES },
    // The whole shard may be in flight before we take it (as the one-frame
    // fetch allows): frames are small, the stream is not.
    maxBufferBytes: options.limits.maxResponseBytes,
    metrics: options.metrics,
    signal: options.signal,
    read: (next) => readVerified(next, { peer, shard, options }),
  });
}

/** Read the header and pieces, verified as they come. */
async function readVerified(
  next: () => Promise<Uint8ArrayList>,
  from: {
    peer: string;
    shard: ShardRef;
    options: SendVerifiedFetchOptions;
  },
): Promise<Uint8Array> {
  const { peer, shard, options } = from;
  const header = parseVerifiedFetchHeader(await next(), peer);
  const lie = (why: string) =>
    new TesserasError(
      "CHECKSUM_MISMATCH",
      `shard ${shard.index} of ${shard.tesseraId} from ${peer}: ${why}`,
    );
  if (options.size !== undefined && header.size !== options.size) {
    throw lie(`${header.size} bytes announced, the plan says ${options.size}`);
  }
  const verifier = new ShardVerifier({
    size: header.size,
    checksum: fromHex(options.checksum),
  });
  // Each piece is copied once, into place, and its groups checked there.
  const out = new Uint8Array(header.size);
  try {
    if (verifier.push(header.outboard).length > 0) {
      throw lie("shard bytes inside the outboard");
    }
    let received = 0;
    while (received < header.size) {
      const piece = pieceData(await next(), peer);
      const length = piece.byteLength;
      if (length === 0 || received + length > header.size) {
        throw lie("more bytes than announced, or an empty piece");
      }
      placeInto(piece, out, received);
      received += length;
      options.onPiece?.(received);
      verifier.placed(out, received);
    }
    verifier.finish();
  } catch (err) {
    // The verifier's refusals are the holder's lie; anything else (the
    // stream, a malformed frame) keeps its own code.
    const refused = err instanceof TesserasError &&
      (err.code === "CHECKSUM_MISMATCH" || err.code === "ATTESTATION_FAILED");
    throw refused ? lie(err.message) : err;
  }
  const got = verifier.verified;
  if (got !== header.size) throw lie(`${got} bytes verified of ${header.size}`);
  return out;
}

/**
 * The shard bytes a piece frame carries, as {@linkcode parseFetchPiece}
 * finds them (and throwing as it does), but taken where they lie in the
 * frame when it is the one field it always is: the piece is not joined
 * into one buffer first.
 */
function pieceData(
  frame: Uint8ArrayList,
  peer: string,
): Uint8Array | Uint8ArrayList {
  const start = canonicalPieceStart(frame);
  return start > 0 ? frame.sublist(start) : parseFetchPiece(frame, peer);
}

/**
 * Where the data of `frame` starts when the frame is exactly
 * `WireFetchPiece.data` (its key, a length of at most 3 varint bytes, the
 * bytes, nothing else) within the limit; -1 for any other form, which is
 * left to the decoder.
 */
function canonicalPieceStart(frame: Uint8ArrayList): number {
  const total = frame.byteLength;
  if (total < 2 || total > MAX_FETCH_PIECE + 16) return -1;
  if (frame.get(0) !== PIECE_DATA_KEY) return -1;
  let length = 0;
  for (let i = 1; i <= 3 && i < total; i++) {
    const byte = frame.get(i);
    length += (byte & 0x7f) * 128 ** (i - 1);
    if (byte < 0x80) {
      const exact = i + 1 + length === total && length <= MAX_FETCH_PIECE;
      return exact ? i + 1 : -1;
    }
  }
  return -1;
}

/** Copy `bytes` into `out` at `at`. */
function placeInto(
  bytes: Uint8Array | Uint8ArrayList,
  out: Uint8Array,
  at: number,
): void {
  if (bytes instanceof Uint8Array) return out.set(bytes, at);
  for (const chunk of bytes) {
    out.set(chunk, at);
    at += chunk.length;
  }
}
