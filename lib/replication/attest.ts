/**
 * Attestation, the requester's side and the shared crypto: a fresh nonce
 * per challenge, BLAKE3 proofs over shard bytes keyed by it, and the
 * checks an answer must pass.
 *
 * @module
 */
import {
  type Attestation,
  type AttestationEntry,
  attestationSigningBytes,
  type Checksum,
  type IoOptions,
  isTesserasError,
  type PeerId,
  type ProofAnswer,
  type SignedBytes,
  type TesseraId,
} from "../core/mod.ts";
import { judgeAnswer } from "../codec/mod.ts";
import { attestationProof } from "./attest_crypto.ts";
import type { ServiceContext } from "./context.ts";
import { OwnShards, type ProofRequest } from "./own_shards.ts";
import { mapPool } from "../core/mod.ts";

export { attestationProof };

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
  /**
   * How the shards were checked: chunk proofs against the checksums
   * (`chunk`, docs/proofs.md: no bytes of ours needed), keyed proofs
   * against our own copy (`proof`), or only the checksums (`checksum`:
   * no bytes to check proofs against, or a listing, which has none).
   */
  readonly verification: "chunk" | "proof" | "checksum";
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
  /**
   * Every shard's size, when known (the plan's): with the checksums it
   * lets chunk proofs check the holder from the checksums alone.
   */
  readonly shardSize?: number;
  /** Shard bytes by index, when we can recompute them (our blob). */
  readonly shards?: readonly Uint8Array[];
  /**
   * Ask for a listing, not proofs ({@linkcode AttestRequest.listing}):
   * which shards the holder keeps and their checksums, which is all a
   * stranger's discovery can use. Its `proven` are the shards listed with
   * the checksum expected, proven by nothing. Without it, an entry
   * without a proof is not proven, whatever else it carries.
   */
  readonly listing?: boolean;
}

/** Internal: computes keyed proofs of our own shards, in request order. */
export type Prover = (
  requests: readonly ProofRequest[],
  options?: IoOptions,
) => Promise<string[]>;

/** Internal: challenge `peer` and verify its answer. */
export async function challenge(
  ctx: ServiceContext,
  expect: Expectation,
  options: IoOptions = {},
): Promise<AttestationCheck> {
  return (await challengeAll(ctx, [expect], options))[0];
}

/**
 * Internal: challenge several holders (at most `concurrentTransfers` at
 * once) and verify their answers. Proofs are checked after every answer
 * is in, all in one call of `prover` (one pass over our blob), or against
 * each expectation's `shards` when no prover is given.
 */
export async function challengeAll(
  ctx: ServiceContext,
  expects: readonly Expectation[],
  options: IoOptions & { readonly prover?: Prover | null } = {},
): Promise<AttestationCheck[]> {
  const { signal } = options;
  const screened = await mapPool(expects, async (expect) => {
    if (chunkable(ctx, expect)) {
      return await chunkChallenge(ctx, expect, { signal });
    }
    const nonce = ctx.rng.bytes(32);
    let attestation: Attestation;
    try {
      attestation = await ctx.dht.requestAttestation(expect.peer, {
        tesseraId: expect.tesseraId,
        nonce,
        indices: expect.indices,
        ...(expect.listing ? { listing: true } : {}),
      }, { signal });
    } catch (e) {
      signal?.throwIfAborted();
      return unanswered(expect, verificationOf(expect, options.prover), e);
    }
    return await screen(ctx, expect, { nonce, attestation }, options.prover);
  }, { limit: ctx.config.concurrentTransfers });
  return await judgeAll(screened, options.prover, { signal });
}

/**
 * Whether `expect` is checked with chunk proofs: the transport carries
 * them and we know every asked shard's checksum and size. That is every
 * audit of the daemon and the simulator, owner with a copy or without,
 * steward or stranger: the one proof (docs/proofs.md). A single flipped
 * byte outside the samples is the holder's scrub's to find (scrub.ts),
 * not the audit's. The keyed whole-shard proof remains only for a
 * transport without chunk proofs; asking a holder what it holds is a
 * listing (no proofs at all).
 */
