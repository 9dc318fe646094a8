/**
 * `/tesseras/prove/1.0.0`, the wire form of chunk-proof challenges
 * (docs/proofs.md): the requester sends a fresh 32-byte nonce; the holder
 * answers, signed, with the sampled 8 KiB groups of each shard it holds
 * and their sibling paths; anyone who knows the shards' checksums checks
 * the answer, without the shard bytes. Beside `attest.ts` (the keyed
 * whole-shard proof), which it is to replace; the handler and client are
 * wired when replication uses it.
 *
 * The signature reuses the attestation's signed bytes: each entry's
 * `proof` is the BLAKE3 digest of that shard's proofs (domain-tagged,
 * every field length-prefixed), so the signature covers every byte sent
 * and a keyed-proof attestation can never pass for a chunk answer or the
 * reverse.
 *
 * @module
 */
import {
  assertNotListing,
  type AttestRequest,
  type ErrorCode,
  type ProofAnswer,
  type ShardProofs,
  TesserasError,
} from "../../core/mod.ts";
import {
  GROUP_BYTES,
  judgeProofs,
  type KnownShard,
  proofAnswerSigningBytes,
  SAMPLE_COUNT,
  shardProofsDigest,
  type ShardVerdict,
} from "../../codec/mod.ts";
import type { Uint8ArrayList } from "uint8arraylist";
import { verifyPeerSignature } from "../identity.ts";
import { validateAttestRequest } from "./attest.ts";
import {
  type ChallengeServerContext,
  checkEnvelope,
  decodeChallenge,
  encodeChallenge,
  handlersOrRetry,
  type SendChallengeOptions,
  throwReplyError,
} from "./challenge.ts";
import {
  ConcurrencyGate,
  type InboundSpec,
  plainBytes,
  requestResponse,
  wireBytes,
} from "./exchange.ts";
import type { Libp2p } from "@libp2p/interface";
import { MAX_SHARD_COUNT, PROVE_PROTOCOL } from "./limits.ts";
import {
  type WireProofAnswer,
  WireProveRequest,
  WireProveResponse,
} from "./pb/prove.ts";

export type { ProofAnswer, ShardProofs };
export { judgeProofs, type KnownShard, type ShardVerdict };
export { proofAnswerSigningBytes, shardProofsDigest };
export { PROVE_PROTOCOL };

/** Length of a challenge nonce, bytes. */
export const PROVE_NONCE_BYTES = 32;

/** Deepest sibling path a legal shard has (2,731 groups: 12 levels). */
const MAX_DEPTH = 32;

/**
 * Largest answer: every shard of a Large tessera (72) with 20 groups of
 * 8 KiB and their paths, and room for the fields: about 12.3 MiB.
 */
export const MAX_PROVE_RESPONSE_BYTES: number = MAX_SHARD_COUNT *
    SAMPLE_COUNT * (GROUP_BYTES + MAX_DEPTH * 32 + 32) + 64 * 1024;

/**
 * A challenge: the tessera, a fresh 32-byte nonce, the shards asked
 * (empty or absent: every shard the holder keeps). The same shape as an
 * attest request.
 */
export type ProveRequest = AttestRequest;

/**
 * Throws `INVALID_ID`/`INVALID_INPUT` unless the request names a valid
 * tessera, carries a 32-byte nonce and distinct in-range indices (the
 * same rules as an attest request's) and is not a listing.
 *
 * @example
 * ```ts
 * validateProveRequest({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * ```
 */
export function validateProveRequest(request: ProveRequest): void {
  validateAttestRequest(request);
  assertNotListing(request);
}

/**
 * The request's frame.
 *
 * @example
 * ```ts
 * encodeProveRequest({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * ```
 */
export function encodeProveRequest(request: ProveRequest): Uint8Array {
  validateProveRequest(request);
  return encodeChallenge(WireProveRequest, request);
}

/**
 * The server's parser: decode and validate a request frame. Throws an
 * input `TesserasError` on anything malformed.
 *
 * @example
 * ```ts
 * import { Uint8ArrayList } from "uint8arraylist";
 * const frame = encodeProveRequest({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * parseProveRequest(new Uint8ArrayList(frame)).nonce.length; // 32
 * ```
 */
