/**
 * What the attest and prove exchanges share: the request (a tessera, a
 * nonce, the shards asked, attest's listing flag) as it is framed and
 * checked, and the checks of an answer's envelope (tessera, holder, nonce,
 * time, no shard twice).
 * Each protocol keeps its own messages; the rules are written once.
 *
 * @module
 */
import {
  type AttestRequest,
  type InboundHandlers,
  TesserasError,
} from "../../core/mod.ts";
import { bytesEqual } from "../../codec/mod.ts";
import type { Uint8ArrayList } from "uint8arraylist";
import {
  plainBytes,
  wireBytes,
  wireErrorCode,
  wireErrorMessage,
} from "./exchange.ts";
import type { NetMetrics } from "../metrics.ts";
import { MAX_SHARD_COUNT, type ProtocolLimits } from "./limits.ts";

/** A request message as protons encodes it. */
interface WireChallenge {
  tesseraId: string;
  nonce: Uint8Array<ArrayBuffer>;
  indices: number[];
  /** Attest only (field 4): a listing; prove's request has no such field. */
  listing?: boolean;
}

/** The encode/decode pair protons generates for a request message. */
export interface ChallengeCodec {
  encode(message: WireChallenge): Uint8Array;
  decode(
    frame: Uint8ArrayList,
    options: { limits: { indices: number } },
  ): WireChallenge;
}

/**
 * The request's frame in `codec` (check it first: the sender's own
 * request is validated before it goes out).
 *
 * @example
 * ```ts ignore
 * const frame = encodeChallenge(WireAttestRequest, request);
 * ```
 */
export function encodeChallenge(
  codec: ChallengeCodec,
  request: AttestRequest,
): Uint8Array {
  return codec.encode({
    tesseraId: request.tesseraId,
    nonce: wireBytes(request.nonce),
    indices: [...(request.indices ?? [])],
    ...(request.listing === true ? { listing: true } : {}),
  });
}

/**
 * The request in `frame`, decoded with `codec` and checked by `on.check`;
 * `INVALID_INPUT` naming `on.what` when it does not decode.
 *
 * @example
 * ```ts ignore
 * const request = decodeChallenge(WireAttestRequest, frame, {
 *   what: "attest",
 *   check: validateAttestRequest,
 * });
 * ```
 */
export function decodeChallenge(
  codec: ChallengeCodec,
  frame: Uint8ArrayList,
  on: { readonly what: string; readonly check: (r: AttestRequest) => void },
): AttestRequest {
  let wire: WireChallenge;
  try {
    wire = codec.decode(frame, { limits: { indices: MAX_SHARD_COUNT } });
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", `malformed ${on.what} request`, {
      cause,
    });
  }
  const request: AttestRequest = {
    tesseraId: wire.tesseraId,
    nonce: plainBytes(wire.nonce),
    indices: wire.indices,
    ...(wire.listing === true ? { listing: true } : {}),
  };
  on.check(request);
  return request;
}

/**
 * Throws the error a reply carries, or `PROTOCOL_ERROR` when it carries
 * neither an error nor its `body` (`"what"`: "attest" says "did not
 * attest", the body's name "no attestation in the reply").
 *
 * @example
 * ```ts ignore
 * throwReplyError(wire, { peer, did: "attest", body: "attestation", present: wire.attestation !== undefined });
 * ```
 */
export function throwReplyError(
  wire: { readonly errorCode: string; readonly errorMessage: string },
  reply: {
    readonly peer: string;
    readonly did: string;
    readonly body: string;
    readonly present: boolean;
  },
): void {
  if (wire.errorCode === "" && reply.present) return;
  throw new TesserasError(
    wire.errorCode === "" ? "PROTOCOL_ERROR" : wireErrorCode(wire.errorCode),
    `${reply.peer} did not ${reply.did}: ${
      wireErrorMessage(wire.errorMessage) || `no ${reply.body} in the reply`
    }`,
  );
}

/**
 * Throws `fail(why)` unless the answer is of the tessera asked, names the
 * peer asked as its holder, answers our nonce, bears a valid time and
 * lists no shard twice.
 *
 * @example
 * ```ts ignore
 * checkEnvelope(answer, { request, peer, indices, fail });
 * ```
 */
export function checkEnvelope(
  answer: {
    readonly tesseraId: string;
    readonly holder: string;
    readonly nonce: Uint8Array;
    readonly timestamp: number;
  },
  from: {
    readonly request: AttestRequest;
    readonly peer: string;
    readonly indices: readonly number[];
    readonly fail: (why: string) => Error;
  },
): void {
  const { request, peer, indices, fail } = from;
  if (answer.tesseraId !== request.tesseraId) {
    throw fail("it is for another tessera");
  }
  if (answer.holder !== peer) throw fail("it names another holder");
  if (!bytesEqual(answer.nonce, request.nonce)) {
    throw fail("it does not answer our nonce (replayed or forged)");
  }
  if (!Number.isSafeInteger(answer.timestamp) || answer.timestamp < 0) {
    throw fail("invalid timestamp");
  }
  if (new Set(indices).size !== indices.length) {
    throw fail("it lists a shard twice");
  }
}

/**
 * The node's handlers, or `NOT_RUNNING` while it is wiring up.
 *
 * @example
 * ```ts ignore
 * const handlers = handlersOrRetry(ctx.handlers());
 * ```
 */
export function handlersOrRetry(
  handlers: InboundHandlers | undefined,
): InboundHandlers {
  if (handlers === undefined) {
    throw new TesserasError("NOT_RUNNING", "node is starting; retry later");
  }
  return handlers;
}

/** What the attest or prove handler needs from the node. */
export interface ChallengeServerContext {
  /** Where requests go; undefined while the node is wiring up. */
  handlers(): InboundHandlers | undefined;
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
}

/** Options of sending an attest or prove request. */
export interface SendChallengeOptions {
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
  /** Counters. */
  readonly metrics: NetMetrics;
  /** Cancellation. */
  readonly signal?: AbortSignal;
}
