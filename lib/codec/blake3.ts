/**
 * BLAKE3-256: one-shot, keyed and incremental hashing.
 *
 * @module
 */
import { TesserasError, toHex } from "../core/mod.ts";
import { blake3Chunk, blake3ChunkHex, CHUNK_BYTES } from "./blake3_chunk.ts";
import { PortableBlake3 } from "./blake3_portable.ts";
import { WasmBlake3, wasmBlake3Once } from "./blake3_wasm.ts";
import { codecWasm } from "./wasm_memory.ts";

/** An incremental BLAKE3 hasher. */
export interface Blake3Hasher {
  /** Absorb more bytes; returns the hasher for chaining. */
  update(data: Uint8Array): this;
  /** The 32-byte digest of everything absorbed; the hasher is then spent. */
  digest(): Uint8Array;
}

/** Options of {@linkcode createBlake3}. */
export interface Blake3Options {
  /** 32-byte key for BLAKE3's keyed mode (a MAC / keyed proof). */
  readonly key?: Uint8Array;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) {
    throw new TesserasError(
      "INVALID_INPUT",
      `BLAKE3 key must be 32 bytes, got ${key.length}: derive one with blake3()`,
    );
  }
}

/**
 * Wraps the engine (wasm SIMD, or portable TypeScript when the engine has
 * no wasm SIMD) and refuses use after `digest()`.
 */
class Hasher implements Blake3Hasher {
  readonly #inner: WasmBlake3 | PortableBlake3;
  #done = false;

  constructor(key?: Uint8Array) {
    this.#inner = codecWasm ? new WasmBlake3(key) : new PortableBlake3(key);
  }

  update(data: Uint8Array): this {
    this.#live();
    this.#inner.update(data);
    return this;
  }

  digest(): Uint8Array {
    this.#live();
    this.#done = true;
    return this.#inner.digest();
  }

  #live(): void {
    if (this.#done) {
      throw new TesserasError(
        "INVALID_INPUT",
        "BLAKE3 hasher already finalized: create a new one",
      );
    }
  }
}

/**
 * A new incremental BLAKE3-256 hasher, keyed when `options.key` (32 bytes)
 * is given.
 *
 * @example
 * ```ts
 * const h = createBlake3();
 * h.update(new Uint8Array([1])).update(new Uint8Array([2]));
 * const digest = h.digest(); // same as blake3(new Uint8Array([1, 2]))
 * ```
 */
export function createBlake3(options: Blake3Options = {}): Blake3Hasher {
  if (options.key) checkKey(options.key);
  return new Hasher(options.key);
}

/**
 * BLAKE3-256 of `data`, 32 bytes.
 *
 * @example
 * ```ts
 * blake3(new Uint8Array(0)).length; // 32
 * ```
 */
export function blake3(data: Uint8Array): Uint8Array {
  if (data.length <= CHUNK_BYTES) return blake3Chunk(undefined, data);
  if (codecWasm) return wasmBlake3Once(undefined, data);
  return new Hasher().update(data).digest();
}

/**
 * BLAKE3-256 of `data`, lowercase hex (the form of tessera ids).
 *
 * @example
 * ```ts
 * blake3Hex(new Uint8Array(0));
 * // "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
 * ```
 */
export function blake3Hex(data: Uint8Array): string {
  if (data.length <= CHUNK_BYTES) return blake3ChunkHex(undefined, data);
  return toHex(blake3(data));
}

/**
 * Keyed BLAKE3-256 of `data` under a 32-byte `key`, lowercase hex (the
 * form of attestation proofs).
 *
 * @example
 * ```ts
 * blake3KeyedHex(new Uint8Array(32), new Uint8Array([1, 2, 3])).length; // 64
 * ```
 */
export function blake3KeyedHex(key: Uint8Array, data: Uint8Array): string {
  checkKey(key);
  if (data.length <= CHUNK_BYTES) return blake3ChunkHex(key, data);
  return toHex(blake3Keyed(key, data));
}

/**
 * Keyed BLAKE3-256 of `data` under a 32-byte `key`.
 *
 * @example
 * ```ts
 * const mac = blake3Keyed(new Uint8Array(32), new Uint8Array([1, 2, 3]));
 * ```
 */
export function blake3Keyed(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  if (data.length <= CHUNK_BYTES) return blake3Chunk(key, data);
  if (codecWasm) return wasmBlake3Once(key, data);
  return new Hasher(key).update(data).digest();
}
