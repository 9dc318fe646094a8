/**
 * `/tesseras/fetch/1.0.0`: a tessera id and a shard index in, the shard's
 * bytes (or an error such as `NOT_FOUND`) out. Used for retrieval and
 * repair.
 *
 * @module
 */
import {
  type ErrorCode,
  type InboundHandlers,
  isTesseraId,
  type PeerInfo,
  type ShardRef,
  TesserasError,
} from "../../core/mod.ts";
import type { Libp2p } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";
import type { NetMetrics } from "../metrics.ts";
import {
  ConcurrencyGate,
  type InboundSpec,
  plainBytes,
  requestResponse,
  wireErrorCode,
  wireErrorMessage,
  withBytesField,
} from "./exchange.ts";
import {
  FETCH_PROTOCOL,
  MAX_SHARD_BYTES,
  MAX_SHARD_COUNT,
  type ProtocolLimits,
} from "./limits.ts";
import { WireFetchRequest, WireFetchResponse } from "./pb/fetch.ts";

/**
 * Throws `INVALID_ID` or `INVALID_INPUT` unless `shard` names a valid
 * tessera and an index below {@linkcode MAX_SHARD_COUNT}.
 *
 * @example
 * ```ts
 * validateShardRef({ tesseraId: "00".repeat(32), index: 3 });
 * ```
 */
export function validateShardRef(shard: ShardRef): void {
  if (!isTesseraId(shard.tesseraId)) {
    throw new TesserasError(
      "INVALID_ID",
      "fetch request has an invalid tessera id: expected 64 lowercase hex characters",
    );
  }
  if (
    !Number.isSafeInteger(shard.index) || shard.index < 0 ||
    shard.index >= MAX_SHARD_COUNT
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `shard index ${shard.index} is out of range 0..${MAX_SHARD_COUNT - 1}`,
    );
  }
}

/** Internal: a fetch request frame, validated (both fetch protocols). */
export function requestFromWire(frame: Uint8ArrayList): ShardRef {
  let wire: WireFetchRequest;
  try {
    wire = WireFetchRequest.decode(frame);
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", "malformed fetch request", {
      cause,
    });
  }
  const shard = { tesseraId: wire.tesseraId, index: wire.index };
  validateShardRef(shard);
  return shard;
}

function errorResponse(code: ErrorCode, message: string): Uint8Array {
  return WireFetchResponse.encode({
    found: false,
    data: new Uint8Array(0),
    errorCode: code,
    errorMessage: message,
  });
}

/** What the fetch handler needs from the node. */
export interface FetchServerContext {
  /** Where requests go; undefined while the node is wiring up. */
  handlers(): InboundHandlers | undefined;
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
}

/**
 * Internal: the bytes of a shard we hold for `from`, as both fetch
 * protocols serve it: `NOT_RUNNING` while the node wires up, `NOT_FOUND`
 * when not held, `TOO_LARGE` for a stored shard above the wire limit.
 */
export async function heldShard(
  ctx: FetchServerContext,
  ask: { readonly shard: ShardRef; readonly from: PeerInfo },
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const { shard, from } = ask;
  const data = await runningHandlers(ctx).onFetch(shard, from, { signal });
  assertServable(shard, data);
  return data;
}

/** Internal: the node's handlers, or `NOT_RUNNING` while it wires up. */
export function runningHandlers(ctx: FetchServerContext): InboundHandlers {
  const handlers = ctx.handlers();
  if (handlers === undefined) {
    throw new TesserasError("NOT_RUNNING", "node is starting; retry later");
  }
  return handlers;
}

/**
 * Internal: `NOT_FOUND` when a shard is not held (`data` null),
 * `TOO_LARGE` when it is above the wire limit.
 */
export function assertServable(
  shard: ShardRef,
  data: Uint8Array | null,
): asserts data is Uint8Array {
  if (data === null) {
    throw new TesserasError(
      "NOT_FOUND",
      `shard ${shard.index} of ${shard.tesseraId} is not held here`,
    );
  }
  if (data.length > MAX_SHARD_BYTES) {
    throw new TesserasError(
      "TOO_LARGE",
      `stored shard is ${data.length} bytes, over the ${MAX_SHARD_BYTES}-byte limit`,
    );
  }
}

