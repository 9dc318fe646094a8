/**
 * The hexagonal boundary: everything above these interfaces (replication,
 * repair, retrieval, the ledger rules) runs unchanged on the real network
 * and in the simulator. Adapters in `lib/net`, `lib/storage` and `sim/`
 * implement them.
 *
 * Every operation that touches a network or a disk takes an optional
 * `AbortSignal`.
 *
 * @module
 */
import type { Attestation, AttestRequest } from "./attestation.ts";
import type { GroupProofData, ProofAnswer } from "./chunk_attestation.ts";
import type {
  FragmentEnvelope,
  FragmentId,
  FragmentPlan,
  ReplicateAck,
  SpooledShard,
} from "./fragment.ts";
import type { SignedManifest } from "./signed_manifest.ts";
import type { Checksum, PeerId, TesseraId } from "./tessera.ts";

/** Options accepted by every I/O operation. */
export interface IoOptions {
  /** Aborts the operation; a timeout is `AbortSignal.timeout(ms)`. */
  readonly signal?: AbortSignal;
}

/** Names one shard of one tessera. */
export interface ShardRef {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** The shard index. */
  readonly index: number;
}

/** A peer as seen by the DHT. */
export interface PeerInfo {
  /** The peer's id. */
  readonly id: PeerId;
  /** Known multiaddrs (may be empty in the simulator). */
  readonly addresses: readonly string[];
  /**
   * The peer's observed IP address (v4 dotted or v6), used for subnet
   * diversity; undefined when unknown.
   */
  readonly ip?: string;
}

/**
 * The most holder records (provider records) kept or returned for one
 * tessera: a Large tessera has 72 shards, each on a few peers at most,
 * so a flood of announcements beyond this is dropped, never stored.
 */
export const MAX_HOLDER_RECORDS = 128;

/** The network as the replication layer sees it. */
export interface DhtPort {
  /** This node's own peer id. */
  readonly selfId: PeerId;
  /** Up to `count` peers closest (XOR metric) to `key`, self excluded. */
  findClosestPeers(
    key: TesseraId,
    count: number,
    options?: IoOptions,
  ): Promise<PeerInfo[]>;
  /**
   * True when `replicate` reads an envelope's `parts` as it sends (else
   * an envelope must carry its `data`).
   */
  readonly sendsShardParts?: boolean;
  /** Push one fragment to `peer`; resolves with its ack. */
  replicate(
    peer: PeerId,
    envelope: FragmentEnvelope,
    options?: IoOptions,
  ): Promise<ReplicateAck>;
  /** Ask `peer` to prove possession; rejects when it cannot answer. */
  requestAttestation(
    peer: PeerId,
    request: AttestRequest,
    options?: IoOptions,
  ): Promise<Attestation>;
  /**
   * Optional: ask `peer` for chunk proofs (docs/proofs.md); resolves with
   * its answer once its envelope (tessera, holder, nonce) and signature
   * check. The proofs themselves are the caller's to judge against the
   * checksums it knows.
   */
  requestProof?(
    peer: PeerId,
    request: AttestRequest,
    options?: IoOptions,
  ): Promise<ProofAnswer>;
  /**
   * Optional: announce in the DHT that we hold shards of `tesseraId` (a
   * provider record under a key derived from the id, refreshed before it
   * expires by whoever implements this), so other holders find us
   * without the owner (docs/stewards.md).
   */
  announceHolder?(tesseraId: TesseraId, options?: IoOptions): Promise<void>;
  /**
   * Optional: `true` when the DHT itself keeps our announcements alive
   * while we run (kad-dht's reprovider re-provides its own records before
   * they expire), so one announcement per tessera and process suffices.
   * Otherwise the caller announces again before a record expires.
   */
  readonly refreshesHolders?: boolean;
  /**
   * Optional: stop keeping our announcement of `tesseraId` alive (we no
   * longer hold it); the records on other peers then expire.
   */
  withdrawHolder?(tesseraId: TesseraId, options?: IoOptions): Promise<void>;
  /**
   * Optional: up to `options.limit` (default {@linkcode MAX_HOLDER_RECORDS})
   * peers that announced holding shards of `tesseraId`, self excluded.
   * A record proves nothing: check what a found holder holds.
   */
  findHolders?(
    tesseraId: TesseraId,
    options?: IoOptions & { readonly limit?: number },
  ): Promise<PeerInfo[]>;
  /**
   * Optional: `true` when {@linkcode DhtPort.fetch} with
   * `options.checksum` resolves only with bytes it checked against that
   * checksum (every group and the outboard to the root, as they arrived),
   * so the caller need not hash them again. A wrapper that answers some
   * fetches another way must not pass this on.
   */
  readonly verifiesFetch?: boolean;
  /** Round-trip time in ms; rejects when the peer is unreachable. */
  ping(peer: PeerId, options?: IoOptions): Promise<number>;
  /**
   * Fetch one shard's bytes from `peer`; rejects `NOT_FOUND` if absent.
   * With `options.checksum` (and `size`) a transport that can checks the
   * bytes group by group as they arrive against it (docs/proofs.md) and
   * rejects `CHECKSUM_MISMATCH` at the first bad group, without reading
   * the rest; the caller still checks what it is handed, unless
   * {@linkcode DhtPort.verifiesFetch}.
   */
  fetch(
    peer: PeerId,
    shard: ShardRef,
    options?: FetchOptions,
  ): Promise<Uint8Array>;
}

