/**
 * `/tesseras/attest/1.0.0`: the requester sends a fresh 32-byte nonce; the
 * holder answers with a signed `Attestation`. The client rejects answers
 * that do not echo the nonce, come from another holder, or carry a
 * signature that the holder's peer id does not verify.
 *
 * A request with `listing` (field 4) asks only which shards the holder
 * keeps: it answers with its stored checksums and empty proofs, signed
 * the same way. Such entries are accepted only in the answer to a
 * listing; an answer to a proof request must carry a proof per entry.
 *
 * @module
 */
import {
  type Attestation,
  type AttestationEntry,
  attestationSigningBytes,
  type AttestRequest,
  type ErrorCode,
  isTesseraId,
  type SignedManifest,
  TesserasError,
} from "../../core/mod.ts";
import type { Libp2p } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";
import { verifyPeerSignature } from "../identity.ts";
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
import { ATTEST_PROTOCOL, MAX_SHARD_COUNT } from "./limits.ts";
import { manifestFromFields, manifestSizeProblem } from "./wire_manifest.ts";
import {
  type WireAttestation,
  WireAttestRequest,
  WireAttestResponse,
} from "./pb/attest.ts";

/** Length of an attestation nonce, bytes. */
export const NONCE_BYTES = 32;

/** A proof is a hex digest; 128 hex characters allow up to 512 bits. */
const PROOF = /^[0-9a-f]{2,128}$/;

function invalid(message: string): TesserasError {
  return new TesserasError("INVALID_INPUT", message);
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_SHARD_COUNT) {
    throw invalid(
      `shard index ${index} is out of range 0..${MAX_SHARD_COUNT - 1}`,
    );
  }
}

/**
 * Throws unless the request names a valid tessera, carries a 32-byte nonce
 * and at most {@linkcode MAX_SHARD_COUNT} distinct in-range indices.
 *
 * @example
 * ```ts
 * validateAttestRequest({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * ```
 */
export function validateAttestRequest(request: AttestRequest): void {
  if (!isTesseraId(request.tesseraId)) {
    throw new TesserasError(
      "INVALID_ID",
      "attest request has an invalid tessera id: expected 64 lowercase hex characters",
    );
  }
  if (request.nonce.length !== NONCE_BYTES) {
    throw invalid(
      `attest nonce is ${request.nonce.length} bytes; it must be ${NONCE_BYTES}`,
    );
  }
  const indices = request.indices ?? [];
  if (indices.length > MAX_SHARD_COUNT) {
    throw invalid(
      `attest request lists ${indices.length} indices; at most ${MAX_SHARD_COUNT}`,
    );
  }
  indices.forEach(checkIndex);
  if (new Set(indices).size !== indices.length) {
    throw invalid("attest request lists an index twice");
  }
  if (request.listing !== undefined && typeof request.listing !== "boolean") {
    throw invalid("attest request's listing flag is not a boolean");
  }
}

function requestFromWire(frame: Uint8ArrayList): AttestRequest {
  return decodeChallenge(WireAttestRequest, frame, {
    what: "attest",
    check: validateAttestRequest,
  });
}

function attestationToWire(a: Attestation): WireAttestation {
  return {
    tesseraId: a.tesseraId,
    holder: a.holder,
    nonce: wireBytes(a.nonce),
    entries: a.entries.map((e) => ({ ...e })),
    timestamp: a.timestamp,
    signature: wireBytes(a.signature),
    manifest: wireBytes(a.manifest?.bytes ?? new Uint8Array(0)),
    manifestSignature: wireBytes(a.manifest?.signature ?? new Uint8Array(0)),
  };
}

/** The manifest an answer carries (fields 7 and 8), within its bounds. */
function manifestOf(
  w: WireAttestation,
  peer: string,
): { manifest?: SignedManifest } {
  const manifest = manifestFromFields(w);
  if (manifest === undefined) return {};
  const why = manifestSizeProblem(manifest);
  if (why) {
    throw new TesserasError(
      "ATTESTATION_FAILED",
      `attestation from ${peer} rejected: ${why}`,
    );
  }
  return { manifest };
}

function errorResponse(code: ErrorCode, message: string): Uint8Array {
  return WireAttestResponse.encode({ errorCode: code, errorMessage: message });
}

/**
 * Throws unless `entry` is well formed: an empty proof only in the answer
 * to a listing (which may also carry proofs: a holder that predates the
 * flag ignores it and proves).
 */