export function parseProveRequest(frame: Uint8ArrayList): ProveRequest {
  return decodeChallenge(WireProveRequest, frame, {
    what: "prove",
    check: validateProveRequest,
  });
}

function answerToWire(a: ProofAnswer): WireProofAnswer {
  return {
    tesseraId: a.tesseraId,
    holder: a.holder,
    nonce: wireBytes(a.nonce),
    shards: a.shards.map((s) => ({
      index: s.index,
      checksum: s.checksum,
      size: s.size,
      groups: s.groups.map((g) => ({
        group: g.group,
        data: wireBytes(g.bytes),
        siblings: wireBytes(g.siblings),
      })),
    })),
    timestamp: a.timestamp,
    signature: wireBytes(a.signature),
  };
}

/**
 * A response frame: the answer, or an error code and message.
 *
 * @example
 * ```ts
 * encodeProveResponse({ error: { code: "NOT_FOUND", message: "no shard held" } });
 * ```
 */
export function encodeProveResponse(
  reply: { readonly answer: ProofAnswer } | {
    readonly error: { readonly code: ErrorCode; readonly message: string };
  },
): Uint8Array {
  if ("answer" in reply) {
    return WireProveResponse.encode({
      answer: answerToWire(reply.answer),
      errorCode: "",
      errorMessage: "",
    });
  }
  return WireProveResponse.encode({
    errorCode: reply.error.code,
    errorMessage: reply.error.message,
  });
}

/**
 * The client's parser: decode a response frame from `peer` into its
 * answer, within the limits (at most 72 shards of 20 groups of 8 KiB,
 * 32 levels of siblings). Throws `PROTOCOL_ERROR` for a malformed or
 * oversize frame, the peer's own code for an error reply.
 *
 * @example
 * ```ts
 * declare const frame: Uint8Array;
 * const answer = parseProveResponse(frame, "12D3KooW...");
 * ```
 */
export function parseProveResponse(
  frame: Uint8ArrayList | Uint8Array,
  peer: string,
): ProofAnswer {
  if (frame.byteLength > MAX_PROVE_RESPONSE_BYTES) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `prove response from ${peer} is too large`,
    );
  }
  let wire: WireProveResponse;
  try {
    wire = WireProveResponse.decode(frame, {
      limits: {
        answer: { shards: MAX_SHARD_COUNT, shards$: { groups: SAMPLE_COUNT } },
      },
    });
  } catch (cause) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `malformed prove response from ${peer}`,
      { cause },
    );
  }
  throwReplyError(wire, {
    peer,
    did: "prove",
    body: "answer",
    present: wire.answer !== undefined,
  });
  const w = wire.answer!;
  return {
    tesseraId: w.tesseraId,
    holder: w.holder,
    nonce: plainBytes(w.nonce),
    shards: w.shards.map((s) => ({
      index: s.index,
      checksum: s.checksum,
      size: s.size,
      groups: s.groups.map((g) => ({
        group: g.group,
        bytes: plainBytes(g.data),
        siblings: plainBytes(g.siblings),
      })),
    })),
    timestamp: w.timestamp,
    signature: plainBytes(w.signature),
  };
}

/**
 * Check a holder's answer to `request`: the envelope first (same tessera
 * and nonce, the holder is `peer`, a valid signature), which throws
 * `ATTESTATION_FAILED` when wrong; then each shard's proofs against what
 * the requester knows (`known`, by index: checksum and size), from the
 * checksum alone, with the groups the nonce, holder, tessera and index
 * sample. Returns one verdict per shard answered; a shard the requester
 * does not know, or whose checksum or size differs, fails by name.
 *
 * @example
 * ```ts
 * import type { ProofAnswer } from "../../core/mod.ts";
 * declare const answer: ProofAnswer;
 * declare const request: ProveRequest;
 * declare const peer: string;
 * declare const known: ReadonlyMap<number, KnownShard>;
 * const verdicts = await checkProofAnswer(answer, { request, peer, known });
 * const lying = verdicts.filter((v) => !v.ok);
 * ```
 */
