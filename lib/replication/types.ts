/**
 * Public types of the replication layer: how a service is built, the
 * options of its operations and the reports they return.
 *
 * @module
 */
import type {
  BlobStore,
  Clock,
  DhtPort,
  ErrorCode,
  FragmentPlan,
  FragmentStore,
  HolderRegistry,
  IoOptions,
  ManifestDecoder,
  ManifestStore,
  NodeIdentity,
  PeerId,
  PeerStandingStore,
  ReciprocityLedger,
  ReplicationConfig,
  Rng,
  ShardRef,
  TesseraHealth,
  TesseraId,
  TierThresholds,
} from "../core/mod.ts";
import type { PlacementSafety } from "./distributor.ts";

/** Everything a {@linkcode ReplicationService} is built from. */
export interface ReplicationServiceInit {
  /** The network. `dht.selfId` must equal `identity.peerId`. */
  readonly dht: DhtPort;
  /** Shards we hold (for others). */
  readonly fragments: FragmentStore;
  /** Bilateral storage accounting. */
  readonly ledger: ReciprocityLedger;
  /** Our own tesseras' bytes. */
  readonly blobs: BlobStore;
  /** Where our tesseras' shards live. */
  readonly holders: HolderRegistry;
  /** Our signing key (signs attestations, verifies others'). */
  readonly identity: NodeIdentity;
  /** Time (default the system clock); virtual in the simulator. */
  readonly clock?: Clock;
  /** Randomness for nonces and jitter (default crypto); seeded in the simulator. */
  readonly rng?: Rng;
  /** Overrides of SPEC §6's defaults. */
  readonly config?: Partial<ReplicationConfig>;
  /** Tier thresholds (default SPEC §2's); the simulator scales them down. */
  readonly thresholds?: TierThresholds;
  /**
   * Free disk space in bytes, asked before accepting a fragment (default:
   * unlimited). The node passes a statfs of its data directory.
   */
  readonly freeSpace?: (options?: IoOptions) => number | Promise<number>;
  /**
   * How far an attestation's timestamp may be from our clock, ms
   * (default 5 minutes): older answers are stale, newer ones are lies.
   */
  readonly attestationMaxSkewMs?: number;
  /**
   * A holder that does not answer (neither attestation nor ping) but was
   * attested within this many ms still counts as holding (default 0:
   * unreachable means lost). Lets the simulator and flaky homes ride out
   * short absences without repair traffic; a holder that answers but fails
   * its proof is lost regardless.
   */
  readonly unreachableGraceMs?: number;
  /**
   * Where a steward keeps the holders of the tesseras it looks after for
   * silent owners (docs/stewards.md); memory is enough (rebuilt from the
   * DHT after a restart). Without one the node never acts as a steward.
   */
  readonly stewardRegistry?: HolderRegistry;
  /**
   * Closest peers asked for when placing; default twice the placements
   * needed plus 8, so refusals can be replaced.
   */
  readonly candidateCount?: number;
  /**
   * Bytes of shards in flight at once, pushed or fetched into a staging
   * area (default 96 MiB), besides the `concurrentTransfers` cap: at least
   * two transfers run, and four of the largest legal shards (22.4 MiB, a
   * 1 GiB tessera) fit, so the default four transfers run for every size
   * (with 64 MiB a 1 GiB put ran three at a time over seven holders). The
   * network stack keeps a copy of each shard in flight, so this bounds
   * memory: the owner's peak RSS stayed under 400 MiB in a 1 GiB put.
   */
  readonly transferBudgetBytes?: number;
  /**
   * Keeps what we remember of peers' conduct as holders (refusal
   * back-offs, liar bans, proofs, unproven shards) across restarts
   * (default: in memory only, as in the simulator).
   */
  readonly standingStore?: PeerStandingStore;
  /**
   * Keeps the signed manifests of the tesseras we own or hold shards of
   * (docs/stewards.md): sent with every shard we push, checked against
   * every shard pushed to us (default: none, no manifests).
   */
  readonly manifests?: ManifestStore;
  /**
   * Decodes manifests, remembering each buffer decoded (the simulator
   * shares one among its nodes: they keep the same buffers). Default:
   * none, every decode from the bytes.
   */
  readonly manifestDecoder?: ManifestDecoder;
}

/** Progress of a push, for a progress bar. */
export interface ReplicationProgress {
  /** Shard pushes acknowledged (accepted or given up). */
  readonly shardsDone: number;
  /** Shard pushes to do (copies count separately for Small). */
  readonly shardsTotal: number;
  /** Bytes acknowledged as stored. */
  readonly bytesDone: number;
  /** Bytes to store. */
  readonly bytesTotal: number;
}

