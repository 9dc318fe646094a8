/**
 * The tessera manifest: the owner's signed statement of a tessera's plan
 * and of every shard's checksum. It travels with every shard and each
 * holder keeps it beside its shard, so that once the owner is gone the
 * holders (stewards, see docs/stewards.md) still know what every shard
 * must hash to, who owns the tessera, and can refuse a shard that does
 * not match it. Nobody but the owner's key can make one.
 *
 * Canonical bytes: UTF-8 JSON with a fixed key order and no spaces; a
 * decoder re-encodes what it parsed and refuses bytes that differ, so one
 * manifest has exactly one byte form and one signature covers it.
 *
 * @module
 */
import { TesserasError } from "./errors.ts";
import {
  type FragmentId,
  type FragmentPlan,
  planFields,
  TIER_SHAPES,
} from "./fragment.ts";
import type { NodeIdentity } from "./ports.ts";
import { type Checksum, isTesseraId, MAX_TESSERA_SIZE } from "./tessera.ts";
import type { PeerId, TesseraId } from "./tessera.ts";
import type { SignedManifest } from "./signed_manifest.ts";

export type { SignedManifest } from "./signed_manifest.ts";

/** The version written in every manifest this code makes. */
export const MANIFEST_VERSION = 1;

/** The largest manifest accepted, bytes (a Large plan is about 5 KiB). */
export const MAX_MANIFEST_BYTES = 16 * 1024;

/** The longest signature accepted, bytes (Ed25519 signs in 64). */
export const MAX_MANIFEST_SIGNATURE_BYTES = 128;

/** What the owner states about one tessera. */
export interface Manifest {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** Its owner's peer id: the key that signed the manifest. */
  readonly owner: PeerId;
  /** When the owner placed it, ms since the epoch. */
  readonly createdAt: number;
  /** How it is fragmented. */
  readonly plan: FragmentPlan;
  /** BLAKE3 of every shard, by index (`plan.shardCount` of them). */
  readonly checksums: readonly Checksum[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Domain separation: a manifest signature is never valid as anything else. */
const DOMAIN = encoder.encode("tesseras/manifest/1\n");

function invalid(message: string): TesserasError {
  return new TesserasError("INVALID_INPUT", `manifest: ${message}`);
}

/**
 * The canonical bytes of `manifest`; throws `INVALID_INPUT` when it is
 * not well formed (see {@linkcode checkManifestShape}).
 *
 * @example
 * ```ts
 * import { encodeManifest } from "./manifest.ts";
 * const bytes = encodeManifest({
 *   tesseraId: "ab".repeat(32), owner: "peer-a", createdAt: 1,
 *   plan: { size: 3, tier: "small", dataShards: 1, parityShards: 0,
 *     shardCount: 1, shardSize: 3 },
 *   checksums: ["cd".repeat(32)],
 * });
 * bytes.length > 0; // true
 * ```
 */
export function encodeManifest(manifest: Manifest): Uint8Array {
  checkManifestShape(manifest);
  return encoder.encode(canonicalText(manifest));
}

/** The canonical JSON text of `manifest`, checked well formed. */
function canonicalText(manifest: Manifest): string {
  // Key order fixed here, not by the caller's object: canonical bytes.
  return JSON.stringify({
    v: MANIFEST_VERSION,
    tesseraId: manifest.tesseraId,
    owner: manifest.owner,
    createdAt: manifest.createdAt,
    plan: planFields(manifest.plan),
    checksums: [...manifest.checksums],
  });
}

/**
 * The manifest in canonical `bytes`; throws `INVALID_INPUT` on anything
 * else (bad UTF-8 or JSON, a wrong version or shape, non-canonical bytes,
 * more than {@linkcode MAX_MANIFEST_BYTES}). Checks no signature: use
 * {@linkcode validateManifest} for a manifest from the network.
 *
 * @example
 * ```ts
 * import { decodeManifest, encodeManifest, type Manifest } from "./manifest.ts";
 * const m: Manifest = {
 *   tesseraId: "ab".repeat(32), owner: "peer-a", createdAt: 1,
 *   plan: { size: 3, tier: "small", dataShards: 1, parityShards: 0,
 *     shardCount: 1, shardSize: 3 },
 *   checksums: ["cd".repeat(32)],
 * };
 * decodeManifest(encodeManifest(m)).owner; // "peer-a"
 * ```
 */
export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_MANIFEST_BYTES) {
    throw invalid(`more than ${MAX_MANIFEST_BYTES} bytes, or not bytes`);
  }
  let text: string, raw: unknown;
  try {
    text = decoder.decode(bytes);
    raw = JSON.parse(text);
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", "manifest: not UTF-8 JSON", {
      cause,
    });
  }
  const obj = raw as Record<string, unknown> & { plan?: FragmentPlan };
  if (typeof obj !== "object" || obj === null || obj.v !== MANIFEST_VERSION) {
    throw invalid(`not a version ${MANIFEST_VERSION} manifest`);
  }
  const manifest: Manifest = {
    tesseraId: obj.tesseraId as string,
    owner: obj.owner as string,
    createdAt: obj.createdAt as number,
    plan: obj.plan as FragmentPlan,
    checksums: obj.checksums as Checksum[],
  };
  // Every field but the checksums' characters, then the text, not the
  // bytes, compared (UTF-8 is one to one and the text is at hand), then
  // the checksums' characters where they lie in the bytes: a manifest
  // comes with every shard pushed, and 72 string tests cost most of it.
  checkFields(manifest);
  if (canonicalText(manifest) !== text) {
    throw invalid("bytes are not canonical");
  }
  if (!hexChecksumsAtEnd(bytes, manifest.checksums.length)) {
    throw invalid(badChecksums(manifest.plan.shardCount));
  }
  return manifest;
}

