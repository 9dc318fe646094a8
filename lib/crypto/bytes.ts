/**
 * Byte helpers of the crypto kernels.
 *
 * @module
 */

/**
 * True when `a` and `b` hold the same bytes. Not constant-time: use it on
 * public values (record keys, checksums a person typed), never to compare
 * a secret with a guess.
 *
 * @example
 * ```ts
 * sameBytes(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `bytes` typed as WebCrypto's `BufferSource` wants (an `ArrayBuffer`
 * underneath, which every array of ours has: none is shared memory).
 *
 * @example
 * ```ts
 * await crypto.subtle.digest("SHA-256", source(new Uint8Array(1)));
 * ```
 */
export function source(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

/**
 * The byte strings of `parts` joined into one.
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