/** Options of `replicateTessera`. */
export interface ReplicateOptions extends IoOptions {
  /** Called after each shard push settles. */
  readonly onProgress?: (progress: ReplicationProgress) => void;
  /**
   * Streaming puts (`putTesseraFile`): called as the file is encoded, with
   * the bytes of the file done so far and its size.
   */
  readonly onEncode?: (done: number, total: number) => void;
  /**
   * Streaming puts: the file is the caller's temporary copy (a private
   * tessera's sealed file), so the staging may move it in instead of
   * copying it, saving a write of its size; it is gone afterwards.
   */
  readonly consumeFile?: boolean;
  /**
   * Streaming puts: called with the tessera id once the file is encoded,
   * before anything is kept, tracked or pushed (a private put records its
   * key then, so no shard leaves without it); a rejection fails the put.
   */
  readonly onEncoded?: (id: TesseraId) => Promise<void>;
}

/**
 * Where a streaming retrieval writes the tessera's bytes, in order.
 * Nothing written is trustworthy until the retrieval resolves: on a
 * rejection the caller discards it.
 */
export interface TesseraSink {
  /** Append `bytes` (a view reused afterwards: copy it to keep it). */
  write(bytes: Uint8Array, options?: IoOptions): Promise<void>;
  /**
   * Discard everything written so far: a source failed verification and
   * the retrieval starts over from another.
   */
  reset(options?: IoOptions): Promise<void>;
}