/**
 * Whether canonical manifest `bytes` end with `n` 64-hex strings:
 * `["…","…"]}`, each a quote, 64 lowercase hex characters and a quote.
 * Every other character of the region is at a fixed place, so a string
 * of other characters (or an escape, which is no hex) cannot pass.
 */
function hexChecksumsAtEnd(bytes: Uint8Array, n: number): boolean {
  const base = bytes.length - (n * 67 + 2);
  if (base < 0 || bytes[base] !== 0x5b || bytes[bytes.length - 1] !== 0x7d) {
    return false;
  }
  for (let i = 0; i < n; i++) {
    const q = base + 1 + i * 67;
    const after = i === n - 1 ? 0x5d : 0x2c; // `]` last, `,` between
    if (
      bytes[q] !== 0x22 || bytes[q + 65] !== 0x22 || bytes[q + 66] !== after
    ) {
      return false;
    }
    for (let j = q + 1; j <= q + 64; j++) {
      const c = bytes[j];
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    }
  }
  return true;
}

/**
 * Decodes manifests ({@linkcode decodeManifest}) and remembers the
 * manifest of each buffer it decoded, for as long as that buffer lives:
 * the same buffer again (by identity, never an equal copy) is not decoded
 * twice. Only for buffers nobody mutates: the simulator, whose holders
 * all keep the one buffer the owner signed (a manifest comes with every
 * shard pushed and every check, 72 checksums of text each time).
 *
 * @example
 * ```ts
 * import { encodeManifest, ManifestDecoder } from "./manifest.ts";
 * const bytes = encodeManifest({
 *   tesseraId: "ab".repeat(32), owner: "peer-a", createdAt: 1,
 *   plan: { size: 3, tier: "small", dataShards: 1, parityShards: 0,
 *     shardCount: 1, shardSize: 3 },
 *   checksums: ["cd".repeat(32)],
 * });
 * const decoder = new ManifestDecoder();
 * decoder.decode(bytes) === decoder.decode(bytes); // true
 * ```
 */