function checkEntry(entry: AttestationEntry, listing: boolean): void {
  checkIndex(entry.index);
  if (!isTesseraId(entry.checksum)) {
    throw invalid(`entry ${entry.index} has a malformed checksum`);
  }
  if (entry.proof === "" && !listing) {
    throw invalid(
      `entry ${entry.index} carries no proof: a listing where a proof was asked`,
    );
  }
  if (entry.proof !== "" && !PROOF.test(entry.proof)) {
    throw invalid(`entry ${entry.index} has a malformed proof`);
  }
}

/**
 * Check a holder's answer to `request` from `peer`: echoed nonce and
 * tessera id, the holder is the peer asked, well-formed entries (a proof
 * in each unless `request` is a listing), only requested indices, and a
 * valid signature. Throws `ATTESTATION_FAILED`.
 *
 * @example
 * ```ts
 * import type { Attestation, AttestRequest } from "../../core/mod.ts";
 * declare const attestation: Attestation;
 * declare const request: AttestRequest;
 * await checkAttestation(attestation, { request, peer: "12D3KooW…" });
 * ```
 */
export async function checkAttestation(
  attestation: Attestation,
  from: { readonly request: AttestRequest; readonly peer: string },
): Promise<void> {
  const { request, peer } = from;
  const fail = (why: string) =>
    new TesserasError(
      "ATTESTATION_FAILED",
      `attestation from ${peer} rejected: ${why}`,
    );
  const indices = attestation.entries.map((e) => e.index);
  checkEnvelope(attestation, { request, peer, indices, fail });
  try {
    const listing = request.listing === true;
    for (const e of attestation.entries) checkEntry(e, listing);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const asked = request.indices ?? [];
  if (asked.length > 0) {
    const allowed = new Set(asked);
    if (attestation.entries.some((e) => !allowed.has(e.index))) {
      throw fail("it proves shards we did not ask for");
    }
  }
  const signed = {
    data: attestationSigningBytes(attestation),
    signature: attestation.signature,
  };
  if (!(await verifyPeerSignature(peer, signed))) {
    throw fail("bad signature");
  }
}

/** What the attest handler needs from the node. */
export type AttestServerContext = ChallengeServerContext;

/** The server side of `/tesseras/attest/1.0.0`. */
export function attestSpec(
  ctx: AttestServerContext,
): InboundSpec<AttestRequest> {
  return {
    name: "attest",
    limits: ctx.limits,
    gate: new ConcurrencyGate(ctx.limits.maxConcurrent),
    parse: requestFromWire,
    async handle(request, from, signal) {
      const handlers = handlersOrRetry(ctx.handlers());
      const attestation = await handlers.onAttest(request, from, { signal });
      return WireAttestResponse.encode({
        attestation: attestationToWire(attestation),
        errorCode: "",
        errorMessage: "",
      });
    },
    errorReply: errorResponse,
  };
}

/** Options of {@linkcode sendAttest}. */
export type SendAttestOptions = SendChallengeOptions;

/**
 * Ask `peer` to attest; resolves with its checked, signed attestation.
 * Rejects with the peer's error code (e.g. `NOT_FOUND`),
 * `ATTESTATION_FAILED` for an answer that fails the checks, or a transport
 * error.
 */
export async function sendAttest(
  libp2p: Libp2p,
  peer: string,
  request: AttestRequest,
  options: SendAttestOptions,
): Promise<Attestation> {
  validateAttestRequest(request);
  const frame = await requestResponse(
    libp2p,
    peer,
    ATTEST_PROTOCOL,
    encodeChallenge(WireAttestRequest, request),
    { ...options, name: "attest" },
  );
  try {
    let wire: WireAttestResponse;
    try {
      wire = WireAttestResponse.decode(frame, {
        limits: { attestation: { entries: MAX_SHARD_COUNT } },
      });
    } catch (cause) {
      throw new TesserasError(
        "PROTOCOL_ERROR",
        `malformed attest response from ${peer}`,
        { cause },
      );
    }
    throwReplyError(wire, {
      peer,
      did: "attest",
      body: "attestation",
      present: wire.attestation !== undefined,
    });
    const w = wire.attestation!;
    const attestation: Attestation = {
      tesseraId: w.tesseraId,
      holder: w.holder,
      nonce: plainBytes(w.nonce),
      entries: w.entries.map((e) => ({ ...e })),
      timestamp: w.timestamp,
      signature: plainBytes(w.signature),
      ...manifestOf(w, peer),
    };
    await checkAttestation(attestation, { request, peer });
    return attestation;
  } catch (err) {
    options.metrics.count("attest", "outboundErrors");
    throw err;
  }
}
