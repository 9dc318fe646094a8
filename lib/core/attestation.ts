/**
 * Attestation: a holder's proof that it holds a tessera's shards now.
 *
 * The requester sends a fresh random nonce; the holder answers, per shard,
 * with a keyed BLAKE3 over the shard bytes (key derived from the nonce) and
 * signs the whole answer with its node key. Keeping checksums alone is not
 * enough to answer, and an old answer does not match a new nonce.
 *
 * @module
 */
import { toHex } from "./hex.ts";
import type { Checksum, PeerId, TesseraId } from "./tessera.ts";

/** A request for proof of possession. */
export interface AttestRequest {
  /** Tessera whose shards must be proven. */
  readonly tesseraId: TesseraId;
  /** Fresh random nonce, 32 bytes. */
  readonly nonce: Uint8Array;
  /** Shard indices to prove; empty means every shard held. */
  readonly indices?: readonly number[];
}

/** Proof for one shard. */
export interface AttestationEntry {
  /** Shard index. */
  readonly index: number;
  /** BLAKE3 of the shard bytes as the holder stored it. */
  readonly checksum: Checksum;
  /** Keyed BLAKE3 (key derived from the nonce) over the shard bytes, hex. */
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
}

/**
 * The canonical bytes an attestation signature covers: a domain tag, the
 * tessera id, holder, nonce, timestamp and each entry, so no field can be
 * swapped without breaking the signature.
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
  const lines = [
    "tesseras-attestation-v1",
    attestation.tesseraId,
    attestation.holder,
    toHex(attestation.nonce),
    String(attestation.timestamp),
    ...attestation.entries.map((e) => `${e.index}:${e.checksum}:${e.proof}`),
  ];
  return new TextEncoder().encode(lines.join("\n"));
}