/** Options of {@linkcode DhtPort.fetch}. */
export interface FetchOptions extends IoOptions {
  /** The shard's checksum on our own record, hex. */
  readonly checksum?: Checksum;
  /** The shard's size, when known (the plan's). */
  readonly size?: number;
}

/**
 * What a node answers to inbound protocol messages. The network adapter
 * decodes a message, calls one of these, and encodes the result; thrown
 * `TesserasError`s become error replies.
 */
export interface InboundHandlers {
  /** A peer pushes a fragment to us. */
  onReplicate(
    envelope: FragmentEnvelope,
    from: PeerInfo,
    options?: IoOptions,
  ): Promise<ReplicateAck>;
  /**
   * Optional: a temp file the transport may write a pushed shard's bytes
   * to as they arrive (then passed as {@linkcode FragmentEnvelope.spooled}
   * to `onReplicate`, which stores or discards it), or `null` to receive
   * it in memory. A file the transport cannot finish goes to
   * `discardSpool`.
   */
  spoolTarget?(options?: IoOptions): Promise<string | null>;
  /** Removes a temp file from `spoolTarget` that was not handed over. */
  discardSpool?(path: string): Promise<void>;
  /** A peer asks us to prove possession. */
  onAttest(
    request: AttestRequest,
    from: PeerInfo,
    options?: IoOptions,
  ): Promise<Attestation>;
  /**
   * Optional: a peer asks us to prove possession with chunk proofs of
   * sampled groups (docs/proofs.md), checkable from the checksums alone.
   */
  onProve?(
    request: AttestRequest,
    from: PeerInfo,
    options?: IoOptions,
  ): Promise<ProofAnswer>;
  /** A peer fetches one shard; `null` when we do not hold it. */
  onFetch(
    shard: ShardRef,
    from: PeerInfo,
    options?: IoOptions,
  ): Promise<Uint8Array | null>;
  /**
   * Optional: a peer fetches one shard verified as it streams
   * (docs/proofs.md): its bytes with its stored outboard and its checksum
   * on our record; `null` when we do not hold it. Without it a verified
   * fetch builds the outboard from `onFetch`'s bytes.
   */
  onVerifiedFetch?(
    shard: ShardRef,
    from: PeerInfo,
    options?: IoOptions,
  ): Promise<ServedShard | null>;
}

/** A held shard as a verified fetch serves it. */
export interface ServedShard {
  /** The shard's bytes. */
  readonly data: Uint8Array;
  /** Its post-order outboard, as stored beside it. */
  readonly outboard: Uint8Array;
  /** Its checksum on our record. */
  readonly checksum: Checksum;
}

/** Options of {@linkcode FragmentStore.storeForPeer}. */
export interface StoreForPeerOptions extends IoOptions {
  /** The peer that pushed the shard: recorded with it and credited. */
  readonly sender: PeerId;
}

/** What {@linkcode FragmentStore.storeForPeer} did. */
export interface StoreForPeerResult {
  /** `true` when this call wrote the shard, `false` when it was held already. */
  readonly stored: boolean;
  /**
   * Bytes this call added to the sender's `bytesStoredForThem`: the
   * shard's size when newly stored, 0 for a re-push already credited.
   */
  readonly credited: number;
}