function chunkable(ctx: ServiceContext, expect: Expectation): boolean {
  return !expect.listing && ctx.dht.requestProof !== undefined &&
    expect.shardSize !== undefined && expect.checksums !== undefined &&
    expect.indices.length > 0 &&
    expect.indices.every((i) => expect.checksums![i] !== undefined);
}

/**
 * Challenge one holder with chunk proofs (docs/proofs.md) and judge its
 * answer from the checksums alone: the envelope (holder, tessera, nonce,
 * freshness, signature over every proof byte), then each shard's sampled
 * groups. The answer is kept as the attestation it signs (each entry's
 * proof the digest of that shard's proofs).
 */
async function chunkChallenge(
  ctx: ServiceContext,
  expect: Expectation,
  options: IoOptions,
): Promise<AttestationCheck> {
  const request = {
    tesseraId: expect.tesseraId,
    nonce: ctx.rng.bytes(32),
    indices: expect.indices,
  };
  let answer: ProofAnswer;
  try {
    answer = await ctx.dht.requestProof!(expect.peer, request, options);
  } catch (e) {
    options.signal?.throwIfAborted();
    return unanswered(expect, "chunk", e);
  }
  // Judged first: the groups' chaining values the judging computes are
  // what the signature covers, so each group is hashed once.
  const known = new Map(
    expect.indices.map((i) => [i, {
      checksum: expect.checksums![i],
      size: expect.shardSize!,
    }]),
  );
  const { verdicts, digests } = judgeAnswer(answer, {
    request,
    peer: expect.peer,
    known,
  });
  const attestation = attestationOfProofs(answer, digests);
  const reason = mismatch(ctx, expect, { nonce: request.nonce, attestation }) ??
    (await signedByHolder(ctx, attestation)
      ? null
      : "signature does not verify with the holder's key");
  if (reason !== null) {
    return rejected(expect, { verification: "chunk", attestation, reason });
  }
  // An answer carries a shard or two: scans, no sets or maps.
  const proven: number[] = [];
  const failed: number[] = [];
  for (const i of expect.indices) {
    (verdicts.some((v) => v.ok && v.index === i) ? proven : failed).push(i);
  }
  const check = {
    peerId: expect.peer,
    tesseraId: expect.tesseraId,
    verification: "chunk" as const,
    answered: true,
    authentic: true,
    attestation,
    proven,
    failed,
  };
  if (failed.length === 0) return check;
  const faults = verdicts.flatMap((v) =>
    v.ok ? [] : [`${v.index}: ${v.fault}`]
  );
  return {
    ...check,
    reason: `shards ${failed.join(",")} missing or not proven${
      faults.length > 0 ? ` (${faults.join("; ")})` : ""
    }`,
  };
}

async function signedByHolder(
  ctx: ServiceContext,
  a: Attestation,
): Promise<boolean> {
  try {
    // The signed bytes leave the signature out.
    return await ctx.identity.verify(a.holder, {
      data: attestationSigningBytes(a),
      signature: a.signature,
    });
  } catch {
    return false;
  }
}

/**
 * The attestation a chunk-proof answer signs: each shard's proof its
 * digest (`digests`, in the answer's order).
 */
function attestationOfProofs(
  answer: ProofAnswer,
  digests: readonly string[],
): Attestation {
  return {
    tesseraId: answer.tesseraId,
    holder: answer.holder,
    nonce: answer.nonce,
    entries: answer.shards.map((s, i) => ({
      index: s.index,
      checksum: s.checksum,
      proof: digests[i],
    })),
    timestamp: answer.timestamp,
    signature: answer.signature,
  };
}

/** The check of a holder that did not answer (`e` is why). */
function unanswered(
  expect: Expectation,
  verification: AttestationCheck["verification"],
  e: unknown,
): AttestationCheck {
  return {
    peerId: expect.peer,
    tesseraId: expect.tesseraId,
    verification,
    answered: false,
    authentic: false,
    proven: [],
    failed: [...expect.indices],
    reason: isTesserasError(e) ? `${e.code}: ${e.message}` : String(e),
  };
}

