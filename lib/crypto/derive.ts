/**
 * Everything the person owns, derived from the recovery phrase's 32 bytes
 * of entropy with HKDF-SHA256 (salt `tesseras/v1`, one info string per
 * key), so the phrase alone restores it all:
 *
 * | info | bytes | use |
 * |---|---|---|
 * | `tesseras/v1/node-identity` | 32 | Ed25519 seed of the node's libp2p identity |
 * | `tesseras/v1/catalogue-key` | 32 | AES-256-GCM key of the catalogue |
 * | `tesseras/v1/catalogue-signing` | 32 | Ed25519 seed that signs the catalogue's DHT record |
 *
 * The catalogue's DHT record key is SHA-256 of `tesseras/v1/catalogue-record`
 * followed by the catalogue signing public key: found from the phrase
 * alone, checkable by any holder against the key that signed a record, and
 * not linkable to the node id without the phrase (the node identity and
 * the catalogue signing key are independent HKDF outputs).
 *
 * @module
 */
import { hkdfSha256, sha256 } from "./hash.ts";
import { ed25519FromSeed, type Ed25519KeyPair } from "./ed25519.ts";
import { ENTROPY_BYTES } from "./phrase.ts";
import { TesserasError } from "../core/mod.ts";

/** HKDF salt of every key derived from the phrase. */
export const DERIVATION_SALT = "tesseras/v1";
/** HKDF info strings, one per derived key (never reuse one). */
export const DERIVATION_INFO = {
  nodeIdentity: "tesseras/v1/node-identity",
  catalogueKey: "tesseras/v1/catalogue-key",
  catalogueSigning: "tesseras/v1/catalogue-signing",
} as const;
/** Domain prefix of the catalogue record key's hash. */
export const RECORD_KEY_DOMAIN = "tesseras/v1/catalogue-record";

/** The keys derived from a recovery phrase. */
export interface PhraseKeys {
  /** Ed25519 seed of the node identity (libp2p `generateKeyPairFromSeed`). */
  readonly identitySeed: Uint8Array;
  /** AES-256-GCM key of the catalogue. */
  readonly catalogueKey: Uint8Array;
  /** Key pair that signs the catalogue's DHT record. */
  readonly catalogueSigner: Ed25519KeyPair;
  /** The catalogue record's DHT key (32 bytes). */
  readonly recordKey: Uint8Array;
}

/**
 * Derive every key of the phrase whose entropy is `entropy` (32 bytes).
 * Deterministic: the same entropy always gives the same keys.
 *
 * @example
 * ```ts
 * const keys = await derivePhraseKeys(new Uint8Array(32));
 * keys.identitySeed.length; // 32
 * keys.recordKey.length; // 32
 * ```
 */
export async function derivePhraseKeys(
  entropy: Uint8Array,
): Promise<PhraseKeys> {
  if (entropy.length !== ENTROPY_BYTES) {
    throw new TesserasError(
      "INVALID_INPUT",
      `phrase entropy has ${ENTROPY_BYTES} bytes, got ${entropy.length}`,
    );
  }
  const salt = new TextEncoder().encode(DERIVATION_SALT);
  const derive = (info: string) => hkdfSha256(entropy, info, { salt });
  const identitySeed = await derive(DERIVATION_INFO.nodeIdentity);
  const catalogueKey = await derive(DERIVATION_INFO.catalogueKey);
  const signingSeed = await derive(DERIVATION_INFO.catalogueSigning);
  const catalogueSigner = await ed25519FromSeed(signingSeed);
  signingSeed.fill(0);
  return {
    identitySeed,
    catalogueKey,
    catalogueSigner,
    recordKey: await recordKeyOf(catalogueSigner.publicKey),
  };
}

/**
 * The DHT key of the catalogue record signed by `publicKey`: SHA-256 of
 * {@linkcode RECORD_KEY_DOMAIN} then the key. Holders check a record
 * against it, so only the phrase's owner can write under it.
 *
 * @example
 * ```ts
 * (await recordKeyOf(new Uint8Array(32))).length; // 32
 * ```
 */
export async function recordKeyOf(publicKey: Uint8Array): Promise<Uint8Array> {
  return await sha256(new TextEncoder().encode(RECORD_KEY_DOMAIN), publicKey);
}