/** Shard bytes held for ourselves and for others. */
export interface FragmentStore {
  /**
   * Optional capability of a store that keeps the reciprocity ledger in
   * the same transaction as its rows (SQLite: the same database; memory:
   * a linked ledger). Stores the shard as `store` does, records `sender`
   * with it and credits its size to the sender's `bytesStoredForThem` in
   * ONE atomic step, so no crash or full disk can leave the shard held but
   * uncredited (or credited but not held). Idempotent: a re-push of a
   * held shard credits nothing, except that a row recorded without a
   * sender (stored before senders were recorded) is claimed for `sender`
   * and credited when the sender's credit does not already cover it.
   * `delete` then releases the credit of the deleted shards atomically.
   *
   * Absent (e.g. hidden by a decorator that does not forward it): the
   * caller stores with `store` and credits the ledger itself, which is
   * correct but not atomic.
   */
  storeForPeer?(
    id: FragmentId,
    data: Uint8Array,
    options: StoreForPeerOptions,
  ): Promise<StoreForPeerResult>;
  /**
   * Optional, with `storeSpooledForPeer`: a fresh temp path on the
   * store's file system for a shard being received (not reported as
   * stray while handed out).
   */
  tempPath?(
    shard?: { tesseraId: TesseraId; index: number },
    options?: IoOptions,
  ): Promise<string>;
  /** Removes a temp file from `tempPath` (no error when it is gone). */
  discardTemp?(tempPath: string): Promise<void>;
  /**
   * Optional: `storeForPeer` of a shard already written to a temp file
   * from `tempPath` and hashed by the caller (its checksum and outboard):
   * the file is fsynced and renamed into place, and the row and the
   * sender's credit inserted in one transaction. Takes the file: renamed
   * on success, removed on failure.
   */
  storeSpooledForPeer?(
    id: FragmentId,
    spooled: SpooledShard,
    options: StoreForPeerOptions,
  ): Promise<StoreForPeerResult>;
  /**
   * Store a shard atomically (temp file, fsync, rename, then the row).
   * Rejects `CHECKSUM_MISMATCH` when the bytes do not hash to the id's
   * checksum. Storing the same shard again is a no-op.
   */
  store(id: FragmentId, data: Uint8Array, options?: IoOptions): Promise<void>;
  /** The shard's bytes, or `null` when not held. */
  read(
    tesseraId: TesseraId,
    index: number,
    options?: IoOptions,
  ): Promise<Uint8Array | null>;
  /**
   * Optional: BLAKE3 keyed with the 32-byte `key` over the shard's bytes,
   * hex, or `null` when not held: the digest of `read()`'s bytes, read in
   * pieces into one buffer instead of a buffer of the whole shard (an
   * attestation hashes every shard it names).
   */
  keyedHash?(
    tesseraId: TesseraId,
    index: number,
    key: Uint8Array,
    options?: IoOptions,
  ): Promise<string | null>;
  /**
   * Remove one shard (or every shard of the tessera when `index` is
   * omitted). Shards stored by `storeForPeer` release their sender's
   * credit in the same transaction as the row.
   */
  delete(
    tesseraId: TesseraId,
    index?: number,
    options?: IoOptions,
  ): Promise<void>;
  /** Shards held, of one tessera or of all. */
  list(tesseraId?: TesseraId, options?: IoOptions): Promise<FragmentId[]>;
  /**
   * Optional: the tesseras of which some shard is held, in no particular
   * order; cheaper than `list()` when only the ids are wanted (see
   * {@linkcode tesserasHeld}).
   */
  tesserasHeld?(options?: IoOptions): Promise<TesseraId[]>;
  /** Recompute BLAKE3 of the stored bytes and compare to the stored checksum. */
  verify(
    tesseraId: TesseraId,
    index: number,
    options?: IoOptions,
  ): Promise<boolean>;
  /** Total bytes of all shards held. */
  totalBytes(options?: IoOptions): Promise<number>;
  /**
   * Optional: the outboard stored with a held shard (docs/proofs.md),
   * `null` when not held; a missing or damaged one is rebuilt first, and
   * rejects `CHECKSUM_MISMATCH` when the shard itself is damaged.
   */
  readOutboard?(
    tesseraId: TesseraId,
    index: number,
    options?: IoOptions,
  ): Promise<Uint8Array | null>;
  /**
   * Chunk proofs (docs/proofs.md) of `groups` of a held shard (or of the
   * groups `groups(size)` picks once the shard's size is known), read
   * from the shard and its outboard without the rest of the shard,
   * checked against its checksum, with the shard's size; `null` when not
   * held. A missing or damaged outboard is rebuilt; rejects
   * `CHECKSUM_MISMATCH` when the shard itself is damaged. `cvs`, when
   * present: each proof's group chaining value (what the holder signs,
   * `proofGroupCv`; 32 bytes or their hex), when the store knows them
   * without hashing the groups again (bytes it checked and kept
   * untouched, or its own check of the proofs); else the holder computes
   * them.
   */
  proveGroups(
    tesseraId: TesseraId,
    index: number,
    groups: readonly number[] | ((size: number) => readonly number[]),
    options?: IoOptions,
  ): Promise<
    {
      size: number;
      proofs: GroupProofData[];
      cvs?: readonly (Uint8Array | string)[];
    } | null
  >;
}

