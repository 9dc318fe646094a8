/**
 * Taking a tessera back as its owner without downloading it (issue 15's
 * recovery): the owner's catalogue remembers each tessera's plan and one
 * digest of its shard checksums; the holders say which shards they hold
 * and what each hashes to (the signed answers `locateShards` reads). When
 * their checksums, in index order, hash to the digest, they are the
 * owner's own, and the plan, checksums and holders go into the registry:
 * audits and repairs resume from there, as after a put. Anything short of
 * that (a shard nobody answers for, a digest that does not match) is
 * refused, and the caller falls back to fetching the whole tessera.
 *
 * @module
 */
import { blake3 } from "../codec/mod.ts";
import {
  type Checksum,
  type FragmentPlan,
  fromHex,
  type IoOptions,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import { locateShards } from "./discover.ts";

/**
 * The digest a catalogue keeps of a tessera's shard checksums: BLAKE3 of
 * the 32-byte checksums in index order, hex.
 *
 * @example
 * ```ts
 * checksumsDigest(["00".repeat(32)]).length; // 64
 * ```
 */
export function checksumsDigest(checksums: readonly Checksum[]): string {
  const all = new Uint8Array(32 * checksums.length);
  checksums.forEach((c, i) => all.set(fromHex(c), 32 * i));
  return toHex(blake3(all));
}

/** What the owner remembers of a tessera, to adopt it. */
export interface AdoptionClaim {
  /** How it is fragmented. */
  readonly plan: FragmentPlan;
  /** {@linkcode checksumsDigest} of its shard checksums. */
  readonly digest: string;
}

/** Internal: the registry rebuilt for `id` from its holders' answers. */
export async function adoptTessera(
  ctx: ServiceContext,
  id: TesseraId,
  claim: AdoptionClaim,
  options: IoOptions = {},
): Promise<{ holders: number }> {
  const located = await locateShards(ctx, id, options);
  const { plan } = claim;
  const checksums: Checksum[] = [];
  for (let i = 0; i < plan.shardCount; i++) {
    const c = located.checksums.get(i);
    if (c === undefined) {
      throw new TesserasError(
        "INSUFFICIENT_SHARDS",
        `no holder answers for shard ${i} of ${id}`,
      );
    }
    checksums.push(c);
  }
  if (checksumsDigest(checksums) !== claim.digest) {
    throw new TesserasError(
      "CHECKSUM_MISMATCH",
      `the holders' checksums of ${id} are not the catalogue's`,
    );
  }
  await ctx.holders.track(id, { plan, checksums });
  let holders = 0;
  for (const [index, peers] of located.sources) {
    if (index >= plan.shardCount) continue;
    for (const peerId of peers) {
      await ctx.holders.addHolder(id, { index, peerId });
      holders++;
    }
  }
  return { holders };
}
