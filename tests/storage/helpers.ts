/**
 * Shared fixtures of the storage tests: temp directories that are always
 * removed, a settable clock, random shards with their real checksums.
 *
 * @module
 */
import { blake3Hex } from "../../lib/codec/mod.ts";
import type { FragmentId } from "../../lib/core/mod.ts";
import { type Database, openDatabase } from "../../lib/storage/mod.ts";

/** Runs `fn` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras_storage_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` with a database in a fresh temp directory, closed afterwards. */
export function withDb<T>(
  fn: (db: Database, dir: string) => Promise<T>,
  options: { now?: () => number } = {},
): Promise<T> {
  return withTempDir(async (dir) => {
    const db = await openDatabase(`${dir}/db/tesseras.db`, {
      synchronous: "NORMAL",
      clock: options.now ? { now: options.now } : undefined,
    });
    try {
      return await fn(db, dir);
    } finally {
      db.close();
    }
  });
}

/** A clock whose time the test sets. */
export class ManualClock {
  /** Current time, ms since the epoch. */
  ms: number;
  /** @param ms start time */
  constructor(ms = 1_700_000_000_000) {
    this.ms = ms;
  }
  /** The current time. */
  now(): number {
    return this.ms;
  }
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A shard of `n` bytes with a correct fragment id. */
export function shard(
  n: number,
  opts: {
    seed?: number;
    index?: number;
    shardCount?: number;
    tesseraId?: string;
  } = {},
): { id: FragmentId; data: Uint8Array } {
  const data = bytes(n, opts.seed ?? n + 7);
  const index = opts.index ?? 0;
  return {
    id: {
      tesseraId: opts.tesseraId ?? blake3Hex(bytes(32, (opts.seed ?? 1) + 99)),
      index,
      shardCount: opts.shardCount ?? Math.max(index + 1, 24),
      checksum: blake3Hex(data),
    },
    data,
  };
}

/** Sorted names in `dir` (recursively, as relative paths). */
export async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, prefix: string) {
    for await (const e of Deno.readDir(d)) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) {
        out.push(`${rel}/`);
        await walk(`${d}/${e.name}`, rel);
      } else out.push(rel);
    }
  }
  try {
    await walk(dir, "");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}