/** One peer's row in the reciprocity ledger. */
export interface PeerBalance {
  /** The peer. */
  readonly peerId: PeerId;
  /** Bytes we store for the peer. */
  readonly bytesStoredForThem: number;
  /** Bytes the peer stores for us. */
  readonly bytesTheyStoreForUs: number;
  /** `bytesTheyStoreForUs - bytesStoredForThem`; negative means they owe us. */
  readonly balance: number;
  /** Institutional peers (libraries, archives) are exempt from the deficit rule. */
  readonly institutional: boolean;
  /** Last change, ms since the Unix epoch. */
  readonly updatedAt: number;
}

/** Bilateral storage accounting: no tokens, no consensus. */
export interface ReciprocityLedger {
  /** We accepted `bytes` of the peer's data (negative to release). */
  recordStoredForThem(peer: PeerId, bytes: number): Promise<void>;
  /** The peer accepted `bytes` of our data (negative to release). */
  recordTheyStoreForUs(peer: PeerId, bytes: number): Promise<void>;
  /** `bytesTheyStoreForUs - bytesStoredForThem`; 0 for unknown peers. */
  balance(peer: PeerId): Promise<number>;
  /** The peer's row, or `null` when never seen. */
  get(peer: PeerId): Promise<PeerBalance | null>;
  /** Peers with the highest balance first (best partners to store with). */
  bestPeers(n: number): Promise<PeerBalance[]>;
  /** Mark or unmark a peer as institutional. */
  setInstitutional(peer: PeerId, institutional: boolean): Promise<void>;
  /** Every row. */
  list(): Promise<PeerBalance[]>;
}

/**
 * The owner's own tessera bytes, and scratch areas for the work on them.
 * One shape for every store: the replication layer places, checks,
 * repairs and retrieves through ranged reads and staging areas only, so a
 * 1 GiB tessera is never held in memory, and the simulator (memory) runs
 * the same byte path as the daemon (files).
 */
export interface BlobStore {
  /** Store a tessera's bytes atomically under its id. */
  put(id: TesseraId, data: Uint8Array, options?: IoOptions): Promise<void>;
  /** The bytes, or `null` when absent. */
  get(id: TesseraId, options?: IoOptions): Promise<Uint8Array | null>;
  /** Whether the blob exists. */
  has(id: TesseraId, options?: IoOptions): Promise<boolean>;
  /** Remove the blob (no error when absent). */
  delete(id: TesseraId, options?: IoOptions): Promise<void>;
  /** Ids of all blobs. */
  list(options?: IoOptions): Promise<TesseraId[]>;
  /** The blob's size in bytes, or `null` when absent. */
  size(id: TesseraId, options?: IoOptions): Promise<number | null>;
  /**
   * Up to `range.length` bytes of the blob from `range.offset` (fewer at
   * its end, none past it), or `null` when the blob is absent. The bytes
   * may be a view of the store's own (memory): never write to them.
   * Rejects `INVALID_INPUT` on a negative or non-integer range.
   */
  readRange(
    id: TesseraId,
    range: ByteRange,
    options?: IoOptions,
  ): Promise<Uint8Array | null>;
  /**
   * A fresh private scratch area next to the blobs for one put, repair or
   * retrieval. The caller removes it (`remove`) when done, also on
   * failure; a file store removes areas left by a crash when it starts.
   */
  openStaging(options?: IoOptions): Promise<ShardStaging>;
}

