/**
 * Our own tesseras' shards, recomputed from the blob store: the owner
 * needs them to push, to check keyed proofs and to repair without
 * fetching.
 *
 * @module
 */
import { type IoOptions, type TesseraId, TesserasError } from "../core/mod.ts";
import { type EncodedTessera, encodeTessera } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Internal: encode our blob of `id`, or `null` when we have no blob.
 * Throws `CHECKSUM_MISMATCH` when the blob no longer hashes to its id.
 */
export async function ownShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions = {},
): Promise<EncodedTessera | null> {
  const data = await ctx.blobs.get(id, options);
  if (!data) return null;
  const encoded = encodeTessera(data, { thresholds: ctx.thresholds });
  if (encoded.id !== id) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `our stored copy of tessera ${id} is corrupt (it hashes to ${encoded.id}): restore it from a backup or delete it and retrieve it from the network`,
    );
  }
  return encoded;
}
