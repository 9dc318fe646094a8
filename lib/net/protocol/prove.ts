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
  attestationSigningBytes,
  type AttestRequest,
  type ErrorCode,
  fromHex,
  TesserasError,
  toHex,
} from "../../core/mod.ts";
import {
  bytesEqual,
  createBlake3,
  GROUP_BYTES,
  type GroupProof,
  ProofError,
  type ProofFault,
  SAMPLE_COUNT,
  sampleGroups,
  verifyGroupProofs,
} from "../../codec/mod.ts";
import type { Uint8ArrayList } from "uint8arraylist";
import { verifyPeerSignature } from "../identity.ts";
import { validateAttestRequest } from "./attest.ts";
import {
  plainBytes,
  wireBytes,
  wireErrorCode,
  wireErrorMessage,
} from "./exchange.ts";
import { MAX_SHARD_BYTES, MAX_SHARD_COUNT } from "./limits.ts";
import {
  type WireProofAnswer,
  WireProveRequest,
  WireProveResponse,
} from "./pb/prove.ts";

/** The protocol id. */
export const PROVE_PROTOCOL = "/tesseras/prove/1.0.0";

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

/** The proofs of one shard in an answer. */
export interface ShardProofs {
  /** The shard's index. */
  readonly index: number;
  /** Its checksum as the holder records it, hex. */
  readonly checksum: string;
  /** Its size in bytes. */
  readonly size: number;
  /** The sampled groups with their paths, ascending. */
  readonly groups: readonly GroupProof[];
}

/** A holder's signed answer. */
export interface ProofAnswer {
  /** The tessera. */
  readonly tesseraId: string;
  /** The holder (its peer id). */
  readonly holder: string;
  /** The challenge's nonce, echoed. */
  readonly nonce: Uint8Array;
  /** Per shard held and asked. */
  readonly shards: readonly ShardProofs[];
  /** When the holder answered, ms since the epoch. */
  readonly timestamp: number;
  /** The holder's signature over {@linkcode proofAnswerSigningBytes}. */
  readonly signature: Uint8Array;
}

/**
 * Throws `INVALID_ID`/`INVALID_INPUT` unless the request names a valid
 * tessera, carries a 32-byte nonce and distinct in-range indices: the
 * same rules as an attest request's.
 *
 * @example
 * ```ts
 * validateProveRequest({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * ```
 */
export function validateProveRequest(request: ProveRequest): void {
  validateAttestRequest(request);
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
  return WireProveRequest.encode({
    tesseraId: request.tesseraId,
    nonce: wireBytes(request.nonce),
    indices: [...(request.indices ?? [])],
  });
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
  let wire: WireProveRequest;
  try {
    wire = WireProveRequest.decode(frame, {
      limits: { indices: MAX_SHARD_COUNT },
    });
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", "malformed prove request", {
      cause,
    });
  }
  const request: ProveRequest = {
    tesseraId: wire.tesseraId,
    nonce: plainBytes(wire.nonce),
    indices: wire.indices,
  };
  validateProveRequest(request);
  return request;
}

const DIGEST_DOMAIN = new TextEncoder().encode("tesseras/chunk-proofs/v1\n");

/**
 * The digest of one shard's proofs that the signature covers, hex:
 * BLAKE3 over a domain tag, the size, and each group's index, bytes and
 * siblings, every field length-prefixed.
 *
 * @example
 * ```ts
 * shardProofsDigest({ index: 0, checksum: "00".repeat(32), size: 0, groups: [] }).length; // 64
 * ```
 */
export function shardProofsDigest(shard: ShardProofs): string {
  const h = createBlake3().update(DIGEST_DOMAIN);
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setFloat64(0, shard.size, true);
  view.setUint32(8, shard.groups.length, true);
  h.update(head);
  const field = new Uint8Array(12);
  const fv = new DataView(field.buffer);
  for (const g of shard.groups) {
    fv.setUint32(0, g.group, true);
    fv.setUint32(4, g.bytes.length, true);
    fv.setUint32(8, g.siblings.length, true);
    h.update(field).update(g.bytes).update(g.siblings);
  }
  return toHex(h.digest());
}