/** A local file the node can read. */
export interface LocalFile {
  /** Its path. */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
}

/** What {@linkcode ShardStaging.importFile} copied. */
export interface StagedCopy {
  /** Bytes copied. */
  readonly size: number;
  /**
   * BLAKE3-256 of the copy, hex, when the import was asked to `hash`
   * (computed on the way: no second read of the file).
   */
  readonly blake3?: Checksum;
  /**
   * BLAKE3-256 of each slice asked for (`slices`), each zero-padded to
   * the slice size: a tessera's data shard checksums, from the same pass.
   */
  readonly sliceHashes?: readonly Checksum[];
}

/** Options of {@linkcode ShardStaging.importFile}. */
export interface ImportOptions extends IoOptions {
  /** Rejects `TOO_LARGE` above this many bytes. */
  readonly maxBytes?: number;
  /** The caller gives the source up: it may be renamed into place. */
  readonly move?: boolean;
  /** Hash the copy on the way (`StagedCopy.blake3`). */
  readonly hash?: boolean;
  /**
   * The slices to hash too (`StagedCopy.sliceHashes`), given the source's
   * size before it is copied (a plan's data shards need the size);
   * `undefined`, none.
   */
  readonly slices?: (size: number) => ImportSlices | undefined;
}

/** Consecutive slices of an imported copy to hash: `count` of `size` bytes. */
export interface ImportSlices {
  /** Bytes per slice (a data shard's size). */
  readonly size: number;
  /** Slices, from the start of the copy. */
  readonly count: number;
}

/** A byte range of a file. */
export interface ByteRange {
  /** First byte. */
  readonly offset: number;
  /** Bytes wanted. */
  readonly length: number;
}

/**
 * Scratch space of one operation (see {@linkcode BlobStore.openStaging}):
 * a private copy of an input file that can become a blob, and shards
 * written piecewise and read back.
 */
