/**
 * Input checks done before any path is built from an id or an index: a
 * tessera id is exactly 64 lowercase hex characters (so it can never hold
 * `/`, `\`, `..`, a drive letter or NUL), an index is a small integer.
 *
 * @module
 */
import {
  assertTesseraId,
  type FragmentId,
  isTesseraId,
  MAX_TESSERA_SIZE,
  TesserasError,
} from "../core/mod.ts";

/**
 * Most shards one tessera can have: Reed-Solomon over GF(2^8) allows at
 * most 256, which also keeps `{index:03}` at three digits.
 */
export const MAX_SHARD_COUNT = 256;

/**
 * Throws `INVALID_INPUT` unless `index` is an integer in
 * `[0, MAX_SHARD_COUNT)`.
 *
 * @example
 * ```ts
 * assertShardIndex(7);
 * ```
 */
export function assertShardIndex(index: unknown): asserts index is number {
  if (
    typeof index !== "number" || !Number.isInteger(index) || index < 0 ||
    index >= MAX_SHARD_COUNT
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid shard index ${
        String(index).slice(0, 40)
      }: expected an integer from 0 to ${MAX_SHARD_COUNT - 1}`,
    );
  }
}

/**
 * Throws `INVALID_ID` for a bad tessera id and `INVALID_INPUT` for a bad
 * index, shard count or checksum.
 *
 * @example
 * ```ts
 * declare const tesseraId: string;
 * declare const checksum: string;
 * assertFragmentId({ tesseraId, index: 0, shardCount: 1, checksum });
 * ```
 */
export function assertFragmentId(id: FragmentId): void {
  if (typeof id !== "object" || id === null) {
    throw new TesserasError("INVALID_INPUT", "fragment id must be an object");
  }
  assertTesseraId(id.tesseraId);
  assertShardIndex(id.index);
  const { shardCount } = id;
  if (
    typeof shardCount !== "number" || !Number.isInteger(shardCount) ||
    shardCount <= id.index || shardCount > MAX_SHARD_COUNT
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid shard count ${
        String(shardCount).slice(0, 40)
      } for shard index ${id.index}: expected an integer above the index and at most ${MAX_SHARD_COUNT}`,
    );
  }
  if (!isTesseraId(id.checksum)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "invalid shard checksum: expected 64 lowercase hex characters (BLAKE3-256)",
    );
  }
}

/**
 * Throws `TOO_LARGE` when a shard of `size` bytes exceeds the largest
 * tessera (no shard can be bigger than the whole).
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * assertShardSize(bytes.length);
 * ```
 */
export function assertShardSize(size: number): void {
  if (size > MAX_TESSERA_SIZE) {
    throw new TesserasError(
      "TOO_LARGE",
      `shard is ${size} bytes; no shard can exceed ${MAX_TESSERA_SIZE} bytes (1 GiB)`,
    );
  }
}

/**
 * The file name of shard `index`: `{index:03}.shard`.
 *
 * @example
 * ```ts
 * shardFileName(7); // "007.shard"
 * ```
 */
export function shardFileName(index: number): string {
  assertShardIndex(index);
  return `${String(index).padStart(3, "0")}.shard`;
}

/**
 * The file name of shard `index`'s outboard (docs/proofs.md):
 * `{index:03}.obao`, beside the shard.
 *
 * @example
 * ```ts
 * outboardFileName(7); // "007.obao"
 * ```
 */
export function outboardFileName(index: number): string {
  assertShardIndex(index);
  return `${String(index).padStart(3, "0")}.obao`;
}

const SHARD_FILE = /^(\d{3})\.shard$/;
const OUTBOARD_FILE = /^(\d{3})\.obao$/;

/**
 * The index named by an outboard file name, or `null` when `name` is not
 * one.
 *
 * @example
 * ```ts
 * parseOutboardFileName("007.obao"); // 7
 * ```
 */
export function parseOutboardFileName(name: string): number | null {
  const m = OUTBOARD_FILE.exec(name);
  if (!m) return null;
  const index = Number(m[1]);
  return index < MAX_SHARD_COUNT ? index : null;
}

/**
 * The index named by a shard file name, or `null` when `name` is not one.
 *
 * @example
 * ```ts
 * parseShardFileName("007.shard"); // 7
 * ```
 */
export function parseShardFileName(name: string): number | null {
  const m = SHARD_FILE.exec(name);
  if (!m) return null;
  const index = Number(m[1]);
  return index < MAX_SHARD_COUNT ? index : null;
}

/** Longest peer id accepted (libp2p peer ids are about 52 characters). */
export const MAX_PEER_ID_LENGTH = 256;

/**
 * Throws `INVALID_ID` unless `peer` is a non-empty string of at most
 * {@linkcode MAX_PEER_ID_LENGTH} characters without NUL or control
 * characters.
 *
 * @example
 * ```ts
 * assertPeerId("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
 * ```
 */
export function assertPeerId(peer: unknown): asserts peer is string {
  if (
    typeof peer !== "string" || peer.length === 0 ||
    peer.length > MAX_PEER_ID_LENGTH || hasControlChar(peer)
  ) {
    throw new TesserasError(
      "INVALID_ID",
      `invalid peer id ${
        JSON.stringify(String(peer).slice(0, 80))
      }: expected 1 to ${MAX_PEER_ID_LENGTH} printable characters`,
    );
  }
}

/**
 * True when `s` contains a C0 control character or DEL (NUL included).
 *
 * @example
 * ```ts
 * hasControlChar("a\0b"); // true
 * ```
 */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
