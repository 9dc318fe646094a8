/**
 * Ed25519 through WebCrypto from a 32-byte seed, the form every
 * phrase-derived key takes: a seed becomes a private key (PKCS#8 with the
 * RFC 8410 prefix), its public key comes out of the JWK export, and
 * signatures are the standard 64 bytes. libp2p's
 * `generateKeyPairFromSeed("Ed25519", seed)` makes the same key pair.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { source } from "./bytes.ts";

/** RFC 8410 PKCS#8 prefix of a bare 32-byte Ed25519 private key. */
const PKCS8_PREFIX = [
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
];

/** An Ed25519 key pair made from a seed. */
export interface Ed25519KeyPair {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The WebCrypto private key (extractable only as far as needed). */
  readonly privateKey: CryptoKey;
}

/**
 * The Ed25519 key pair of a 32-byte `seed`.
 *
 * @example
 * ```ts
 * const pair = await ed25519FromSeed(new Uint8Array(32));
 * pair.publicKey.length; // 32
 * ```
 */
export async function ed25519FromSeed(
  seed: Uint8Array,
): Promise<Ed25519KeyPair> {
  if (seed.length !== 32) {
    throw new TesserasError(
      "INVALID_INPUT",
      `an Ed25519 seed has 32 bytes, got ${seed.length}`,
    );
  }
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8,
    { name: "Ed25519" },
    true,
    ["sign"],
  );
  pkcs8.fill(0);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  return { publicKey: fromBase64Url(jwk.x ?? ""), privateKey };
}

/**
 * The 64-byte Ed25519 signature of `data` by `pair`.
 *
 * @example
 * ```ts
 * const pair = await ed25519FromSeed(new Uint8Array(32));
 * (await ed25519Sign(pair, new Uint8Array([1]))).length; // 64
 * ```
 */
export async function ed25519Sign(
  pair: Ed25519KeyPair,
  data: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign("Ed25519", pair.privateKey, source(data)),
  );
}

/**
 * True when `signature` over `data` was made by the holder of
 * `publicKey`; false (never a throw) for malformed keys or signatures.
 *
 * @example
 * ```ts
 * const pair = await ed25519FromSeed(new Uint8Array(32));
 * const sig = await ed25519Sign(pair, new Uint8Array([1]));
 * await ed25519Verify(pair.publicKey, { data: new Uint8Array([1]), signature: sig }); // true
 * ```
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  signed: { readonly data: Uint8Array; readonly signature: Uint8Array },
): Promise<boolean> {
  if (publicKey.length !== 32 || signed.signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      source(publicKey),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      "Ed25519",
      key,
      source(signed.signature),
      source(signed.data),
    );
  } catch {
    return false;
  }
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}