export interface ShardStaging {
  /**
   * Copy the file at `source` into the area, a copy nobody else writes
   * (flushed to disk, where there is one, by the commit: the encode runs
   * while the disk catches up): encode from it
   * ({@linkcode ShardStaging.readImported}), then
   * {@linkcode ShardStaging.commitBlob} it. Rejects `NOT_FOUND` when the
   * source cannot be read, `INVALID_INPUT` when it is not a regular file,
   * `TOO_LARGE` above `maxBytes` (checked before copying) and
   * `INSUFFICIENT_SPACE` on a full disk.
   * With `move`, the caller gives `source` up (a temporary file of its
   * own): a store may rename it into place instead of copying it (then
   * nothing is left at `source`; the caller removes whatever is). With
   * `hash`, the copy's BLAKE3 comes back with it (`blake3`), and with
   * `slices` the BLAKE3 of each slice (`sliceHashes`).
   */
  importFile(
    source: string,
    options?: ImportOptions,
  ): Promise<StagedCopy>;
  /**
   * Up to `range.length` bytes of the imported copy from `range.offset`
   * (fewer at its end); rejects `NOT_FOUND` before an import.
   */
  readImported(range: ByteRange, options?: IoOptions): Promise<Uint8Array>;
  /** Append `bytes` to staged shard `index` (created by its first append). */
  append(index: number, bytes: Uint8Array, options?: IoOptions): Promise<void>;
  /**
   * Up to `range.length` bytes of staged shard `index` from `range.offset`
   * (fewer at its end); rejects `NOT_FOUND` when never appended to.
   */
  read(
    index: number,
    range: ByteRange,
    options?: IoOptions,
  ): Promise<Uint8Array>;
  /**
   * Make the imported copy blob `id` of the store, atomically (flush,
   * then rename). The copy is gone from the area afterwards.
   */
  commitBlob(id: TesseraId, options?: IoOptions): Promise<void>;
  /** Delete the area and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

/** A tessera this node owns or tracks, with where its shards live. */
export interface TrackedTessera {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** How it is fragmented. */
  readonly plan: FragmentPlan;
  /** Checksum of every shard, by index. */
  readonly checksums: readonly Checksum[];
  /** When it was first placed, ms since the epoch. */
  readonly createdAt: number;
  /** Last health check, ms since the epoch, or `null`. */
  readonly lastCheckedAt: number | null;
  /** Last health verdict (`healthy`, `needs_replication`, …), or `null`. */
  readonly lastHealth: string | null;
}

/** One holder of one shard. */
export interface HolderRecord {
  /** Shard index. */
  readonly index: number;
  /** Peer holding it. */
  readonly peerId: PeerId;
  /** When the holder acked, ms since the epoch. */
  readonly storedAt: number;
  /** Last successful attestation, ms since the epoch, or `null`. */
  readonly lastAttestedAt: number | null;
  /**
   * The holder's IP when it was placed, so repair can keep the subnet cap
   * with existing holders; absent when unknown.
   */
  readonly ip?: string;
}

/**
 * What the owner remembers about placement: fragment plans, shard
 * checksums, holders and holder-fragment mappings.
 */
export interface HolderRegistry {
  /** Record (or replace) a tessera's plan and shard checksums. */
  track(
    tesseraId: TesseraId,
    placement: { plan: FragmentPlan; checksums: readonly Checksum[] },
  ): Promise<void>;
  /** The tracked tessera, or `null`. */
  get(tesseraId: TesseraId): Promise<TrackedTessera | null>;
  /** All tracked tesseras. */
  list(): Promise<TrackedTessera[]>;
  /** Stop tracking a tessera and forget its holders. */
  untrack(tesseraId: TesseraId): Promise<void>;
  /** `peer` now holds shard `index`. */
  addHolder(
    tesseraId: TesseraId,
    holder: { index: number; peerId: PeerId; ip?: string },
  ): Promise<void>;
  /**
   * `holder.peerId` no longer holds shard `holder.index` (or any shard of
   * the tessera when `index` is omitted).
   */
  removeHolder(
    tesseraId: TesseraId,
    holder: { peerId: PeerId; index?: number },
  ): Promise<void>;
  /** Every holder record of the tessera. */
  holders(tesseraId: TesseraId): Promise<HolderRecord[]>;
  /** Mark a successful attestation of `peer` for the tessera. */
  markAttested(
    tesseraId: TesseraId,
    attested: { peerId: PeerId; at: number },
  ): Promise<void>;
  /** Record the result of a health check. */
  markChecked(
    tesseraId: TesseraId,
    check: { health: string; at: number },
  ): Promise<void>;
}

/** Wall or virtual time. */
export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in the simulator). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, options?: IoOptions): Promise<void>;
}

/** Randomness, seedable in the simulator. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** Bytes and a signature over them, as handed to a verifier. */
export interface SignedBytes {
  /** The bytes that were signed. */
  readonly data: Uint8Array;
  /** The signature over `data`. */
  readonly signature: Uint8Array;
}

/** This node's signing identity (the libp2p Ed25519 key). */
export interface NodeIdentity {
  /** Our peer id. */
  readonly peerId: PeerId;
  /** Sign `data` with our private key. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Check that `signed.signature` over `signed.data` was made by `peer`'s key. */
  verify(peer: PeerId, signed: SignedBytes): Promise<boolean>;
}

/** A peer's refusal back-off, as the owner remembers it. */
export interface StandingRefusal {
  /** The peer that refused. */
  readonly peerId: PeerId;
  /** The refusal code (`DEFICIT_EXCEEDED`, `INSUFFICIENT_SPACE`, …). */
  readonly code: string;
  /** Refusals in a row. */
  readonly strikes: number;
  /** When the back-off ends, ms since the epoch. */
  readonly until: number;
  /** Smallest shard refused, bytes. */
  readonly size: number;
  /** Our credit with the peer at the last refusal, bytes (may be negative). */
  readonly credit: number;
}

/** A peer caught acknowledging shards it did not keep. */
export interface StandingLiar {
  /** The peer. */
  readonly peerId: PeerId;
  /** Lies caught so far. */
  readonly lies: number;
  /** When its ban ends, ms since the epoch. */
  readonly until: number;
}

