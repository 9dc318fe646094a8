/**
 * BLAKE3 of a byte stream and, on the same pass, of each of its
 * consecutive fixed-size slices: a tessera's id and its data shards'
 * checksums from one read of the file.
 *
 * @module
 */
import { type StagedCopy, toHex } from "../core/mod.ts";
import { type Blake3Hasher, createBlake3 } from "./blake3.ts";

/** The slices to hash: `count` of `size` bytes, from the start. */
export interface Slices {
  /** Bytes per slice. */
  readonly size: number;
  /** Slices; bytes past the last are in the whole hash only. */
  readonly count: number;
}

/** What {@linkcode SlicedHash.digest} gives. */
export interface SlicedDigest {
  /** BLAKE3-256 of every byte fed, lowercase hex. */
  readonly hash: string;
  /**
   * BLAKE3-256 of each slice, zero-padded to `size` (a data shard's
   * checksum: the last shards of a tessera are padded), when slices were
   * asked for.
   */
  readonly slices?: string[];
}

/** Zeros fed in pieces of this size when padding a slice. */
const ZEROS = new Uint8Array(64 * 1024);

/**
 * BLAKE3 of the bytes fed in order, and of each slice of them.
 *
 * @example
 * ```ts
 * import { SlicedHash } from "./sliced_hash.ts";
 * const h = new SlicedHash({ size: 4, count: 3 });
 * h.update(new Uint8Array([1, 2, 3, 4, 5]));
 * h.update(new Uint8Array([6]));
 * const { hash, slices } = h.digest(); // slices: [1..4], [5, 6, 0, 0], [0 × 4]
 * ```
 */
export class SlicedHash {
  readonly #whole: Blake3Hasher = createBlake3();
  readonly #slices: Blake3Hasher[];
  readonly #size: number;
  /** Bytes fed so far. */
  #fed = 0;

  constructor(slices?: Slices) {
    const count = slices?.count ?? 0;
    this.#size = slices?.size ?? 0;
    if (count > 0 && !(Number.isSafeInteger(this.#size) && this.#size > 0)) {
      throw new RangeError(
        `slice size ${this.#size} is not a positive integer`,
      );
    }
    this.#slices = Array.from({ length: count }, () => createBlake3());
  }

  /** Feed the next bytes (not kept). */
  update(bytes: Uint8Array): void {
    this.#whole.update(bytes);
    const size = this.#size;
    let at = this.#slices.length === 0 ? bytes.length : 0;
    while (at < bytes.length) {
      const slice = Math.floor(this.#fed / size);
      if (slice >= this.#slices.length) break;
      const take = Math.min(bytes.length - at, (slice + 1) * size - this.#fed);
      this.#slices[slice].update(bytes.subarray(at, at + take));
      at += take;
      this.#fed += take;
    }
    this.#fed += bytes.length - at;
  }

  /** The hashes; the slices short of `size` are padded with zeros first. */
  digest(): SlicedDigest {
    const hash = toHex(this.#whole.digest());
    if (this.#slices.length === 0) return { hash };
    const slices = this.#slices.map((h, i) => {
      const fed = Math.max(0, Math.min(this.#size, this.#fed - i * this.#size));
      for (let pad = this.#size - fed; pad > 0; pad -= ZEROS.length) {
        h.update(ZEROS.subarray(0, Math.min(pad, ZEROS.length)));
      }
      return toHex(h.digest());
    });
    return { hash, slices };
  }
}

/**
 * What an import hands back of a digest (`StagedCopy`): the whole hash
 * when it was asked for, the slices when there were any.
 *
 * @example
 * ```ts
 * import { importedHashes } from "./sliced_hash.ts";
 * importedHashes({ hash: "ab".repeat(32) }, true); // { blake3: "abab…" }
 * ```
 */
export function importedHashes(
  digest: SlicedDigest,
  whole: boolean | undefined,
): Pick<StagedCopy, "blake3" | "sliceHashes"> {
  return {
    ...(whole ? { blake3: digest.hash } : {}),
    ...(digest.slices ? { sliceHashes: digest.slices } : {}),
  };
}