export class ManifestDecoder {
  readonly #known = new WeakMap<Uint8Array, Manifest>();

  /** The manifest in canonical `bytes` (throws as `decodeManifest`). */
  decode(bytes: Uint8Array): Manifest {
    const known = this.#known.get(bytes);
    if (known !== undefined) return known;
    const decoded = decodeManifest(bytes);
    // Frozen: every holder is handed the same object.
    Object.freeze(decoded.checksums);
    Object.freeze(decoded.plan);
    const manifest = Object.freeze(decoded);
    this.#known.set(bytes, manifest);
    return manifest;
  }
}

/**
 * Throws `INVALID_INPUT` unless `manifest` is well formed: a valid
 * tessera id, a non-empty owner, a non-negative integer time, a plan
 * whose shard counts match its tier and whose shard size is
 * `ceil(size / dataShards)`, and one 64-hex checksum per shard.
 *
 * @example
 * ```ts
 * import { checkManifestShape } from "./manifest.ts";
 * let refused = false;
 * try {
 *   checkManifestShape({ tesseraId: "x", owner: "p", createdAt: 0,
 *     plan: { size: 0, tier: "small", dataShards: 1, parityShards: 0,
 *       shardCount: 1, shardSize: 0 }, checksums: [] });
 * } catch {
 *   refused = true; // INVALID_INPUT: a bad id
 * }
 * ```
 */
export function checkManifestShape(manifest: Manifest): void {
  checkFields(manifest);
  if (!manifest.checksums.every(isTesseraId)) {
    throw invalid(badChecksums(manifest.plan.shardCount));
  }
}

function badChecksums(count: number): string {
  return `expected ${count} checksums of 64 hex characters`;
}

/** {@linkcode checkManifestShape} but the checksums' characters. */
function checkFields(manifest: Manifest): void {
  const { tesseraId, owner, createdAt, plan, checksums } = manifest ?? {};
  if (!isTesseraId(tesseraId)) throw invalid("invalid tessera id");
  if (typeof owner !== "string" || owner.length === 0 || owner.length > 128) {
    throw invalid("invalid owner peer id");
  }
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) {
    throw invalid(`invalid creation time ${createdAt}`);
  }
  checkPlan(plan);
  if (
    !Array.isArray(checksums) || checksums.length !== plan.shardCount ||
    !checksums.every((c) => typeof c === "string" && c.length === 64)
  ) {
    throw invalid(badChecksums(plan.shardCount));
  }
}

function checkPlan(plan: FragmentPlan | undefined): void {
  if (typeof plan !== "object" || plan === null) throw invalid("no plan");
  if (
    !Number.isSafeInteger(plan.size) || plan.size < 0 ||
    plan.size > MAX_TESSERA_SIZE
  ) {
    throw invalid(`invalid tessera size ${plan.size}`);
  }
  const shape = Object.hasOwn(TIER_SHAPES, plan.tier)
    ? TIER_SHAPES[plan.tier]
    : undefined;
  if (
    shape === undefined || plan.dataShards !== shape.dataShards ||
    plan.parityShards !== shape.parityShards ||
    plan.shardCount !== shape.dataShards + shape.parityShards
  ) {
    throw invalid("plan does not match its tier");
  }
  if (plan.shardSize !== Math.ceil(plan.size / plan.dataShards)) {
    throw invalid(`plan shard size ${plan.shardSize} does not fit its size`);
  }
}

/**
 * Sign `manifest` as its owner: `identity.peerId` must be
 * `manifest.owner` (`INVALID_INPUT` otherwise).
 *
 * @example
 * ```ts ignore
 * const signed = await signManifest(identity, manifest);
 * await validateManifest(signed, { identity }); // the manifest
 * ```
 */
export async function signManifest(
  identity: NodeIdentity,
  manifest: Manifest,
): Promise<SignedManifest> {
  if (identity.peerId !== manifest.owner) {
    throw invalid(
      `owner ${manifest.owner} cannot be signed for by ${identity.peerId}`,
    );
  }
  const bytes = encodeManifest(manifest);
  const signature = await identity.sign(signedBytes(bytes));
  return { bytes, signature };
}

