/**
 * The wire and storage form of a tessera manifest (see manifest.ts), in a
 * file of its own so that the envelope and the ports name it without
 * importing the manifest's rules.
 *
 * @module
 */

/**
 * A manifest's canonical bytes with the owner's signature over them.
 *
 * @example
 * ```ts
 * import type { SignedManifest } from "./signed_manifest.ts";
 * const none: SignedManifest = { bytes: new Uint8Array(), signature: new Uint8Array() };
 * ```
 */
export interface SignedManifest {
  /** `encodeManifest` of the manifest. */
  readonly bytes: Uint8Array;
  /** The owner's signature over the domain-separated bytes. */
  readonly signature: Uint8Array;
}
