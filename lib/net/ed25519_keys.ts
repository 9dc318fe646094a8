/**
 * Ed25519 signing and verification with key objects imported once.
 *
 * `@libp2p/crypto` imports the key from JWK for every signature and every
 * verification (`createPrivateKey`/`createPublicKey`), which cost more
 * than the signature itself: at 100 in-process nodes, about 5% of all CPU
 * time went to re-importing the same few keys (Noise handshakes, identify
 * records, attestations). The signatures are the same bytes: Ed25519 is
 * deterministic.
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { toString as toBase64Url } from "uint8arrays/to-string";
import type { SignedBytes } from "../core/mod.ts";

const SIGNATURE_BYTES = 64;

/**
 * `key` with a `sign` that reuses one imported key object; any other key
 * type comes back unchanged. Everything else (`raw`, `publicKey`,
 * `equals`, `type`) is the original's.
 *
 * @example
 * ```ts
 * import type { PrivateKey } from "@libp2p/interface";
 * declare const privateKey: PrivateKey;
 * declare const bytes: Uint8Array;
 * const fast = withCachedSigning(privateKey);
 * const signature = await fast.sign(bytes); // same bytes as privateKey.sign
 * ```
 */
export function withCachedSigning(key: PrivateKey): PrivateKey {
  if (key.type !== "Ed25519" || key.raw.byteLength !== 64) return key;
  const keyObject = createPrivateKey({
    format: "jwk",
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: toBase64Url(key.raw.subarray(0, 32), "base64url"),
      x: toBase64Url(key.raw.subarray(32), "base64url"),
    },
  });
  return Object.create(key, {
    sign: {
      value: (
        message: Uint8Array | { subarray(): Uint8Array },
        options?: { signal?: AbortSignal },
      ): Uint8Array => {
        options?.signal?.throwIfAborted();
        const bytes = message instanceof Uint8Array
          ? message
          : message.subarray();
        return sign(null, bytes, keyObject); // a Buffer, as libp2p returns
      },
    },
  }) as PrivateKey;
}

/** Imported public keys by peer id (bounded: cleared when full). */
const publicKeys = new Map<string, KeyObject | null>();
const MAX_CACHED_KEYS = 4096;

function publicKeyOf(peer: string): KeyObject | null {
  let key = publicKeys.get(peer);
  if (key !== undefined) return key;
  key = null;
  try {
    const publicKey = peerIdFromString(peer).publicKey;
    if (publicKey?.type === "Ed25519") {
      key = createPublicKey({
        format: "jwk",
        key: {
          kty: "OKP",
          crv: "Ed25519",
          x: toBase64Url(publicKey.raw, "base64url"),
        },
      });
    }
  } catch {
    // malformed peer id: no key
  }
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
  publicKeys.set(peer, key);
  return key;
}

/**
 * True when `signed.signature` over `signed.data` was made by the Ed25519
 * key embedded in the peer id `peer`; `undefined` when the peer id embeds no Ed25519
 * key (malformed, RSA…), for the caller to decide.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * declare const signature: Uint8Array;
 * const ok = verifyEd25519("12D3KooW…", { data: bytes, signature });
 * ```
 */
export function verifyEd25519(
  peer: string,
  signed: SignedBytes,
): boolean | undefined {
  const { data, signature } = signed;
  const key = publicKeyOf(peer);
  if (key === null) return undefined;
  if (signature.byteLength !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
