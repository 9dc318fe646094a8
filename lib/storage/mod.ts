/**
 * Storage adapters: the node's SQLite database (WAL, migrations), shard
 * files with their rows (`FsFragmentStore`), the reciprocity ledger, the
 * holder registry, the owner's blobs, the DHT peer store of the
 * bootstrap document and the owner's memory of its peers' conduct
 * (`SqlitePeerStandingStore`). Implements the `FragmentStore`,
 * `ReciprocityLedger`, `HolderRegistry`, `BlobStore` and
 * `PeerStandingStore` ports of lib/core. `FsFragmentStore`
 * and `SqliteReciprocityLedger` must share one database: a shard pushed by
 * a peer and its credit are written in one transaction
 * (`FsFragmentStore.storeForPeer`).
 *
 * @example
 * ```ts
 * declare const dataDir: string;
 * import {
 *   FsFragmentStore,
 *   openDatabase,
 *   SqliteReciprocityLedger,
 *   storagePaths,
 * } from "./mod.ts";
 * const paths = storagePaths(dataDir);
 * const db = await openDatabase(paths.database);
 * const fragments = new FsFragmentStore(db, { root: paths.fragments });
 * await fragments.recoverAfterCrash(); // at start, before any push
 * const ledger = new SqliteReciprocityLedger(db);
 * // …
 * db.close();
 * ```
 *
 * @module
 */
export {
  type AppliedMigration,
  appliedMigrations,
  type Database,
  openDatabase,
  type OpenDatabaseOptions,
  withTransaction,
} from "./database.ts";
export { type Migration, MIGRATIONS } from "./migrations/mod.ts";
export {
  type CrashRecoveryReport,
  FsFragmentStore,
  type FsFragmentStoreOptions,
  type StoredFragment,
} from "./fragment_store.ts";
export type { LedgerCorrection, LedgerReconciliation } from "./held_credit.ts";
export type {
  FragmentIssue,
  FragmentIssueKind,
  ScanOptions,
  ScanProgress,
  ScanReport,
} from "./fragment_scan.ts";
export { type SqliteLedgerOptions, SqliteReciprocityLedger } from "./ledger.ts";
export {
  SqliteHolderRegistry,
  type SqliteHolderRegistryOptions,
} from "./holder_registry.ts";
export {
  type FileStaging,
  FsBlobStore,
  type FsBlobStoreOptions,
} from "./blob_store.ts";
export {
  DEFAULT_PEER_MAX_AGE_SECONDS,
  MAX_MULTIADDR_LENGTH,
  type PeerAddressRecord,
  type PeerStoreStats,
  SqlitePeerStore,
  type SqlitePeerStoreOptions,
  type StoredPeer,
} from "./peer_store.ts";
export { SqlitePeerStandingStore } from "./peer_standing.ts";
export {
  type LocalCatalogueEntry,
  MAX_CATALOGUE_NAME,
  SqliteCatalogueStore,
} from "./catalogue_store.ts";
export { writeFileAtomic } from "./atomic_file.ts";
export { freeDiskBytes } from "./disk_space.ts";
export { type StoragePaths, storagePaths } from "./paths.ts";
export { isNoSpace } from "./io_errors.ts";
export { MAX_SHARD_COUNT } from "./validation.ts";
export { SqliteManifestStore } from "./manifest_store.ts";