/** A shard a peer acknowledged for us that no check has proven yet. */
export interface StandingPending {
  /** The peer that acknowledged it. */
  readonly peerId: PeerId;
  /** The shard, as `tesseraId/index`. */
  readonly key: string;
  /** Its size, bytes. */
  readonly size: number;
}

/** Everything a {@linkcode PeerStandingStore} remembers, as plain data. */
export interface PeerStandingSnapshot {
  /** Refusal back-offs, one per peer. */
  readonly refusals: readonly StandingRefusal[];
  /** Liars, one per peer. */
  readonly liars: readonly StandingLiar[];
  /** Peers that proved shards they hold for us and never lied since. */
  readonly proven: readonly PeerId[];
  /** Acknowledged shards not yet proven. */
  readonly pending: readonly StandingPending[];
}

/**
 * One change to the owner's memory of a peer's conduct, in the order it
 * happened:
 *
 * - `refused`: the peer's refusal record is now `refusal` (replaces any);
 * - `accepted`: the peer took a shard, its refusal record is gone;
 * - `lied`: the peer's liar record is now `liar`, and its refusal record
 *   and proof are gone (its pending shards stay);
 * - `proven`: the peer proved shards it holds for us;
 * - `placed`: the peer acknowledged the shard `pending`;
 * - `settled`: a check settled shard `key` on the peer (no longer pending).
 */
export type PeerStandingChange =
  | { readonly kind: "refused"; readonly refusal: StandingRefusal }
  | { readonly kind: "accepted"; readonly peerId: PeerId }
  | { readonly kind: "lied"; readonly liar: StandingLiar }
  | { readonly kind: "proven"; readonly peerId: PeerId }
  | { readonly kind: "placed"; readonly pending: StandingPending }
  | {
    readonly kind: "settled";
    readonly peerId: PeerId;
    readonly key: string;
  };

/**
 * Where the owner keeps its memory of its peers' conduct (refusal
 * back-offs, liar bans, proofs, pending shards) across restarts. The
 * replication service reads it once at start and writes every change
 * through, in order.
 */
export interface PeerStandingStore {
  /**
   * Everything remembered. With `forgetBefore` (ms since the epoch),
   * refusal and liar records whose `until` is earlier are deleted and
   * not returned.
   */
  load(
    options?: IoOptions & { readonly forgetBefore?: number },
  ): Promise<PeerStandingSnapshot>;
  /** Record one change (atomically). */
  save(change: PeerStandingChange, options?: IoOptions): Promise<void>;
}

/**
 * The signed manifests (lib/core/manifest.ts) a node keeps: of the
 * tesseras it owns, and of every tessera it holds a shard of, so that it
 * can check shards and steward them once the owner is gone. A store keeps
 * bytes it is given; validating them is the caller's.
 */
export interface ManifestStore {
  /**
   * Keep `signed` for `tesseraId` (atomically); a manifest already kept
   * for it stays (the first one wins: an owner never re-signs another
   * plan under the same content id).
   */
  put(
    tesseraId: TesseraId,
    signed: SignedManifest,
    options?: IoOptions,
  ): Promise<void>;
  /** The kept manifest, or `null`. */
  get(
    tesseraId: TesseraId,
    options?: IoOptions,
  ): Promise<SignedManifest | null>;
  /** Forget the tessera's manifest (no error when absent). */
  delete(tesseraId: TesseraId, options?: IoOptions): Promise<void>;
  /** Ids of every tessera with a kept manifest. */
  list(options?: IoOptions): Promise<TesseraId[]>;
}

/**
 * The tesseras of which `store` holds some shard, in no particular
 * order: its `tesserasHeld` when it has one, else from its `list()`.
 *
 * @example
 * ```ts
 * import { tesserasHeld, type FragmentStore } from "./ports.ts";
 * declare const store: FragmentStore;
 * const ids: string[] = await tesserasHeld(store);
 * ```
 */
export async function tesserasHeld(
  store: FragmentStore,
  options: IoOptions = {},
): Promise<TesseraId[]> {
  if (store.tesserasHeld !== undefined) {
    return await store.tesserasHeld(options);
  }
  return [
    ...new Set((await store.list(undefined, options)).map((f) => f.tesseraId)),
  ];
}
