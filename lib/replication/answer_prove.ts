/**
 * The holder's side of chunk-proof challenges (docs/proofs.md): for each
 * shard held (of those asked), the groups the nonce samples for us, read
 * with their sibling paths, signed with our key. Anyone who knows the
 * shards' checksums checks the answer, without the shard bytes.
 *
 * The store reads only the sampled groups and a few siblings from the
 * shard and its outboard (`FragmentStore.proveGroups`), on disk and in
 * memory alike. A shard that can no longer prove itself (damaged) is left
 * out of the answer, as a shard not held, and logged: the requester
 * repairs it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  assertNotListing,
  type AttestRequest,
  type FragmentId,
  type IoOptions,
  isTesseraId,
  isTesserasError,
  type ProofAnswer,
  type ShardProofs,
  TesserasError,
} from "../core/mod.ts";
import {
  proofAnswerSigningBytes,
  sampleGroups,
  shardProofsDigest,
} from "../codec/mod.ts";
import { assertNonce } from "./attest_crypto.ts";
import type { ServiceContext } from "./context.ts";

const log = getLogger(["tesseras", "replication"]);

/** Internal: answer a chunk-proof challenge. */
export async function answerProofChallenge(
  ctx: ServiceContext,
  request: AttestRequest,
  options: IoOptions = {},
): Promise<ProofAnswer> {
  if (!isTesseraId(request?.tesseraId)) {
    throw new TesserasError(
      "INVALID_ID",
      "prove request names an invalid tessera id",
    );
  }
  assertNonce(request.nonce);
  assertNotListing(request);
  const asked = request.indices ?? [];
  const held = await ctx.fragments.list(request.tesseraId, options);
  const shards: ShardProofs[] = [];
  const digests: string[] = [];
  for (const f of held) {
    if (asked.length > 0 && !asked.includes(f.index)) continue;
    const proved = await proveShard(ctx, f, request, options);
    if (proved) {
      shards.push(proved.shard);
      digests.push(proved.digest);
    }
  }
  const unsigned = {
    tesseraId: request.tesseraId,
    holder: ctx.selfId,
    nonce: request.nonce,
    shards,
    timestamp: ctx.clock.now(),
  };
  const signature = await ctx.identity.sign(
    proofAnswerSigningBytes(unsigned, digests),
  );
  return { ...unsigned, signature };
}

/**
 * One shard's proofs and the digest we sign of them (from the chaining
 * values the store knows, when it does), or `null` when it is gone or
 * damaged.
 */
async function proveShard(
  ctx: ServiceContext,
  shard: FragmentId,
  request: AttestRequest,
  options: IoOptions,
): Promise<{ shard: ShardProofs; digest: string } | null> {
  const { tesseraId, index } = shard;
  const pick = (size: number) =>
    sampleGroups({
      nonce: request.nonce,
      holder: ctx.selfId,
      tessera: tesseraId,
      index,
    }, size);
  try {
    const proved = await ctx.fragments.proveGroups(
      tesseraId,
      index,
      pick,
      options,
    );
    if (proved === null) return null;
    const proofs = {
      index,
      checksum: shard.checksum,
      size: proved.size,
      groups: proved.proofs,
    };
    return { shard: proofs, digest: shardProofsDigest(proofs, proved.cvs) };
  } catch (err) {
    if (!isTesserasError(err, "CHECKSUM_MISMATCH")) throw err;
    log.warn("shard {index} of {tesseraId} cannot prove itself: {reason}", {
      tesseraId,
      index,
      reason: err.message,
    });
    return null;
  }
}
