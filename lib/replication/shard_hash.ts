/**
 * BLAKE3 of one shard fed piecewise, plain (checksums) or keyed by a
 * challenge's nonce (proofs).
 *
 * @module
 */
import { toHex } from "../core/mod.ts";
import {
  type Blake3Hasher,
  blake3Hex,
  blake3KeyedHex,
  createBlake3,
} from "../codec/mod.ts";

/**
 * Internal: the hash of a shard of `size` bytes given in pieces. A shard
 * that comes in one piece (one stripe: every small shard) is hashed in
 * one call when digested, which for pieces of a chunk or less is several
 * times faster than the incremental hasher.
 */
export class ShardHash {
  readonly #size: number;
  readonly #key: Uint8Array | undefined;
  #whole: Uint8Array | null = null;
  #hasher: Blake3Hasher | null = null;

  constructor(size: number, key?: Uint8Array) {
    this.#size = size;
    this.#key = key;
  }

  /** Feed the next piece (kept by reference until the next call). */
  update(bytes: Uint8Array): void {
    if (!this.#hasher && !this.#whole && bytes.length === this.#size) {
      this.#whole = bytes;
      return;
    }
    if (!this.#hasher) {
      this.#hasher = createBlake3(this.#key ? { key: this.#key } : {});
      if (this.#whole) this.#hasher.update(this.#whole);
      this.#whole = null;
    }
    this.#hasher.update(bytes);
  }

  /** The hash, lowercase hex. */
  digest(): string {
    if (this.#hasher) return toHex(this.#hasher.digest());
    const bytes = this.#whole ?? new Uint8Array(0);
    return this.#key ? blake3KeyedHex(this.#key, bytes) : blake3Hex(bytes);
  }
}