/** The check of an answer that is not authentic: every asked shard fails. */
function rejected(
  expect: Expectation,
  judged: {
    verification: AttestationCheck["verification"];
    attestation: Attestation;
    reason: string;
  },
): AttestationCheck {
  return {
    peerId: expect.peer,
    tesseraId: expect.tesseraId,
    verification: judged.verification,
    answered: true,
    attestation: judged.attestation,
    authentic: false,
    proven: [],
    failed: [...expect.indices],
    reason: judged.reason,
  };
}

/** An authentic answer whose shards remain to be judged. */
interface Screened {
  readonly pending: true;
  readonly expect: Expectation;
  readonly attestation: Attestation;
  readonly verification: "proof" | "checksum";
  /** Proof key (our nonce), when proofs are to be checked. */
  readonly key: Uint8Array | null;
  readonly wanted: readonly number[];
  /** The first entry of each index, when there are too many to scan. */
  readonly byIndex: ReadonlyMap<number, AttestationEntry> | null;
}

/** Entries an answer may have before a lookup map beats a scan. */
const SCAN_ENTRIES = 8;

function verificationOf(
  expect: Expectation,
  prover: Prover | null | undefined,
): "proof" | "checksum" {
  if (expect.listing) return "checksum";
  return prover || expect.shards ? "proof" : "checksum";
}

/** The first entry of `item`'s answer for shard `index`. */
function entryOf(item: Screened, index: number): AttestationEntry | undefined {
  if (item.byIndex) return item.byIndex.get(index);
  for (const e of item.attestation.entries) if (e.index === index) return e;
  return undefined;
}

/**
 * Whether entry `e` may stand for shard `index`: it carries the checksum
 * we recorded, if any, and a proof unless we asked for a listing (an
 * empty proof is a listing's, and a listing proves nothing).
 */
function entryAgrees(
  expect: Expectation,
  index: number,
  e: AttestationEntry | undefined,
): e is AttestationEntry {
  if (e === undefined) return false;
  if (e.proof === "" && !expect.listing) return false;
  const checksum = expect.checksums?.[index];
  return checksum === undefined || e.checksum === checksum;
}

/**
 * Why `answer` is not an answer to our challenge (holder, tessera, nonce
 * echo, freshness), or `null` when it is.
 */
function mismatch(
  ctx: ServiceContext,
  expect: Expectation,
  answer: { nonce: Uint8Array; attestation: Attestation },
): string | null {
  const { nonce, attestation: a } = answer;
  if (a.holder !== expect.peer) {
    return `answer names holder ${a.holder}, not ${expect.peer}`;
  }
  if (a.tesseraId !== expect.tesseraId) {
    return `answer is for tessera ${a.tesseraId}`;
  }
  if (!(a.nonce instanceof Uint8Array) || !sameBytes(a.nonce, nonce)) {
    return "answer does not echo our nonce (replayed or forged)";
  }
  const skew = Math.abs(a.timestamp - ctx.clock.now());
  if (!Number.isFinite(skew) || skew > ctx.maxSkewMs) {
    return `answer timestamp is ${skew} ms away from our clock`;
  }
  return null;
}

/**
 * Phase one of checking an answer to a challenge we made with `nonce`:
 * holder, tessera, nonce echo, freshness and signature. Exposed to tests
 * through {@linkcode verifyAttestation}.
 */
async function screen(
  ctx: ServiceContext,
  expect: Expectation,
  answer: { nonce: Uint8Array; attestation: Attestation },
  prover?: Prover | null,
): Promise<AttestationCheck | Screened> {
  const { nonce, attestation: a } = answer;
  const verification = verificationOf(expect, prover);
  let reason = mismatch(ctx, expect, answer);
  if (reason === null && !(await signedByHolder(ctx, a))) {
    reason = "signature does not verify with the holder's key";
  }
  if (reason !== null) {
    return rejected(expect, { verification, attestation: a, reason });
  }

  // Answers carry a shard or two: a scan beats building a map.
  let byIndex: Map<number, AttestationEntry> | null = null;
  if (a.entries.length > SCAN_ENTRIES || expect.indices.length === 0) {
    byIndex = new Map();
    for (const e of a.entries) {
      if (!byIndex.has(e.index)) byIndex.set(e.index, e);
    }
  }
  const wanted = expect.indices.length > 0
    ? expect.indices
    : [...byIndex!.keys()].sort((x, y) => x - y);
  return {
    pending: true,
    expect,
    attestation: a,
    verification,
    key: verification === "proof" ? nonce : null,
    wanted,
    byIndex,
  };
}