export async function checkProofAnswer(
  answer: ProofAnswer,
  from: {
    readonly request: ProveRequest;
    readonly peer: string;
    readonly known: ReadonlyMap<number, KnownShard>;
  },
): Promise<ShardVerdict[]> {
  await checkProofEnvelope(answer, from);
  return judgeProofs(answer, from);
}

/**
 * Check an answer's envelope: same tessera and nonce, the holder is
 * `peer`, a sane timestamp, no shard twice, and a valid signature over
 * every proof byte. Throws `ATTESTATION_FAILED`.
 *
 * @example
 * ```ts
 * import type { ProofAnswer } from "../../core/mod.ts";
 * declare const answer: ProofAnswer;
 * declare const request: ProveRequest;
 * declare const peer: string;
 * await checkProofEnvelope(answer, { request, peer });
 * ```
 */
export async function checkProofEnvelope(
  answer: ProofAnswer,
  from: { readonly request: ProveRequest; readonly peer: string },
): Promise<void> {
  const { request, peer } = from;
  const fail = (why: string) =>
    new TesserasError(
      "ATTESTATION_FAILED",
      `prove answer from ${peer} rejected: ${why}`,
    );
  const indices = answer.shards.map((s) => s.index);
  checkEnvelope(answer, { request, peer, indices, fail });
  if (answer.shards.length > MAX_SHARD_COUNT) throw fail("too many shards");
  const signed = {
    data: proofAnswerSigningBytes(answer),
    signature: answer.signature,
  };
  if (!(await verifyPeerSignature(peer, signed))) throw fail("bad signature");
}

/** What the prove handler needs from the node. */
export type ProveServerContext = ChallengeServerContext;

/**
 * The server side of `/tesseras/prove/1.0.0`: a node whose handlers do not
 * answer chunk proofs replies `NOT_FOUND`.
 *
 * @example
 * ```ts
 * import type { InboundHandlers } from "../../core/mod.ts";
 * import { netLimits } from "./limits.ts";
 * declare const service: InboundHandlers;
 * const spec = proveSpec({ handlers: () => service, limits: netLimits().prove });
 * ```
 */
export function proveSpec(
  ctx: ProveServerContext,
): InboundSpec<ProveRequest> {
  return {
    name: "prove",
    limits: ctx.limits,
    gate: new ConcurrencyGate(ctx.limits.maxConcurrent),
    parse: parseProveRequest,
    async handle(request, from, signal) {
      const handlers = handlersOrRetry(ctx.handlers());
      if (handlers.onProve === undefined) {
        throw new TesserasError(
          "NOT_FOUND",
          "this node answers no chunk proofs",
        );
      }
      const answer = await handlers.onProve(request, from, { signal });
      return encodeProveResponse({ answer });
    },
    errorReply: (code, message) =>
      encodeProveResponse({ error: { code, message } }),
  };
}

/** Options of {@linkcode sendProve}. */
export type SendProveOptions = SendChallengeOptions;

/**
 * Ask `peer` for chunk proofs; resolves with its answer once the envelope
 * (tessera, holder, nonce, timestamp) and the signature check (the caller
 * judges the proofs with {@linkcode judgeProofs}). Rejects with the peer's
 * error code, `ATTESTATION_FAILED` for a bad envelope, or a transport
 * error.
 *
 * @example
 * ```ts
 * import type { Libp2p } from "@libp2p/interface";
 * import type { NetMetrics } from "../metrics.ts";
 * import type { ProtocolLimits } from "./limits.ts";
 * declare const libp2p: Libp2p;
 * declare const peer: string;
 * declare const request: ProveRequest;
 * declare const limits: ProtocolLimits;
 * declare const metrics: NetMetrics;
 * const answer = await sendProve(libp2p, peer, request, { limits, metrics });
 * ```
 */
export async function sendProve(
  libp2p: Libp2p,
  peer: string,
  request: ProveRequest,
  options: SendProveOptions,
): Promise<ProofAnswer> {
  const frame = await requestResponse(
    libp2p,
    peer,
    PROVE_PROTOCOL,
    encodeProveRequest(request),
    { ...options, name: "prove" },
  );
  try {
    const answer = parseProveResponse(frame, peer);
    await checkProofEnvelope(answer, { request, peer });
    return answer;
  } catch (err) {
    options.metrics.count("prove", "outboundErrors");
    throw err;
  }
}