/** The server side of `/tesseras/fetch/1.0.0`. */
export function fetchSpec(ctx: FetchServerContext): InboundSpec<ShardRef> {
  return heldShardSpec(ctx, {
    reply(data) {
      // The shard's bytes go out as they lie (field 2 is the last one a
      // found answer carries).
      const head = WireFetchResponse.encode({
        found: true,
        data: new Uint8Array(0),
        errorCode: "",
        errorMessage: "",
      });
      return withBytesField(head, 2, data);
    },
    errorReply: errorResponse,
  });
}

/** How a fetch server version answers once it has the held shard. */
export interface HeldShardAnswer {
  /** The encoded reply carrying the shard's bytes (or its frames). */
  reply(data: Uint8Array): Uint8Array | Uint8ArrayList | readonly Uint8Array[];
  /** The encoded error reply for `code`. */
  errorReply(code: ErrorCode, message: string): Uint8Array;
}

/**
 * Internal: the server side both fetch versions share (the same request,
 * limits, gate and {@linkcode heldShard}); only the answer's encoding
 * differs.
 *
 * @example
 * ```ts
 * import type { InboundHandlers } from "../../core/mod.ts";
 * import { netLimits } from "./limits.ts";
 * declare const service: InboundHandlers;
 * declare const answer: HeldShardAnswer;
 * const spec = heldShardSpec({ handlers: () => service, limits: netLimits().fetch }, answer);
 * ```
 */
export function heldShardSpec(
  ctx: FetchServerContext,
  answer: HeldShardAnswer,
): InboundSpec<ShardRef> {
  return {
    name: "fetch",
    limits: ctx.limits,
    gate: new ConcurrencyGate(ctx.limits.maxConcurrent),
    parse: requestFromWire,
    async handle(shard, from, signal) {
      return answer.reply(await heldShard(ctx, { shard, from }, signal));
    },
    errorReply: answer.errorReply,
  };
}

/** Options of {@linkcode sendFetch}. */
export interface SendFetchOptions {
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
  /** Counters. */
  readonly metrics: NetMetrics;
  /** Cancellation. */
  readonly signal?: AbortSignal;
}

/**
 * Fetch one shard from `peer`. Rejects `NOT_FOUND` when the peer does not
 * hold it, with the peer's other error codes, or with a transport error.
 * The bytes are not verified here: the caller checks them against the
 * shard's checksum.
 */
export async function sendFetch(
  libp2p: Libp2p,
  peer: string,
  shard: ShardRef,
  options: SendFetchOptions,
): Promise<Uint8Array> {
  validateShardRef(shard);
  const frame = await requestResponse(
    libp2p,
    peer,
    FETCH_PROTOCOL,
    WireFetchRequest.encode({ tesseraId: shard.tesseraId, index: shard.index }),
    { ...options, name: "fetch" },
  );
  try {
    let wire: WireFetchResponse;
    try {
      wire = WireFetchResponse.decode(frame);
    } catch (cause) {
      throw new TesserasError(
        "PROTOCOL_ERROR",
        `malformed fetch response from ${peer}`,
        { cause },
      );
    }
    if (!wire.found) {
      throw new TesserasError(
        wire.errorCode === ""
          ? "PROTOCOL_ERROR"
          : wireErrorCode(wire.errorCode),
        `${peer} could not serve shard ${shard.index} of ${shard.tesseraId}: ${
          wireErrorMessage(wire.errorMessage) || "no reason given"
        }`,
      );
    }
    return plainBytes(wire.data);
  } catch (err) {
    // NOT_FOUND is an answer, not a failure of the exchange.
    if (!(err instanceof TesserasError && err.code === "NOT_FOUND")) {
      options.metrics.count("fetch", "outboundErrors");
    }
    throw err;
  }
}