/** Phase two: compute the proofs every screened answer needs, and judge. */
async function judgeAll(
  items: readonly (AttestationCheck | Screened)[],
  prover: Prover | null | undefined,
  options: IoOptions,
): Promise<AttestationCheck[]> {
  // Proofs worth computing: entries present with the right checksum and a
  // proof. The judging below walks the same items and indices in the same
  // order and takes the next proof wherever a request was made here.
  const requests: ProofRequest[] = [];
  if (prover) {
    for (const item of items) {
      if (!isScreened(item) || item.key === null) continue;
      for (const index of item.wanted) {
        if (entryAgrees(item.expect, index, entryOf(item, index))) {
          requests.push({ key: item.key, index });
        }
      }
    }
  }
  const proofs = prover && requests.length > 0
    ? await prover(requests, options)
    : [];
  let next = 0;
  const out = new Array<AttestationCheck>(items.length);
  for (let n = 0; n < items.length; n++) {
    const item = items[n];
    if (!isScreened(item)) {
      out[n] = item;
      continue;
    }
    const { expect, key } = item;
    const proven: number[] = [];
    const failed: number[] = [];
    for (const index of item.wanted) {
      const e = entryOf(item, index);
      let ok = entryAgrees(expect, index, e);
      if (ok && key !== null) {
        if (prover) ok = e!.proof === proofs[next++];
        else {
          const shard = expect.shards?.[index];
          ok = shard === undefined ||
            e!.proof === attestationProof(key, shard);
        }
      }
      (ok ? proven : failed).push(index);
    }
    const check: AttestationCheck = {
      peerId: expect.peer,
      tesseraId: expect.tesseraId,
      verification: item.verification,
      answered: true,
      attestation: item.attestation,
      authentic: true,
      proven,
      failed,
    };
    out[n] = failed.length > 0
      ? { ...check, reason: notProven(item, failed) }
      : check;
  }
  return out;
}

/** Why shards `failed` of a screened answer failed, for its check. */
function notProven(item: Screened, failed: readonly number[]): string {
  const why = `shards ${failed.join(",")} missing or not proven`;
  if (item.expect.listing) return why;
  const listed = failed.filter((i) => entryOf(item, i)?.proof === "");
  if (listed.length === 0) return why;
  return why + ` (${listed.join(",")} listed without a proof: ` +
    "a listing proves nothing)";
}

function isScreened(item: AttestationCheck | Screened): item is Screened {
  return (item as Partial<Screened>).pending === true;
}

/**
 * Check an attestation against what we expect, without a network: the
 * holder, tessera, nonce echo, freshness (`maxSkewMs` of `now`), the
 * signature (via `verify`), and per shard the checksum and, when shard
 * bytes are given, the keyed proof.
 *
 * @example
 * ```ts
 * import type { Attestation, Checksum, NodeIdentity } from "../core/mod.ts";
 * declare const attestation: Attestation;
 * declare const tesseraId: string;
 * declare const peer: string;
 * declare const nonce: Uint8Array;
 * declare const checksums: Checksum[];
 * declare const identity: NodeIdentity;
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
    readonly verify: (peer: PeerId, signed: SignedBytes) => Promise<boolean>;
  },
): Promise<AttestationCheck> {
  const ctx = {
    clock: { now: () => expect.now },
    maxSkewMs: expect.maxSkewMs,
    identity: { verify: expect.verify },
  } as unknown as ServiceContext;
  return screen(ctx, expect, { nonce: expect.nonce, attestation }).then((
    item,
  ) => judgeAll([item], null, {}).then((checks) => checks[0]));
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
  const own = await OwnShards.open(ctx, target.tesseraId, options);
  const [check] = await challengeAll(ctx, [{
    tesseraId: target.tesseraId,
    peer: target.peer,
    indices: [...new Set(indices)],
    checksums: tracked?.checksums,
    shardSize: tracked?.plan.shardSize,
  }], {
    signal: options.signal,
    prover: own ? (requests, o) => own.prove(requests, o) : null,
  });
  return check;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
