/**
 * The holder's side of attestation: answer a challenge with keyed proofs
 * over the shards we hold, signed with our key; or a listing (a stranger's
 * discovery) with the checksums our store keeps, read from its rows: no
 * shard is read or hashed for it.
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

/**
 * Internal: answer an attestation challenge, or list what we hold when
 * `request.listing` (entries with empty proofs, signed the same way).
 */
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
  if (!isIndexList(asked)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "attestation request has invalid indices",
    );
  }
  const held = await ctx.fragments.list(request.tesseraId, options);
  const listing = request.listing === true;
  const entries: AttestationEntry[] = [];
  for (const f of held) {
    // Requests name a shard or two: a scan beats building a set.
    if (asked.length > 0 && !names(asked, f.index)) continue;
    if (listing) {
      // The asker has no bytes to check a proof against; it checks what
      // it fetches against the manifest and the id.
      entries.push({ index: f.index, checksum: f.checksum, proof: "" });
      continue;
    }
    const proof = await proofOf(ctx, { request, index: f.index }, options);
    if (proof === null) continue;
    entries.push({ index: f.index, checksum: f.checksum, proof });
  }
  const tesseraId = request.tesseraId, holder = ctx.selfId;
  // Echoed as received: the request is ours alone once decoded.
  const nonce = request.nonce, timestamp = ctx.clock.now();
  const signature = await ctx.identity.sign(
    attestationSigningBytes({ tesseraId, holder, nonce, entries, timestamp }),
  );
  // The plan a stranger needs, where we keep one (only beside shards).
  const manifest = entries.length > 0
    ? await ctx.manifests?.get(tesseraId, options) ?? null
    : null;
  return {
    tesseraId,
    holder,
    nonce,
    entries,
    timestamp,
    signature,
    ...(manifest ? { manifest } : {}),
  };
}

/**
 * The keyed proof of one held shard, `null` when it is gone: from the
 * store's keyed hash when it has one (read in pieces: a discovery asks a
 * holder for every shard it keeps, and a fresh buffer of each whole shard
 * cost its reads' page faults and collections), else over its bytes.
 */
async function proofOf(
  ctx: ServiceContext,
  shard: { request: AttestRequest; index: number },
  options: IoOptions,
): Promise<string | null> {
  const { request: { tesseraId, nonce }, index } = shard;
  const store = ctx.fragments;
  if (store.keyedHash) {
    return await store.keyedHash(tesseraId, index, nonce, options);
  }
  const data = await store.read(tesseraId, index, options);
  return data ? attestationProof(nonce, data) : null;
}

/** Whether `asked` names `index` (a loop: cheaper than a builtin call here). */
function names(asked: readonly number[], index: number): boolean {
  for (let i = 0; i < asked.length; i++) if (asked[i] === index) return true;
  return false;
}

/** At most {@linkcode MAX_ATTEST_INDICES} non-negative integers. */
function isIndexList(asked: unknown): asked is readonly number[] {
  if (!Array.isArray(asked) || asked.length > MAX_ATTEST_INDICES) return false;
  for (const i of asked) if (!Number.isInteger(i) || i < 0) return false;
  return true;
}
