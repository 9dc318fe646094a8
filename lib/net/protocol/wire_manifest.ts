/**
 * The owner's signed manifest as two protobuf `bytes` fields (the
 * replicate envelope's 6 and 7, the attestation's 7 and 8): read from
 * the wire and bounded in one place. Its signature is checked by whoever
 * uses it (`validateManifest`); here only its size, so a peer cannot make
 * us decode megabytes.
 *
 * @module
 */
import {
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_SIGNATURE_BYTES,
  type SignedManifest,
} from "../../core/mod.ts";
import { plainBytes } from "./exchange.ts";

/**
 * The manifest two wire fields carry, or `undefined` when both are empty
 * (a sender without one).
 *
 * @example
 * ```ts
 * import { manifestFromFields } from "./wire_manifest.ts";
 * const none = manifestFromFields({
 *   manifest: new Uint8Array(0),
 *   manifestSignature: new Uint8Array(0),
 * });
 * ```
 */
export function manifestFromFields(
  wire: {
    readonly manifest: Uint8Array;
    readonly manifestSignature: Uint8Array;
  },
): SignedManifest | undefined {
  if (wire.manifest.length === 0 && wire.manifestSignature.length === 0) {
    return undefined;
  }
  return {
    bytes: plainBytes(wire.manifest),
    signature: plainBytes(wire.manifestSignature),
  };
}

/**
 * Why `manifest` is out of bounds (empty, or above
 * {@linkcode MAX_MANIFEST_BYTES} / {@linkcode MAX_MANIFEST_SIGNATURE_BYTES}),
 * or `null` when it is within them.
 *
 * @example
 * ```ts
 * import { manifestSizeProblem } from "./wire_manifest.ts";
 * const why = manifestSizeProblem({
 *   bytes: new Uint8Array(0),
 *   signature: new Uint8Array(64),
 * }); // "manifest of 0 bytes signed in 64: expected 1..16384 and 1..128"
 * ```
 */
export function manifestSizeProblem(manifest: SignedManifest): string | null {
  const { bytes, signature } = manifest;
  if (
    bytes.length > 0 && bytes.length <= MAX_MANIFEST_BYTES &&
    signature.length > 0 && signature.length <= MAX_MANIFEST_SIGNATURE_BYTES
  ) {
    return null;
  }
  return `manifest of ${bytes.length} bytes signed in ${signature.length}: expected 1..${MAX_MANIFEST_BYTES} and 1..${MAX_MANIFEST_SIGNATURE_BYTES}`;
}
