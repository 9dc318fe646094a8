/**
 * Attestation, the requester's side and the shared crypto: a fresh nonce
 * per challenge, a key derived from it, keyed BLAKE3 proofs over shard
 * bytes, and the checks an answer must pass.
 *
 * @module
 */
import {
  type Attestation,
  attestationSigningBytes,
  type Checksum,
  type IoOptions,
  isTesserasError,
  type PeerId,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import { blake3, blake3Keyed } from "../codec/mod.ts";
import type { ServiceContext } from "./context.ts";
import { ownShards } from "./own_shards.ts";

const KEY_DOMAIN = new TextEncoder().encode("tesseras-attestation-key-v1\n");

/**
 * The 32-byte proof key for a challenge: BLAKE3 of a domain tag, the
 * tessera id and the nonce, so a key never serves two purposes.
 *
 * @example
 * ```ts
 * const key = attestationKey("ab".repeat(32), nonce);
 * ```
 */
export function attestationKey(
  tesseraId: TesseraId,
  nonce: Uint8Array,
): Uint8Array {
  const id = new TextEncoder().encode(tesseraId);
  const buf = new Uint8Array(KEY_DOMAIN.length + id.length + nonce.length);
  buf.set(KEY_DOMAIN);
  buf.set(id, KEY_DOMAIN.length);
  buf.set(nonce, KEY_DOMAIN.length + id.length);
  return blake3(buf);
}

/**
 * The proof for one shard: keyed BLAKE3 of its bytes under `key`, hex.
 * Computing it needs the bytes themselves, not just their checksum.
 *
 * @example
 * ```ts
 * const proof = attestationProof(attestationKey(id, nonce), shardBytes);
 * ```
 */
export function attestationProof(key: Uint8Array, shard: Uint8Array): string {
  return toHex(blake3Keyed(key, shard));
}

/** The outcome of challenging one holder. */
export interface AttestationCheck {
  /** The holder challenged. */
  readonly peerId: PeerId;
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** Whether the peer answered at all (a network failure is `false`). */
  readonly answered: boolean;
  /**
   * Whether the answer is authentic: right holder, tessera and nonce,
   * fresh, and signed by the holder.
   */
  readonly authentic: boolean;
  /** Indices proven. */
  readonly proven: readonly number[];
  /** Indices asked for but missing or wrong in the answer. */
  readonly failed: readonly number[];
  /** Whether proofs were checked (`proof`) or only checksums (`checksum`). */
  readonly verification: "proof" | "checksum";
  /** Why it failed, when it did. */
  readonly reason?: string;
  /** The answer, when there was one. */
  readonly attestation?: Attestation;
}

/** What the requester expects of a holder. */
export interface Expectation {
  /** Tessera. */
  readonly tesseraId: TesseraId;
  /** Holder. */
  readonly peer: PeerId;
  /** Indices it should prove (empty: whatever it holds). */
  readonly indices: readonly number[];
  /** Checksum by index, when known. */
  readonly checksums?: readonly Checksum[];
  /** Shard bytes by index, when we can recompute them (our blob). */
  readonly shards?: readonly Uint8Array[];
}

/** Internal: challenge `peer` and verify its answer. */
export async function challenge(
  ctx: ServiceContext,
  expect: Expectation,
  options: IoOptions = {},
): Promise<AttestationCheck> {
  const nonce = ctx.rng.bytes(32);
  const base = {
    peerId: expect.peer,
    tesseraId: expect.tesseraId,
    verification: expect.shards ? "proof" as const : "checksum" as const,
  };
  let attestation: Attestation;
  try {
    attestation = await ctx.dht.requestAttestation(expect.peer, {
      tesseraId: expect.tesseraId,
      nonce,
      indices: expect.indices,
    }, { signal: options.signal });
  } catch (e) {
    options.signal?.throwIfAborted();
    return {
      ...base,
      answered: false,
      authentic: false,
      proven: [],
      failed: [...expect.indices],
      reason: isTesserasError(e) ? `${e.code}: ${e.message}` : String(e),
    };
  }
  return await verifyAnswer(ctx, expect, { nonce, attestation });
}

/**
 * Internal: check an answer to a challenge we made with `nonce`. Exposed
 * to tests through {@linkcode verifyAttestation}.
 */
async function verifyAnswer(
  ctx: ServiceContext,
  expect: Expectation,
  answer: { nonce: Uint8Array; attestation: Attestation },
): Promise<AttestationCheck> {
  const { nonce, attestation: a } = answer;
  const base = {
    peerId: expect.peer,
    tesseraId: expect.tesseraId,
    verification: expect.shards ? "proof" as const : "checksum" as const,
    answered: true,
    attestation: a,
  };
  const reject = (reason: string): AttestationCheck => ({
    ...base,
    authentic: false,
    proven: [],
    failed: [...expect.indices],
    reason,
  });
  if (a.holder !== expect.peer) {
    return reject(`answer names holder ${a.holder}, not ${expect.peer}`);
  }
  if (a.tesseraId !== expect.tesseraId) {
    return reject(`answer is for tessera ${a.tesseraId}`);
  }
  if (!(a.nonce instanceof Uint8Array) || !sameBytes(a.nonce, nonce)) {
    return reject("answer does not echo our nonce (replayed or forged)");
  }
  const skew = Math.abs(a.timestamp - ctx.clock.now());
  if (!Number.isFinite(skew) || skew > ctx.maxSkewMs) {
    return reject(`answer timestamp is ${skew} ms away from our clock`);
  }
  let signed = false;
  try {
    const { signature, ...unsigned } = a;
    signed = await ctx.identity.verify(
      a.holder,
      attestationSigningBytes(unsigned),
      signature,
    );
  } catch {
    signed = false;
  }
  if (!signed) return reject("signature does not verify with the holder's key");

  const byIndex = new Map<number, (typeof a.entries)[number]>();
  for (const e of a.entries) if (!byIndex.has(e.index)) byIndex.set(e.index, e);
  const wanted = expect.indices.length > 0
    ? expect.indices
    : [...byIndex.keys()].sort((x, y) => x - y);
  const key = expect.shards ? attestationKey(expect.tesseraId, nonce) : null;
  const proven: number[] = [];
  const failed: number[] = [];
  for (const index of wanted) {
    const e = byIndex.get(index);
    const checksum = expect.checksums?.[index];
    const shard = expect.shards?.[index];
    const ok = e !== undefined &&
      (checksum === undefined || e.checksum === checksum) &&
      (key === null || shard === undefined ||
        e.proof === attestationProof(key, shard));
    (ok ? proven : failed).push(index);
  }
  return {
    ...base,
    authentic: true,
    proven,
    failed,
    ...(failed.length > 0
      ? { reason: `shards ${failed.join(",")} missing or not proven` }
      : {}),
  };
}

/**
 * Check an attestation against what we expect, without a network: the
 * holder, tessera, nonce echo, freshness (`maxSkewMs` of `now`), the
 * signature (via `verify`), and per shard the checksum and, when shard
 * bytes are given, the keyed proof.
 *
 * @example
 * ```ts
 * const check = await verifyAttestation(attestation, {
 *   tesseraId, peer, indices: [0], nonce, checksums,
 *   now: Date.now(), maxSkewMs: 300_000, verify: identity.verify,
 * });
 * ```
 */
export function verifyAttestation(
  attestation: Attestation,
  expect: Expectation & {
    readonly nonce: Uint8Array;
    readonly now: number;
    readonly maxSkewMs: number;
    readonly verify: (
      peer: PeerId,
      data: Uint8Array,
      signature: Uint8Array,
    ) => Promise<boolean>;
  },
): Promise<AttestationCheck> {
  const ctx = {
    clock: { now: () => expect.now },
    maxSkewMs: expect.maxSkewMs,
    identity: { verify: expect.verify },
  } as unknown as ServiceContext;
  return verifyAnswer(ctx, expect, { nonce: expect.nonce, attestation });
}

/** Internal: throw `INVALID_INPUT` unless `nonce` is 32 bytes. */
export function assertNonce(nonce: unknown): asserts nonce is Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) {
    throw new TesserasError(
      "INVALID_INPUT",
      "attestation nonce must be 32 random bytes",
    );
  }
}

/**
 * Internal: `attestHolder` — challenge `peer` for a tracked tessera,
 * verifying proofs when our blob lets us recompute the shards.
 */
export async function attestPeer(
  ctx: ServiceContext,
  target: { tesseraId: TesseraId; peer: PeerId },
  options: IoOptions & { readonly indices?: readonly number[] } = {},
): Promise<AttestationCheck> {
  const tracked = await ctx.holders.get(target.tesseraId);
  let indices = options.indices;
  if (!indices) {
    const records = await ctx.holders.holders(target.tesseraId);
    indices = records.filter((h) => h.peerId === target.peer).map((h) =>
      h.index
    );
  }
  const own = await ownShards(ctx, target.tesseraId, options);
  return await challenge(ctx, {
    tesseraId: target.tesseraId,
    peer: target.peer,
    indices: [...new Set(indices)],
    checksums: tracked?.checksums,
    shards: own?.shards,
  }, options);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
