/**
 * The holder's side of attestation: answer a challenge with keyed proofs
 * over the shards we hold, signed with our key.
 *
 * @module
 */
import {
  type Attestation,
  type AttestationEntry,
  attestationSigningBytes,
  type AttestRequest,
  type IoOptions,
  isTesseraId,
  TesserasError,
} from "../core/mod.ts";
import { assertNonce, attestationProof } from "./attest_crypto.ts";
import type { ServiceContext } from "./context.ts";

/** Most indices one attestation request may name. */
const MAX_ATTEST_INDICES = 256;

/** Internal: answer an attestation challenge. */
export async function answerAttestation(
  ctx: ServiceContext,
  request: AttestRequest,
  options: IoOptions = {},
): Promise<Attestation> {
  if (!isTesseraId(request?.tesseraId)) {
    throw new TesserasError(
      "INVALID_ID",
      "attestation request names an invalid tessera id",
    );
  }
  assertNonce(request.nonce);
  const asked = request.indices ?? [];
  if (
    !Array.isArray(asked) || asked.length > MAX_ATTEST_INDICES ||
    !asked.every((i) => Number.isInteger(i) && i >= 0)
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      "attestation request has invalid indices",
    );
  }
  const wanted = asked.length > 0 ? new Set(asked) : null;
  const held = await ctx.fragments.list(request.tesseraId, options);
  const entries: AttestationEntry[] = [];
  for (const f of held) {
    if (wanted && !wanted.has(f.index)) continue;
    const data = await ctx.fragments.read(request.tesseraId, f.index, options);
    if (!data) continue;
    entries.push({
      index: f.index,
      checksum: f.checksum,
      proof: attestationProof(request.nonce, data),
    });
  }
  const unsigned = {
    tesseraId: request.tesseraId,
    holder: ctx.selfId,
    // Echoed as received: the request is ours alone once decoded.
    nonce: request.nonce,
    entries,
    timestamp: ctx.clock.now(),
  };
  const signature = await ctx.identity.sign(attestationSigningBytes(unsigned));
  return { ...unsigned, signature };
}