/** What {@linkcode validateManifest} must also find. */
export interface ValidateManifestOptions {
  /** Verifies the owner's signature. */
  readonly identity: NodeIdentity;
  /** The tessera the manifest must be of. */
  readonly tesseraId?: TesseraId;
  /** The owner the manifest must name. */
  readonly owner?: PeerId;
  /** Decodes the bytes (default: {@linkcode decodeManifest}). */
  readonly decoder?: ManifestDecoder;
}

/**
 * The manifest of `signed` once its bytes decode canonically, it is of
 * the expected tessera and owner, and its owner's key signed it. Throws
 * `INVALID_INPUT` for malformed or mismatched bytes and `UNAUTHORIZED`
 * when the signature is not the owner's (a forged or altered manifest).
 *
 * @example
 * ```ts ignore
 * const manifest = await validateManifest(signed, { identity, tesseraId });
 * ```
 */
export async function validateManifest(
  signed: SignedManifest,
  options: ValidateManifestOptions,
): Promise<Manifest> {
  if (
    !(signed?.signature instanceof Uint8Array) ||
    signed.signature.length === 0 ||
    signed.signature.length > MAX_MANIFEST_SIGNATURE_BYTES
  ) {
    throw invalid("missing or oversized signature");
  }
  const manifest = options.decoder?.decode(signed.bytes) ??
    decodeManifest(signed.bytes);
  if (
    options.tesseraId !== undefined && options.tesseraId !== manifest.tesseraId
  ) {
    throw invalid(`is of ${manifest.tesseraId}, not ${options.tesseraId}`);
  }
  if (options.owner !== undefined && options.owner !== manifest.owner) {
    throw invalid(`names owner ${manifest.owner}, not ${options.owner}`);
  }
  let ok = false;
  try {
    ok = await options.identity.verify(manifest.owner, {
      data: signedBytes(signed.bytes),
      signature: signed.signature,
    });
  } catch {
    ok = false; // an owner id that is no key verifies nothing
  }
  if (!ok) {
    throw new TesserasError(
      "UNAUTHORIZED",
      `manifest of ${manifest.tesseraId} is not signed by its owner ${manifest.owner}: forged or altered`,
    );
  }
  return manifest;
}

/**
 * Throws `CHECKSUM_MISMATCH` unless the shard `fragment` of plan `plan`
 * is one the manifest states: same tessera, same plan, and the checksum
 * the manifest gives its index. The one place this rule is written.
 *
 * @example
 * ```ts ignore
 * checkShardInManifest(manifest, envelope); // throws on a foreign shard
 * ```
 */
export function checkShardInManifest(
  manifest: Manifest,
  shard: { readonly fragment: FragmentId; readonly plan: FragmentPlan },
): void {
  const { fragment, plan } = shard;
  const mismatch = (why: string) =>
    new TesserasError(
      "CHECKSUM_MISMATCH",
      `shard ${fragment.index} of ${fragment.tesseraId} does not match the owner's manifest: ${why}`,
    );
  if (fragment.tesseraId !== manifest.tesseraId) {
    throw mismatch("another tessera");
  }
  const m = manifest.plan;
  if (
    plan.size !== m.size || plan.tier !== m.tier ||
    plan.dataShards !== m.dataShards ||
    plan.parityShards !== m.parityShards ||
    plan.shardCount !== m.shardCount || plan.shardSize !== m.shardSize ||
    fragment.shardCount !== m.shardCount
  ) {
    throw mismatch("another plan");
  }
  if (manifest.checksums[fragment.index] !== fragment.checksum) {
    throw mismatch("another checksum");
  }
}

function signedBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + bytes.length);
  out.set(DOMAIN);
  out.set(bytes, DOMAIN.length);
  return out;
}
