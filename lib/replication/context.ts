/**
 * The shared state of one node's replication service, passed to each
 * operation module instead of globals (kad-dht's `components` pattern).
 *
 * @module
 */
import { getLogger, type Logger } from "@logtape/logtape";
import {
  type BlobStore,
  type Clock,
  cryptoRng,
  DEFAULT_TIER_THRESHOLDS,
  type DhtPort,
  type FragmentStore,
  type HolderRegistry,
  type IoOptions,
  KeyedLock,
  type ManifestDecoder,
  type ManifestStore,
  type NodeIdentity,
  type PeerId,
  type PeerStandingStore,
  type ReciprocityLedger,
  type ReplicationConfig,
  replicationConfig,
  type Rng,
  systemClock,
  TesserasError,
  type TierThresholds,
} from "../core/mod.ts";
import { OwnShardCache } from "./shard_cache.ts";
import { HolderAnnouncer } from "./steward_announce.ts";
import { StoreReservations } from "./reservations.ts";
import { Stewards } from "./steward.ts";
import { Liveness } from "./liveness.ts";
import type { StewardCopies } from "./steward_copy.ts";
import { SafetyMemo } from "./safety_memo.ts";
import { PeerStanding } from "./standing.ts";
import type { ReplicationServiceInit } from "./types.ts";

/** Internal: what every operation of the service sees. */
export interface ServiceContext {
  readonly dht: DhtPort;
  readonly fragments: FragmentStore;
  readonly ledger: ReciprocityLedger;
  readonly blobs: BlobStore;
  readonly holders: HolderRegistry;
  readonly identity: NodeIdentity;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly config: ReplicationConfig;
  readonly thresholds: TierThresholds;
  readonly freeSpace: (options?: IoOptions) => number | Promise<number>;
  readonly maxSkewMs: number;
  readonly graceMs: number;
  readonly candidateCount?: number;
  /** Bytes of shards in flight at once (pushes, streaming fetches). */
  readonly transferBudget: number;
  readonly selfId: PeerId;
  readonly log: Logger;
  /** Serialises receives per shard and per sender. */
  readonly locks: KeyedLock;
  /** Bytes promised to shards being stored now (receive.ts). */
  readonly reservations: StoreReservations;
  /** Where the standing memory persists; absent: in memory only. */
  readonly standingStore?: PeerStandingStore;
  /** Signed manifests of what we own or hold (manifest_check.ts). */
  readonly manifests?: ManifestStore;
  /** Remembers decoded manifests (types.ts); absent: decode each time. */
  readonly manifestDecoder?: ManifestDecoder;
  /** What we remember of our peers' conduct (see standing.ts). */
  readonly standing: PeerStanding;
  /** The parity of our small tesseras, kept between checks. */
  readonly ownCache: OwnShardCache;
  /** When we last announced each tessera we hold (steward_announce.ts). */
  readonly announcer: HolderAnnouncer;
  /** Who looks after the tesseras we hold, and those we steward (steward.ts). */
  readonly stewards: Stewards;
  /** When each peer last answered us (liveness.ts). */
  readonly liveness: Liveness;
  /**
   * Only in a steward's context (steward_view.ts): where its rebuilds keep
   * the shards they fetched, for the next loss (steward_copy.ts).
   */
  readonly stewardCopies?: StewardCopies;
  /** Each checked tessera's placement safety, until its holders change. */
  readonly safety: SafetyMemo;
}

/** Internal: validate an init object and fill in defaults. */
export function makeContext(init: ReplicationServiceInit): ServiceContext {
  if (init.dht.selfId !== init.identity.peerId) {
    throw new TesserasError(
      "INVALID_INPUT",
      `DHT self id ${init.dht.selfId} differs from identity ${init.identity.peerId}: build both from the same key`,
    );
  }
  const config = replicationConfig(init.config);
  if (!(config.concurrentTransfers >= 1) || !(config.maxPerSubnet >= 1)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "concurrentTransfers and maxPerSubnet must be at least 1",
    );
  }
  if (
    !Number.isSafeInteger(config.transfersPerHolder) ||
    config.transfersPerHolder < 0
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      `transfersPerHolder must be a whole number, 0 or more (0: concurrentTransfers alone); got ${config.transfersPerHolder}`,
    );
  }
  const log = getLogger(["tesseras", "replication"]);
  const clock = init.clock ?? systemClock;
  return {
    dht: init.dht,
    fragments: init.fragments,
    ledger: init.ledger,
    blobs: init.blobs,
    holders: init.holders,
    identity: init.identity,
    clock,
    rng: init.rng ?? cryptoRng,
    config,
    thresholds: init.thresholds ?? DEFAULT_TIER_THRESHOLDS,
    freeSpace: init.freeSpace ?? (() => Number.POSITIVE_INFINITY),
    maxSkewMs: init.attestationMaxSkewMs ?? 5 * 60 * 1000,
    graceMs: init.unreachableGraceMs ?? 0,
    candidateCount: init.candidateCount,
    transferBudget: init.transferBudgetBytes ?? 96 * 1024 * 1024,
    selfId: init.identity.peerId,
    log,
    locks: new KeyedLock(),
    reservations: new StoreReservations(),
    ...(init.standingStore ? { standingStore: init.standingStore } : {}),
    ...(init.manifests ? { manifests: init.manifests } : {}),
    ...(init.manifestDecoder ? { manifestDecoder: init.manifestDecoder } : {}),
    standing: new PeerStanding(config.repairIntervalMs, {
      ...(init.standingStore ? { store: init.standingStore } : {}),
      log,
    }),
    ownCache: new OwnShardCache(),
    announcer: new HolderAnnouncer(),
    stewards: new Stewards(clock.now(), init.stewardRegistry),
    liveness: new Liveness(),
    safety: new SafetyMemo(),
  };
}