/**
 * The bytes the holder signs: the attestation's signed bytes with each
 * shard's {@linkcode shardProofsDigest} as its proof.
 *
 * @example
 * ```ts
 * proofAnswerSigningBytes({
 *   tesseraId: "00".repeat(32), holder: "peer", nonce: new Uint8Array(32),
 *   shards: [], timestamp: 0,
 * });
 * ```
 */
export function proofAnswerSigningBytes(
  answer: Omit<ProofAnswer, "signature">,
): Uint8Array {
  const { tesseraId, holder, nonce, timestamp } = answer;
  const entries = answer.shards.map((s) => ({
    index: s.index,
    checksum: s.checksum,
    proof: shardProofsDigest(s),
  }));
  return attestationSigningBytes({
    tesseraId,
    holder,
    nonce,
    entries,
    timestamp,
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
  if (wire.errorCode !== "" || wire.answer === undefined) {
    throw new TesserasError(
      wire.errorCode === "" ? "PROTOCOL_ERROR" : wireErrorCode(wire.errorCode),
      `${peer} did not prove: ${
        wireErrorMessage(wire.errorMessage) || "no answer in the reply"
      }`,
    );
  }
  const w = wire.answer;
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

/** What the requester knows of a shard it asked about: its row. */
export interface KnownShard {
  /** The shard's checksum, hex. */
  readonly checksum: string;
  /** The shard's size, bytes. */
  readonly size: number;
}

/** The verdict on one shard of a checked answer. */
export type ShardVerdict =
  | { readonly index: number; readonly ok: true }
  | {
    readonly index: number;
    readonly ok: false;
    /** What was wrong with its proofs. */
    readonly fault: ProofFault | "checksum" | "size" | "unasked";
    /** Why, in words. */
    readonly reason: string;
  };

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
  const { request, peer, known } = from;
  const fail = (why: string) =>
    new TesserasError(
      "ATTESTATION_FAILED",
      `prove answer from ${peer} rejected: ${why}`,
    );
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
  if (
    new Set(answer.shards.map((s) => s.index)).size !== answer.shards.length
  ) {
    throw fail("it lists a shard twice");
  }
  if (answer.shards.length > MAX_SHARD_COUNT) throw fail("too many shards");
  const signed = {
    data: proofAnswerSigningBytes(answer),
    signature: answer.signature,
  };
  if (!(await verifyPeerSignature(peer, signed))) throw fail("bad signature");
  return answer.shards.map((s) => judgeShard(s, { request, peer, known }));
}

function judgeShard(
  shard: ShardProofs,
  from: {
    readonly request: ProveRequest;
    readonly peer: string;
    readonly known: ReadonlyMap<number, KnownShard>;
  },
): ShardVerdict {
  const { index } = shard;
  const asked = from.request.indices ?? [];
  const row = from.known.get(index);
  const no = (
    fault: Exclude<ShardVerdict, { ok: true }>["fault"],
    reason: string,
  ) => ({
    index,
    ok: false as const,
    fault,
    reason,
  });
  if (row === undefined || (asked.length > 0 && !asked.includes(index))) {
    return no("unasked", `shard ${index} was not asked for`);
  }
  if (shard.checksum !== row.checksum) {
    return no(
      "checksum",
      `shard ${index} is claimed under checksum ${shard.checksum}, not ${row.checksum}`,
    );
  }
  if (shard.size !== row.size || row.size > MAX_SHARD_BYTES) {
    return no(
      "size",
      `shard ${index} is claimed as ${shard.size} bytes, not ${row.size}`,
    );
  }
  try {
    const groups = sampleGroups({
      nonce: from.request.nonce,
      holder: from.peer,
      tessera: from.request.tesseraId,
      index,
    }, row.size);
    verifyGroupProofs(shard.groups, {
      size: row.size,
      checksum: fromHex(row.checksum),
      groups,
    });
    return { index, ok: true };
  } catch (err) {
    if (err instanceof ProofError) return no(err.fault, err.message);
    throw err;
  }
}
