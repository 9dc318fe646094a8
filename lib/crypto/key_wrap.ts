/**
 * A private tessera's content key as the owner's local catalogue keeps
 * it: sealed with the phrase's catalogue key and bound to the tessera id,
 * so the database file alone (a backup, a copy sent with a bug report)
 * opens nothing, and a sealed key moved to another row fails.
 *
 * Sealed form, 61 bytes: a version byte (1), a random 12-byte nonce, then
 * AES-256-GCM of the 32-byte key with `tesseras/v1/content-key` ‖ the
 * tessera id (its 64 hex characters) as associated data.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { gcmOpen, gcmSeal, importAesKey, KEY_BYTES } from "./aes_gcm.ts";
import { concatBytes } from "./bytes.ts";

const VERSION = 1;
/** Bytes of a sealed content key. */
export const SEALED_KEY_BYTES = 61;

/** Whose key, under which catalogue key. */
export interface KeyWrapContext {
  /** The phrase's 32-byte catalogue key. */
  readonly catalogueKey: Uint8Array;
  /** The private tessera the content key opens. */
  readonly tesseraId: string;
}

/**
 * `contentKey` sealed for the local catalogue.
 *
 * @example
 * ```ts
 * const ctx = { catalogueKey: new Uint8Array(32), tesseraId: "ab".repeat(32) };
 * const sealed = await sealContentKey(new Uint8Array(32).fill(1), ctx);
 * (await openContentKey(sealed, ctx))[0]; // 1
 * ```
 */
export async function sealContentKey(
  contentKey: Uint8Array,
  context: KeyWrapContext,
): Promise<Uint8Array> {
  if (contentKey.length !== KEY_BYTES) {
    throw new TesserasError("INVALID_INPUT", "a content key has 32 bytes");
  }
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await gcmSeal(
    await importAesKey(context.catalogueKey),
    contentKey,
    {
      iv,
      aad: aadOf(context.tesseraId),
    },
  );
  return concatBytes([new Uint8Array([VERSION]), iv, sealed]);
}

/**
 * The content key in `sealed`; `CHECKSUM_MISMATCH` when it was sealed
 * under another phrase or for another tessera, `INVALID_INPUT` when the
 * bytes are no sealed key.
 *
 * @example
 * ```ts
 * const ctx = { catalogueKey: new Uint8Array(32), tesseraId: "ab".repeat(32) };
 * const sealed = await sealContentKey(new Uint8Array(32), ctx);
 * (await openContentKey(sealed, ctx)).length; // 32
 * ```
 */
export async function openContentKey(
  sealed: Uint8Array,
  context: KeyWrapContext,
): Promise<Uint8Array> {
  if (sealed.length !== SEALED_KEY_BYTES || sealed[0] !== VERSION) {
    throw new TesserasError("INVALID_INPUT", "this is no sealed content key");
  }
  return await gcmOpen(
    await importAesKey(context.catalogueKey),
    sealed.subarray(13),
    {
      iv: sealed.subarray(1, 13),
      aad: aadOf(context.tesseraId),
      failure:
        `the key of tessera ${context.tesseraId} does not open with this node's recovery phrase (the catalogue row was altered or comes from another node)`,
    },
  );
}

function aadOf(tesseraId: string): Uint8Array {
  return new TextEncoder().encode(`tesseras/v1/content-key${tesseraId}`);
}
