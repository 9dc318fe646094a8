/**
 * Finding a tessera's shards without knowing its holders: ask the closest
 * peers of its id for a signed listing (`AttestRequest.listing`: which
 * shards each keeps and their stored checksums, no proofs) and read who
 * holds what from the answers. Placement puts shards on the closest peers,
 * so that is where they are. A listing, not a proof: we have no bytes to
 * check a proof against, and everything fetched is checked against the
 * manifest's checksums and the id anyway, so a holder hashing its shards
 * for us would be work for nothing.
 *
 * @module
 */
import {
  type Attestation,
  type Checksum,
  type IoOptions,
  type Manifest,
  type PeerId,
  type TesseraId,
  validateManifest,
} from "../core/mod.ts";
import { bytesEqual } from "../codec/mod.ts";
import { challenge } from "./attest.ts";
import type { ServiceContext } from "./context.ts";
import { mapPool } from "../core/mod.ts";

/** Internal: where a tessera's shards are, as its holders say. */
export interface Located {
  /** Holders per index. */
  readonly sources: Map<number, PeerId[]>;
  /** The checksum most holders give per index. */
  readonly checksums: Map<number, Checksum>;
  /** Highest index seen, or -1. */
  readonly maxIndex: number;
  /** Peers asked. */
  readonly asked: number;
  /** The owner's manifest a holder sent, validated (absent: none did). */
  readonly manifest?: Manifest;
}

/** Distinct manifests tried at most: forged ones cost a verify each. */
const MAX_MANIFESTS_TRIED = 4;

/** Closest peers asked by default: enough for a Large tessera's 72 shards plus churn. */
const DEFAULT_ASK = 100;

/** Internal: locate shards from the listings of the closest peers of `id`. */
export async function locateShards(
  ctx: ServiceContext,
  id: TesseraId,
  options: IoOptions & { readonly exclude?: ReadonlySet<PeerId> } = {},
): Promise<Located> {
  const { signal } = options;
  const peers = (await ctx.dht.findClosestPeers(
    id,
    ctx.candidateCount ?? DEFAULT_ASK,
    { signal },
  )).filter((p) => p.id !== ctx.selfId && !options.exclude?.has(p.id));
  const checks = await mapPool(
    peers,
    (p) =>
      challenge(ctx, {
        tesseraId: id,
        peer: p.id,
        indices: [],
        listing: true,
      }, { signal }),
    { limit: Math.max(8, ctx.config.concurrentTransfers) },
  );
  const votes = new Map<number, Map<Checksum, PeerId[]>>();
  for (const c of checks) {
    if (!c.authentic || !c.attestation) continue;
    for (const e of c.attestation.entries) {
      if (!Number.isInteger(e.index) || e.index < 0 || e.index > 255) continue;
      let byChecksum = votes.get(e.index);
      if (!byChecksum) votes.set(e.index, byChecksum = new Map());
      const list = byChecksum.get(e.checksum);
      if (list) list.push(c.peerId);
      else byChecksum.set(e.checksum, [c.peerId]);
    }
  }
  const sources = new Map<number, PeerId[]>();
  const checksums = new Map<number, Checksum>();
  let maxIndex = -1;
  for (const index of [...votes.keys()].sort((a, b) => a - b)) {
    // Majority per index; a liar's shard would fail the final id check anyway.
    const [checksum, holders] = [...votes.get(index)!].sort((a, b) =>
      b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)
    )[0];
    sources.set(index, holders);
    checksums.set(index, checksum);
    maxIndex = Math.max(maxIndex, index);
  }
  const answers = checks.flatMap((c) =>
    c.authentic && c.attestation ? [c.attestation] : []
  );
  const manifest = await bestManifest(ctx, { id, checksums }, answers);
  return {
    sources,
    checksums,
    maxIndex,
    asked: peers.length,
    ...(manifest ? { manifest } : {}),
  };
}

/**
 * The manifest holders sent, signed by the owner it names, for `id`, that
 * agrees with the most holders' checksums: a stranger's plan (issue 16).
 * Anyone can sign a manifest naming themselves as owner of a content id,
 * so one holder's forgery loses to the checksums the others vouch for; a
 * manifest agreeing with none is not used.
 */
async function bestManifest(
  ctx: ServiceContext,
  found: { id: TesseraId; checksums: ReadonlyMap<number, Checksum> },
  answers: readonly Attestation[],
): Promise<Manifest | undefined> {
  const tried: Uint8Array[] = [];
  let best: Manifest | undefined, bestAgree = 0;
  for (const a of answers) {
    const signed = a.manifest;
    if (!signed || tried.some((t) => bytesEqual(t, signed.bytes))) continue;
    if (tried.push(signed.bytes) > MAX_MANIFESTS_TRIED) break;
    const m = await validManifest(ctx, found.id, a);
    const agree = m ? agreement(m, found.checksums) : 0;
    if (m && agree > bestAgree) [best, bestAgree] = [m, agree];
  }
  return best;
}

/** The manifest `a` carries if it is validly signed for `id`, else none. */
async function validManifest(
  ctx: ServiceContext,
  id: TesseraId,
  a: Attestation,
): Promise<Manifest | undefined> {
  try {
    return await validateManifest(a.manifest!, {
      identity: ctx.identity,
      tesseraId: id,
      ...(ctx.manifestDecoder ? { decoder: ctx.manifestDecoder } : {}),
    });
  } catch (e) {
    ctx.log.warn("{peer} sent a manifest of {tessera} that fails: {error}", {
      peer: a.holder,
      tessera: id,
      error: (e as Error).message,
    });
    return undefined;
  }
}

/** Indices whose majority checksum is the one `m` names. */
function agreement(
  m: Manifest,
  checksums: ReadonlyMap<number, Checksum>,
): number {
  let n = 0;
  for (const [i, c] of checksums) if (m.checksums[i] === c) n++;
  return n;
}