/** What `retrieveTesseraTo` wrote. */
export interface RetrieveToReport {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** Bytes written (the tessera's size). */
  readonly size: number;
  /** `blob`: our own copy; `network`: shards fetched (and held) rebuilt. */
  readonly source: "blob" | "network";
  /** Bytes fetched from holders. */
  readonly bytesFetched: number;
}

/** A peer that refused or failed a push. */
export interface PushFailure {
  /** The peer. */
  readonly peerId: PeerId;
  /** Shard index pushed. */
  readonly index: number;
  /**
   * The refusal's error code (`DEFICIT_EXCEEDED`, `UNREACHABLE`, …), or
   * `NOT_STORED` for a peer that acknowledged the shard but could not
   * show it when challenged right after.
   */
  readonly code: string;
  /** Why, in words. */
  readonly reason: string;
}

/** One shard on one peer. */
export interface HolderAssignment {
  /** Shard index. */
  readonly index: number;
  /** The holder. */
  readonly peerId: PeerId;
}

/** What `replicateTessera` did. */
export interface ReplicationReport {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** How it was cut. */
  readonly plan: FragmentPlan;
  /** Every shard now held, by index then peer. */
  readonly placed: readonly HolderAssignment[];
  /** Indices (Small: one 0 per missing copy) nobody would take. */
  readonly unplaced: readonly number[];
  /** Refusals and failures met on the way (replaced where possible). */
  readonly failures: readonly PushFailure[];
  /** Distinct holders. */
  readonly peers: number;
  /** Peer losses the placement survives (see `placementTolerance`). */
  readonly tolerance: number;
  /**
   * What the placement survives: peer losses and subnet outages, as
   * numbers (`describeSafety` puts them in words).
   */
  readonly safety: PlacementSafety;
  /** Bytes stored on peers. */
  readonly bytesSent: number;
}

/** How one holder fared in a health check. */
export interface HolderCheck {
  /** The holder. */
  readonly peerId: PeerId;
  /** Indices we recorded on it. */
  readonly indices: readonly number[];
  /**
   * `attested`: proved every index; `partial`: proved some (the rest are
   * lost); `failed`: answered but proved none (lost, though alive);
   * `unreachable`: no answer (lost); `grace`: no answer, but attested
   * recently enough to be kept (see `unreachableGraceMs`); `trusted`: not
   * challenged by this sweep, its proven record making it not due yet
   * (audit_schedule.ts), its shards counted live on that record.
   */
  readonly status:
    | "attested"
    | "partial"
    | "failed"
    | "unreachable"
    | "grace"
    | "trusted";
  /**
   * Whether it answered the challenge (authentic or not): a holder that
   * answers and proves nothing kept nothing, one that answers only ping
   * may just be overloaded.
   */
  readonly answered: boolean;
  /** Indices proven (or kept on grace). */
  readonly liveIndices: readonly number[];
  /** Whether the peer answered a ping after its attestation failed. */
  readonly pingable?: boolean;
  /** Why it failed, when it did. */
  readonly reason?: string;
}

/** The full result of a health check (`inspectTessera`). */
export interface HealthReport {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** How it is cut. */
  readonly plan: FragmentPlan;
  /** The verdict. */
  readonly health: TesseraHealth;
  /**
   * `chunk`: chunk proofs of sampled groups were checked against the
   * checksums (docs/proofs.md; no copy of ours needed); `proof`: keyed
   * proofs were checked against shards recomputed from our blob;
   * `checksum`: without the blob only signatures, nonces and checksums
   * could be checked (a holder keeping checksums alone passes).
   */
  readonly verification: "chunk" | "proof" | "checksum";
  /** Per holder. */
  readonly holders: readonly HolderCheck[];
  /** Shard indices with at least one live holder, ascending. */
  readonly liveIndices: readonly number[];
  /** Shard indices with none, ascending. */
  readonly lostIndices: readonly number[];
  /** Live whole-file copies (Small) or live shard placements (others). */
  readonly livePlacements: number;
  /** Local shards of this tessera that fail verification. */
  readonly corruptLocal: readonly number[];
  /** Peer losses the live placement survives. */
  readonly tolerance: number;
  /** What the live placement survives (peer losses, subnet outages). */
  readonly safety: PlacementSafety;
  /** When, by our clock. */
  readonly checkedAt: number;
}

/** Options of health checks and repairs. */
export type CheckOptions = IoOptions;

/** What `repairTessera` found and did. */
export interface RepairReport {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** Verdict before repair. */
  readonly before: TesseraHealth;
  /** Verdict after repair (from the live holders plus the new ones). */
  readonly after: TesseraHealth;
  /** Indices that had no live holder. */
  readonly lostIndices: readonly number[];
  /** Indices rebuilt (from the blob or from fetched survivors). */
  readonly rebuilt: readonly number[];
  /** New placements. */
  readonly placed: readonly HolderAssignment[];
  /** Holder records dropped because the holder lost them. */
  readonly removed: readonly HolderAssignment[];
  /** Corrupt local shards deleted. */
  readonly deletedLocal: readonly number[];
  /** Where rebuilt shards came from. */
  readonly source: "blob" | "network" | "none";
  /** Bytes fetched from other holders to rebuild (not our own shards). */
  readonly bytesFetched: number;
  /** Bytes pushed to new holders. */
  readonly bytesSent: number;
  /** Peer losses survived after repair. */
  readonly tolerance: number;
  /** What the placement survives after repair; absent when it failed early. */
  readonly safety?: PlacementSafety;
  /**
   * Why the tessera is still short after a repair that met no error: the
   * network had too few peers (or subnets) to take more.
   */
  readonly shortBecause?: string;
  /** Set when the repair could not finish (e.g. `INSUFFICIENT_SHARDS`). */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/** Options of `repairSweep`. */
export interface SweepOptions extends IoOptions {
  /** Only these tesseras (default: every tracked one). */
  readonly ids?: readonly TesseraId[];
  /**
   * Also scrub: verify (re-hash) every shard held for others and drop
   * corrupt ones, releasing their credit when the store keeps the ledger.
   * Default false: the holder's scrub runs on its own schedule
   * (`scrubIntervalMs`, `ReplicationService.scrubHeld`), not daily.
   */
  readonly verifyHeld?: boolean;
  /** Called after each tessera checked, then after each one repaired. */
  readonly onProgress?: (progress: SweepProgress) => void;
}

/** How far a sweep is: `done` of `total` tesseras checked or repaired. */
export interface SweepProgress {
  /** `check` (every tessera), then `repair` (those not healthy). */
  readonly phase: "check" | "repair";
  /** Tesseras done in this phase. */
  readonly done: number;
  /** Tesseras in this phase. */
  readonly total: number;
}

/** What a sweep found and did. */
export interface SweepReport {
  /** Start, by our clock. */
  readonly startedAt: number;
  /** End, by our clock. */
  readonly finishedAt: number;
  /** Per tessera, in the order repaired (most urgent first). */
  readonly tesseras: readonly RepairReport[];
  /** Shards held for others that failed verification and were deleted. */
  readonly heldCorrupt: readonly ShardRef[];
  /** Tesseras found healthy. */
  readonly healthy: number;
  /** Tesseras repaired back to healthy. */
  readonly repaired: number;
  /** Tesseras still not healthy after the sweep. */
  readonly degraded: number;
  /** Tesseras that cannot be recovered (fewer than `dataShards` survivors). */
  readonly lost: number;
  /** What we did as a steward of others' tesseras (docs/stewards.md). */
  readonly stewards?: StewardReport;
}

/** What one steward sweep did. */
export interface StewardReport {
  /** Held tesseras whose owner has been silent past `stewardAfterMs`. */
  readonly orphans: number;
  /** Of those, the ones we looked after as a steward in this sweep. */
  readonly stewarded: number;
  /** The repair of each tessera we looked after. */
  readonly repairs: readonly RepairReport[];
  /** Bytes placed on new holders on the owners' behalf. */
  readonly bytesOnBehalf: number;
  /**
   * Announced holders that answered and proved no shard: the record was
   * false, the peer is dropped from the order and loses standing.
   */
  readonly refuted: number;
  /**
   * Bytes of shards kept after the sweep of the orphans we look after, for
   * their next rebuild (steward_copy.ts).
   */
  readonly keptBytes: number;
  /** The orphans whose shards we keep after the sweep. */
  readonly kept: readonly TesseraId[];
}

/** Progress of a retrieval. */
export interface RetrieveProgress {
  /** Verified shards in hand. */
  readonly shards: number;
  /** Shards needed. */
  readonly needed: number;
  /** Bytes fetched so far. */
  readonly bytes: number;
}

/** Options of `retrieveTessera`. */
export interface RetrieveOptions extends IoOptions {
  /** Return our own blob when we have it (default true). */
  readonly preferLocal?: boolean;
  /**
   * Extra fetches kept in flight beyond those strictly needed, so slow
   * holders do not set the pace (default a quarter of `dataShards`, at
   * least 1).
   */
  readonly hedge?: number;
  /** Called as verified shards arrive. */
  readonly onProgress?: (progress: RetrieveProgress) => void;
}
