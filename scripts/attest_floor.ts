/**
 * The cost floor of one attestation: only the work the protocol itself
 * demands, through the real functions, with none of the replication
 * code around it (no network, stores, registry, ledger, async frames).
 * A fresh 32-byte nonce, the holder's keyed BLAKE3 proof over the whole
 * shard, the signed bytes and the simulated node's signature, then the
 * owner's check of that signature and its own proof of the same shard.
 *
 * Beside it, {@linkcode measureChunkFloor}: the same for the chunk proof
 * every audit now uses (docs/proofs.md): the nonce, the sampled groups,
 * the holder's proofs read from the shard and its outboard, the signed
 * answer, then the requester's check of the signature and its judgement
 * of every group from the checksum alone.
 *
 * The simulator benchmark measures both on the shard sizes its run held,
 * so a run's wall time can be read against what its attestations alone
 * would cost on this machine.
 *
 * @module
 */
import {
  attestationSigningBytes,
  type ProofAnswer,
  toHex,
} from "../lib/core/mod.ts";
import {
  bytesReadAt,
  GROUP_BYTES,
  judgeAnswer,
  outboardOf,
  proofAnswerSigningBytes,
  proveGroups,
  sampleGroups,
  shardProofsDigest,
} from "../lib/codec/mod.ts";
import { attestationProof } from "../lib/replication/mod.ts";
import { SimKeyring } from "../sim/identity.ts";
import { SimRng } from "../sim/rng.ts";

/** What {@linkcode measureAttestFloor} measured. */
export interface AttestFloor {
  /** Microseconds per attestation (the best of the repeats). */
  readonly microseconds: number;
  /** Mean shard bytes proven per attestation. */
  readonly meanShardBytes: number;
  /** Attestations timed per repeat. */
  readonly samples: number;
}

/**
 * Time the protocol's own work per attestation over `shardSizes`
 * (copies by size; each copy is proven once per sweep, so sizes are
 * drawn in proportion to their copies).
 *
 * @example
 * ```ts
 * const floor = measureAttestFloor(new Map([[430, 40_000]]));
 * floor.microseconds; // e.g. 4.1
 * ```
 */
export function measureAttestFloor(
  shardSizes: ReadonlyMap<number, number>,
  options: { readonly samples?: number; readonly repeats?: number } = {},
): AttestFloor {
  const samples = options.samples ?? 200_000;
  const rng = new SimRng("attest-floor");
  const shards = drawShards(shardSizes, rng);
  if (shards.length === 0) {
    return { microseconds: 0, meanShardBytes: 0, samples: 0 };
  }
  const keyring = new SimKeyring("attest-floor");
  const holder = "sim0123456789abcdef";
  const tesseraId = "ab".repeat(32);
  const checksum = "cd".repeat(32);
  let best = Infinity, proven = 0;
  for (let r = 0; r < (options.repeats ?? 3); r++) {
    const t0 = performance.now();
    for (let i = 0; i < samples; i++) {
      const shard = shards[i % shards.length];
      const nonce = rng.bytes(32);
      const entries = [{
        index: 0,
        checksum,
        proof: attestationProof(nonce, shard),
      }];
      const answer = { tesseraId, holder, nonce, entries, timestamp: i };
      const signature = keyring.mac(holder, attestationSigningBytes(answer));
      const tag = keyring.mac(holder, attestationSigningBytes(answer));
      if (
        tag[0] === signature[0] &&
        attestationProof(nonce, shard) === entries[0].proof
      ) proven++;
    }
    best = Math.min(best, (performance.now() - t0) * 1000 / samples);
  }
  if (proven !== samples * (options.repeats ?? 3)) {
    throw new Error("attestation floor: a proof did not verify");
  }
  let bytes = 0;
  for (const s of shards) bytes += s.length;
  return {
    microseconds: +best.toFixed(2),
    meanShardBytes: Math.round(bytes / shards.length),
    samples,
  };
}

