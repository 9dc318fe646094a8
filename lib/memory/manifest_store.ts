/**
 * The in-memory {@linkcode ManifestStore}, for tests and the simulator.
 *
 * @module
 */
import type {
  IoOptions,
  ManifestStore,
  SignedManifest,
  TesseraId,
} from "../core/mod.ts";

/**
 * Signed manifests in a map; the first kept for a tessera stays.
 *
 * @example
 * ```ts
 * import { MemoryManifestStore } from "./manifest_store.ts";
 * const store = new MemoryManifestStore();
 * await store.put("ab".repeat(32), { bytes: new Uint8Array([1]), signature: new Uint8Array([2]) });
 * (await store.get("ab".repeat(32)))?.bytes.length; // 1
 * ```
 */
export class MemoryManifestStore implements ManifestStore {
  readonly #rows = new Map<TesseraId, SignedManifest>();
  readonly #copy: boolean;

  /**
   * @param options `copy: false` keeps the caller's buffers (the
   * simulator: a manifest's bytes are never mutated, and each holder
   * keeping its own copy of every manifest cost it memory); default `true`
   */
  constructor(options: { readonly copy?: boolean } = {}) {
    this.#copy = options.copy ?? true;
  }

  /** Keep `signed` unless one is kept for the tessera already. */
  put(
    tesseraId: TesseraId,
    signed: SignedManifest,
    options: IoOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    if (!this.#rows.has(tesseraId)) {
      // Copies: the caller's buffers may be views of a frame it reuses.
      // Without `copy` the bytes are shared (the simulator's decoder
      // knows a manifest by them), but a signature cut from a shared slab
      // is copied all the same: kept as it is, its 64 bytes would pin the
      // whole slab for as long as the manifest is kept.
      const sig = signed.signature;
      this.#rows.set(
        tesseraId,
        this.#copy ? { bytes: signed.bytes.slice(), signature: sig.slice() } : {
          bytes: signed.bytes,
          signature: sig.byteLength === sig.buffer.byteLength
            ? sig
            : sig.slice(),
        },
      );
    }
    return Promise.resolve();
  }

  /** The kept manifest, or `null`. */
  get(tesseraId: TesseraId): Promise<SignedManifest | null> {
    return Promise.resolve(this.#rows.get(tesseraId) ?? null);
  }

  /** Forget it. */
  delete(tesseraId: TesseraId): Promise<void> {
    this.#rows.delete(tesseraId);
    return Promise.resolve();
  }

  /** Every kept tessera id. */
  list(): Promise<TesseraId[]> {
    return Promise.resolve([...this.#rows.keys()]);
  }
}
