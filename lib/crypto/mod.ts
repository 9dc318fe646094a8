/**
 * The cryptographic kernels of tesseras: the recovery phrase and what it
 * derives, Shamir shares of it for heirs, the sealed catalogue and its
 * signed DHT record, segmented streaming encryption of private tesseras,
 * and their read capabilities. A pure library: it imports only `lib/core`
 * and audited npm packages (`@scure/bip39`, `@scure/base`,
 * `shamir-secret-sharing`); AES-GCM, HKDF, SHA-256 and Ed25519 come from
 * WebCrypto. `lib/node` wires it. The formats are described in
 * `docs/keys.md`.
 *
 * @example
 * ```ts
 * import { derivePhraseKeys, generatePhrase, parsePhrase } from "./mod.ts";
 * const { phrase } = generatePhrase();
 * const keys = await derivePhraseKeys(parsePhrase(phrase));
 * keys.identitySeed.length; // 32
 * ```
 *
 * @module
 */
export {
  ENTROPY_BYTES,
  generatePhrase,
  normaliseWords,
  parsePhrase,
  PHRASE_WORDS,
  phraseOf,
} from "./phrase.ts";
export {
  DERIVATION_INFO,
  DERIVATION_SALT,
  derivePhraseKeys,
  type PhraseKeys,
  RECORD_KEY_DOMAIN,
  recordKeyOf,
} from "./derive.ts";
export {
  combineShares,
  parseShareLine,
  type PhraseShare,
  SHARE_WORDS,
  type SplitOptions,
  splitPhrase,
} from "./shares.ts";
export {
  type Catalogue,
  type CatalogueEntry,
  MAX_CATALOGUE_BYTES,
  openCatalogue,
  sealCatalogue,
} from "./catalogue.ts";
export {
  type CatalogueRecord,
  DEFAULT_MAX_SKEW_MS,
  newerRecord,
  RECORD_BYTES,
  type RecordFields,
  signRecord,
  verifyRecord,
  type VerifyRecordOptions,
} from "./record.ts";
export {
  decryptBytes,
  decryptingStream,
  DEFAULT_SEGMENT_BYTES,
  encryptBytes,
  encryptedSize,
  encryptingStream,
  looksPrivate,
  maxPlainSize,
  newSegmentOpener,
  newSegmentSealer,
  SEGMENT_HEADER_BYTES,
  type SegmentOpener,
  type SegmentOptions,
  type SegmentSealer,
} from "./segments.ts";
export {
  CAPABILITY_PREFIX,
  formatCapability,
  looksLikeCapability,
  parseCapability,
  type ReadCapability,
} from "./capability.ts";
export {
  ed25519FromSeed,
  type Ed25519KeyPair,
  ed25519Sign,
  ed25519Verify,
} from "./ed25519.ts";
export { KEY_BYTES } from "./aes_gcm.ts";
export {
  type KeyWrapContext,
  openContentKey,
  sealContentKey,
  SEALED_KEY_BYTES,
} from "./key_wrap.ts";

/**
 * A fresh random 32-byte content key for one private tessera.
 *
 * @example
 * ```ts
 * newContentKey().length; // 32
 * ```
 */
export function newContentKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}
