/**
 * Which groups of a shard a challenge asks for: drawn from the requester's
 * fresh nonce together with the holder's id, the tessera and the shard
 * index, so an answer proves one holder's copy of one shard for one
 * challenge and serves nobody else.
 *
 * {@linkcode SAMPLE_COUNT} distinct groups (every group of a shard that
 * has fewer) make a holder that lacks half of a shard pass with
 * probability at most 2^-20; docs/proofs.md derives it.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { blake3, blake3Keyed } from "./blake3.ts";
import { ChunkTree } from "./chunk_tree.ts";

/**
 * Groups sampled per shard and challenge: 20, so that missing half of a
 * shard passes with probability at most (1/2)^20 (sampling without
 * replacement only lowers it).
 */
export const SAMPLE_COUNT = 20;

/** What the sample positions are derived from. */
export interface SampleSeed {
  /** The requester's fresh random nonce, 32 bytes. */
  readonly nonce: Uint8Array;
  /** The holder's id (its peer id). */
  readonly holder: string;
  /** The tessera's id. */
  readonly tessera: string;
  /** The shard's index in the tessera. */
  readonly index: number;
}

/** Options of {@linkcode sampleGroups}. */
export interface SampleOptions {
  /** Groups to draw; default {@linkcode SAMPLE_COUNT}. */
  readonly count?: number;
}

const DOMAIN = "tesseras/chunk-sample/v1";
const encoder = new TextEncoder();

/**
 * The groups a challenge asks of a shard of `size` bytes: `count`
 * distinct groups drawn uniformly without replacement (all of them when
 * the shard has no more), ascending. Deterministic in the seed, so the
 * holder and the requester compute the same list.
 *
 * @example
 * ```ts
 * const nonce = crypto.getRandomValues(new Uint8Array(32));
 * const seed = { nonce, holder: "12D3KooW...", tessera: "ab12...", index: 3 };
 * sampleGroups(seed, 22 << 20).length; // 20
 * sampleGroups(seed, 400); // [0]
 * ```
 */
export function sampleGroups(
  seed: SampleSeed,
  size: number,
  options: SampleOptions = {},
): number[] {
  const { groups } = new ChunkTree(size);
  const count = options.count ?? SAMPLE_COUNT;
  if (!Number.isInteger(count) || count < 1) {
    throw new TesserasError(
      "INVALID_INPUT",
      `sample count ${count} is not a positive whole number`,
    );
  }
  if (groups <= count) {
    // Every group (the simulator's one-group shards on every challenge):
    // a plain loop, not Array.from with a callback.
    const all = new Array<number>(groups);
    for (let g = 0; g < groups; g++) all[g] = g;
    return all;
  }
  const key = seedKey(seed, size);
  // 32-bit draws, rejected above the largest multiple of `groups` so
  // that every group is equally likely; repeats are drawn again.
  const limit = groups * Math.floor(0x100000000 / groups);
  const picked = new Set<number>();
  const block = new Uint8Array(4);
  const view = new DataView(block.buffer);
  for (let ctr = 0; picked.size < count; ctr++) {
    view.setUint32(0, ctr, true);
    const digest = blake3Keyed(key, block);
    const words = new DataView(digest.buffer, digest.byteOffset, 32);
    for (let w = 0; w < 8 && picked.size < count; w++) {
      const draw = words.getUint32(4 * w, true);
      if (draw < limit) picked.add(draw % groups);
    }
  }
  return [...picked].sort((a, b) => a - b);
}

/** The 32-byte key every draw of one challenge is hashed under. */
function seedKey(seed: SampleSeed, size: number): Uint8Array {
  const { nonce, holder, tessera, index } = seed;
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) {
    throw new TesserasError(
      "INVALID_INPUT",
      "sample nonce must be 32 random bytes",
    );
  }
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new TesserasError(
      "INVALID_INPUT",
      `shard index ${index} is not valid`,
    );
  }
  // Every field is length-prefixed, so no two seeds encode alike.
  const fields = [
    encoder.encode(DOMAIN),
    nonce,
    encoder.encode(holder),
    encoder.encode(tessera),
  ];
  const total = fields.reduce((n, f) => n + 4 + f.length, 0) + 12;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const f of fields) {
    view.setUint32(at, f.length, true);
    bytes.set(f, at + 4);
    at += 4 + f.length;
  }
  view.setUint32(at, index, true);
  view.setFloat64(at + 4, size, true);
  return blake3(bytes);
}

/** Options of {@linkcode passChance}. */
export interface PassChanceOptions {
  /** Groups in the shard. */
  readonly groups: number;
  /** Groups the holder cannot answer (it lacks a byte of each). */
  readonly missing: number;
  /** Distinct groups sampled; default {@linkcode SAMPLE_COUNT}. */
  readonly samples?: number;
}

/**
 * The probability that a holder missing `missing` of `groups` groups
 * passes one challenge of `samples` distinct groups:
 * C(groups - missing, s) / C(groups, s) with s = min(samples, groups),
 * at most (1 - missing / groups)^s.
 *
 * @example
 * ```ts
 * passChance({ groups: 2731, missing: 1366 }); // < 2 ** -20
 * ```
 */
export function passChance(options: PassChanceOptions): number {
  const { groups, missing } = options;
  const s = Math.min(options.samples ?? SAMPLE_COUNT, groups);
  let p = 1;
  for (let i = 0; i < s; i++) {
    p *= Math.max(0, groups - missing - i) / (groups - i);
  }
  return p;
}