/** Up to 4,096 shards, sizes in proportion to their copies. */
function drawShards(
  shardSizes: ReadonlyMap<number, number>,
  rng: SimRng,
): Uint8Array[] {
  let total = 0;
  for (const copies of shardSizes.values()) total += copies;
  const bySize = new Map<number, Uint8Array>();
  const out: Uint8Array[] = [];
  for (const [size, copies] of shardSizes) {
    const n = Math.round(4096 * copies / total);
    if (n === 0) continue;
    const bytes = bySize.get(size) ?? rng.bytes(size);
    bySize.set(size, bytes);
    for (let i = 0; i < n; i++) out.push(bytes);
  }
  // Interleaved so the loop does not run all of one size, then the next.
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Time the chunk proof's own work per attestation over `shardSizes`, as
 * {@linkcode measureAttestFloor} does for the keyed proof.
 *
 * @example
 * ```ts
 * const floor = await measureChunkFloor(new Map([[430, 40_000]]));
 * floor.microseconds; // e.g. 6.0
 * ```
 */
export async function measureChunkFloor(
  shardSizes: ReadonlyMap<number, number>,
  options: { readonly samples?: number; readonly repeats?: number } = {},
): Promise<AttestFloor> {
  const samples = options.samples ?? 100_000;
  const rng = new SimRng("attest-floor");
  const shards = drawShards(shardSizes, rng);
  if (shards.length === 0) {
    return { microseconds: 0, meanShardBytes: 0, samples: 0 };
  }
  const keyring = new SimKeyring("attest-floor");
  const holder = "sim0123456789abcdef";
  const tessera = "ab".repeat(32);
  const prepared = new Map(shards.map((s) => {
    const built = outboardOf(s);
    return [s, {
      checksum: toHex(built.root),
      source: {
        size: s.length,
        shard: bytesReadAt(s),
        outboard: bytesReadAt(built.outboard),
      },
    }];
  }));
  let best = Infinity, proven = 0;
  const repeats = options.repeats ?? 3;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < samples; i++) {
      const shard = shards[i % shards.length];
      const { checksum, source } = prepared.get(shard)!;
      const nonce = rng.bytes(32);
      // The holder: sample, prove from shard and outboard, sign the
      // digest of the groups' chaining values (a one-group shard's is its
      // checksum, which the memory store hands out for intact bytes).
      const picked = sampleGroups(
        { nonce, holder, tessera, index: 0 },
        source.size,
      );
      const groups = await proveGroups(source, picked);
      const proofs = { index: 0, checksum, size: source.size, groups };
      const cvs = source.size <= GROUP_BYTES ? [checksum] : undefined;
      const unsigned = {
        tesseraId: tessera,
        holder,
        nonce,
        shards: [proofs],
        timestamp: i,
      };
      const signature = keyring.mac(
        holder,
        proofAnswerSigningBytes(unsigned, [shardProofsDigest(proofs, cvs)]),
      );
      const answer: ProofAnswer = { ...unsigned, signature };
      // The requester: every group from the checksum, then the signature
      // over the digests of the chaining values the judging computed.
      const { verdicts: [verdict], digests } = judgeAnswer(answer, {
        request: { tesseraId: tessera, nonce, indices: [0] },
        peer: holder,
        known: new Map([[0, { checksum, size: source.size }]]),
      });
      const tag = keyring.mac(holder, proofAnswerSigningBytes(answer, digests));
      if (tag[0] === signature[0] && verdict.ok) proven++;
    }
    best = Math.min(best, (performance.now() - t0) * 1000 / samples);
  }
  if (proven !== samples * repeats) {
    throw new Error("chunk floor: a proof did not verify");
  }
  let bytes = 0;
  for (const s of shards) bytes += s.length;
  return {
    microseconds: +best.toFixed(2),
    meanShardBytes: Math.round(bytes / shards.length),
    samples,
  };
}
