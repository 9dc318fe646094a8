/**
 * Where storage lives inside a data directory.
 *
 * @module
 */
import { join } from "node:path";

/** The storage locations of one data directory. */
export interface StoragePaths {
  /** `{data_dir}/db/tesseras.db` (SPEC §4). */
  readonly database: string;
  /** `{data_dir}/fragments`: shards held, `{tessera_id}/{index:03}.shard`. */
  readonly fragments: string;
  /** `{data_dir}/blobs`: the owner's own tesseras, `{id}.blob`. */
  readonly blobs: string;
}

/**
 * The storage paths under `dataDir`.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * const paths = storagePaths("/var/lib/tesseras");
 * const db = await openDatabase(paths.database);
 * ```
 */
export function storagePaths(dataDir: string): StoragePaths {
  return {
    database: join(dataDir, "db", "tesseras.db"),
    fragments: join(dataDir, "fragments"),
    blobs: join(dataDir, "blobs"),
  };
}
