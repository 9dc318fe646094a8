/**
 * Attestation: a holder's proof that it holds a tessera's shards now.
 *
 * The requester sends a fresh random nonce; the holder answers, per shard,
 * with a BLAKE3 over the shard bytes keyed by the nonce and
 * signs the whole answer with its node key. Keeping checksums alone is not
 * enough to answer, and an old answer does not match a new nonce.
 *
 * @module
 */
import { smallBytes } from "./bytes.ts";
import { TesserasError } from "./errors.ts";
import type { SignedManifest } from "./signed_manifest.ts";
import type { Checksum, PeerId, TesseraId } from "./tessera.ts";

/** A request for proof of possession. */
export interface AttestRequest {
  /** Tessera whose shards must be proven. */
  readonly tesseraId: TesseraId;
  /** Fresh random nonce, 32 bytes. */
  readonly nonce: Uint8Array;
  /** Shard indices to prove; empty means every shard held. */
  readonly indices?: readonly number[];
  /**
   * A listing, not a proof: the holder says which shards (of `indices`,
   * empty: all) it keeps and their stored checksums, each entry's `proof`
   * empty, without reading them; signed like any answer. What a stranger's
   * discovery asks (it has no bytes to check proofs against). Never set
   * where possession is to be proven: a listing proves nothing.
   */
  readonly listing?: boolean;
}

/** Proof for one shard. */
export interface AttestationEntry {
  /** Shard index. */
  readonly index: number;
  /** BLAKE3 of the shard bytes as the holder stored it. */
  readonly checksum: Checksum;
  /**
   * BLAKE3 keyed by the request's nonce over the shard bytes, hex; empty
   * in the answer to a listing ({@linkcode AttestRequest.listing}).
   */
  readonly proof: string;
}

/** A holder's signed answer to an {@linkcode AttestRequest}. */
export interface Attestation {
  /** Tessera attested. */
  readonly tesseraId: TesseraId;
  /** The holder's peer id. */
  readonly holder: PeerId;
  /** The nonce this answers (echoed). */
  readonly nonce: Uint8Array;
  /** One entry per shard held. */
  readonly entries: readonly AttestationEntry[];
  /** Holder's clock when it answered, ms since the Unix epoch. */
  readonly timestamp: number;
  /** Signature by the holder's key over {@linkcode attestationSigningBytes}. */
  readonly signature: Uint8Array;
  /**
   * The owner's signed manifest the holder keeps for the tessera, so that
   * a stranger learns its plan and checksums (issue 16). Outside the
   * holder's signature: the owner's signature covers it, and whoever reads
   * it validates it against the tessera id.
   */
  readonly manifest?: SignedManifest;
}

/** Domain tag of the signed bytes; bumped whenever their layout changes. */
const SIGNING_DOMAIN = "tesseras-attestation-v2\n";
const utf8 = new TextEncoder();
/** The domain tag is the same in every signed message: encoded once. */
const DOMAIN_BYTES = utf8.encode(SIGNING_DOMAIN);

/**
 * The canonical bytes an attestation signature covers: a domain tag, then
 * the tessera id, holder, nonce, timestamp and each entry's index,
 * checksum and proof, every variable field length-prefixed, so no field
 * can be swapped or shifted without breaking the signature. Binary and
 * built in one buffer: both sides build it for every attestation.
 *
 * @example
 * ```ts
 * const bytes = attestationSigningBytes({
 *   tesseraId: "00".repeat(32), holder: "peer", nonce: new Uint8Array(32),
 *   entries: [], timestamp: 0,
 * });
 * ```
 */
export function attestationSigningBytes(
  attestation: Omit<Attestation, "signature">,
): Uint8Array {
  const { tesseraId, holder, nonce, entries, timestamp } = attestation;
  // Worst case: 3 UTF-8 bytes per UTF-16 unit, 4 bytes of length each.
  let size = SIGNING_DOMAIN.length + 4 * 3 + 3 * (tesseraId.length +
        holder.length) +
    nonce.length + 8 + 4;
  for (const e of entries) {
    size += 4 + 8 + 3 * (e.checksum.length + e.proof.length);
  }
  if (scratch.length < size) scratch = new Uint8Array(2 * size);
  const out = scratch;
  out.set(DOMAIN_BYTES);
  let at = DOMAIN_BYTES.length;
  at = writeField(out, at, tesseraId);
  at = writeField(out, at, holder);
  writeU32(out, at, nonce.length);
  out.set(nonce, at + 4);
  at += 4 + nonce.length;
  float[0] = timestamp;
  out.set(floatBytes, at);
  if (BIG_ENDIAN) out.subarray(at, at + 8).reverse();
  writeU32(out, at + 8, entries.length);
  at += 12;
  for (const e of entries) {
    writeU32(out, at, e.index);
    at = writeField(out, at + 4, e.checksum);
    at = writeField(out, at, e.proof);
  }
  // Built in scratch at the worst-case size, handed out at the exact one.
  const signed = smallBytes(at);
  signed.set(out.subarray(0, at));
  return signed;
}

// Reused by every call: each runs to completion before the next.
let scratch = new Uint8Array(1024);
const float = new Float64Array(1);
const floatBytes = new Uint8Array(float.buffer);
/** The signed layout is little-endian on every machine. */
const BIG_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = value >>> 24;
}

/** `text` as UTF-8 behind its 4-byte length; returns the end offset. */
function writeField(out: Uint8Array, at: number, text: string): number {
  const end = writeText(out, at + 4, text);
  writeU32(out, at, end - at - 4);
  return end;
}

/** `text` as UTF-8 at `at` (ASCII copied directly); returns the end. */
function writeText(out: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      return at + i +
        utf8.encodeInto(text.slice(i), out.subarray(at + i)).written;
    }
    out[at + i] = c;
  }
  return at + n;
}

/**
 * Throws `INVALID_INPUT` when `request` asks for a listing: what a
 * request for chunk proofs must not be (a listing proves nothing). Both
 * the prove protocol's parser and the holder's answer apply it: the
 * simulator hands requests to the holder without a wire between them.
 *
 * @example
 * ```ts
 * import { assertNotListing } from "./attestation.ts";
 * assertNotListing({ tesseraId: "00".repeat(32), nonce: new Uint8Array(32) });
 * ```
 */
export function assertNotListing(request: AttestRequest): void {
  if (request.listing === true) {
    throw new TesserasError(
      "INVALID_INPUT",
      "a listing is asked over attest, not prove: chunk proofs prove",
    );
  }
}
