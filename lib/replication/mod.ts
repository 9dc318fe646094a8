/**
 * The replication layer: placement with subnet diversity, the replication
 * service (push, receive, attest, health, repair, retrieve) and the repair
 * loop. Imports only `lib/core` and `lib/codec`; sees the world through
 * ports, so the node and the simulator run this same code.
 *
 * @example
 * ```ts
 * import type {
 *   BlobStore,
 *   Clock,
 *   DhtPort,
 *   FragmentStore,
 *   HolderRegistry,
 *   NodeIdentity,
 *   ReciprocityLedger,
 *   Rng,
 * } from "../core/mod.ts";
 * declare const dht: DhtPort;
 * declare const fragments: FragmentStore;
 * declare const ledger: ReciprocityLedger;
 * declare const blobs: BlobStore;
 * declare const holders: HolderRegistry;
 * declare const identity: NodeIdentity;
 * declare const clock: Clock;
 * declare const rng: Rng;
 * declare const bytes: Uint8Array;
 * import { RepairLoop, ReplicationService } from "./mod.ts";
 * const service = new ReplicationService({
 *   dht, fragments, ledger, blobs, holders, identity, clock, rng,
 * });
 * const report = await service.putTessera(bytes);
 * const loop = new RepairLoop(service, { clock, rng });
 * loop.start();
 * ```
 *
 * @module
 */
export { subnetKey, subnetOf } from "./subnet.ts";
export {
  checkPlacement,
  type CheckPlacementOptions,
  describeSafety,
  type DiversityOptions,
  type HolderOf,
  type PeerAddress,
  type Placement,
  type PlacementOptions,
  type PlacementSafety,
  placementSafety,
  placementTolerance,
  type PlacementViolation,
  planPlacement,
  type PlanShape,
  selectDiversePeers,
  type ShardAssignment,
  SubnetTally,
  TARGET_PEER_LOSSES,
} from "./distributor.ts";
export {
  type AttestationCheck,
  attestationProof,
  type Expectation,
  verifyAttestation,
} from "./attest.ts";
export { ReplicationService } from "./service.ts";
export { type AdoptionClaim, checksumsDigest } from "./adopt.ts";
export { RepairLoop, type RepairLoopOptions } from "./repair_loop.ts";
export {
  type CorruptShard,
  ScrubLoop,
  type ScrubLoopOptions,
  type ScrubReport,
} from "./scrub.ts";
export type * from "./types.ts";
