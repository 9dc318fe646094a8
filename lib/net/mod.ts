/**
 * The network adapter of tesseras: a libp2p node (TCP or memory, Noise,
 * Yamux, identify, ping, Kademlia under `/tesseras/kad/1.0.0`), the
 * node's persistent Ed25519 identity, the wire protocols
 * `/tesseras/{replicate,attest,fetch}/1.0.0`, and `Libp2pDhtPort`, the
 * core's `DhtPort` over all of it.
 *
 * Typical wiring (lib/node):
 *
 * ```ts
 * import type { InboundHandlers } from "../core/mod.ts";
 * declare const dataDir: string;
 * declare const bootstrap: string[];
 * declare const knownPeers: KnownPeer[];
 * declare const peers: { upsert(id: string, addr: string): void };
 * declare const service: InboundHandlers;
 * const { privateKey } = await loadOrCreateIdentity(`${dataDir}/identity.key`);
 * const node = await createTesserasNode({
 *   privateKey,
 *   listen: ["/ip4/0.0.0.0/tcp/4001"],
 *   bootstrap,
 *   knownPeers,
 *   peerInfoMapper: "passthrough",
 *   onPeerSeen: (id, addr) => peers.upsert(id, addr),
 * });
 * const dht = new Libp2pDhtPort(node);
 * // `service`: lib/replication's ReplicationService, built on `dht` and `node.identity`
 * node.setInboundHandlers(service);
 * await node.start();
 * // …
 * await node.stop();
 * ```
 *
 * @module
 */
export { denoExitFixesInstalled, installDenoExitFixes } from "./deno_compat.ts";
export { verifyEd25519, withCachedSigning } from "./ed25519_keys.ts";
export {
  Libp2pNodeIdentity,
  type LoadedIdentity,
  type LoadIdentityOptions,
  loadOrCreateIdentity,
  verifyPeerSignature,
} from "./identity.ts";
export {
  type CountedProtocol,
  type NetCounters,
  NetMetrics,
  type ProtocolCounters,
} from "./metrics.ts";
export { firstIp, ipOfMultiaddr, toPeerInfo } from "./peer_info.ts";
export { PeerRateLimiter, type RateLimit } from "./token_bucket.ts";
export {
  ATTEST_PROTOCOL,
  DEFAULT_NET_LIMITS,
  FETCH_PROTOCOL,
  KAD_PROTOCOL,
  MAX_SHARD_BYTES,
  MAX_SHARD_COUNT,
  type NetLimits,
  netLimits,
  type NetLimitsOverrides,
  type ProtocolLimits,
  REPLICATE_PROTOCOL,
} from "./protocol/limits.ts";
export { validateEnvelope } from "./protocol/replicate.ts";
export {
  checkAttestation,
  NONCE_BYTES,
  validateAttestRequest,
} from "./protocol/attest.ts";
export { validateShardRef } from "./protocol/fetch.ts";
export {
  type ConnectionLimitsOptions,
  createTesserasNode,
  DEFAULT_REPLICATE_RATE_LIMIT,
  type KnownPeer,
  type NetStats,
  type PeerInfoMapperSetting,
  type PeerSeenCallback,
  type PeerSeenInfo,
  TesserasNode,
  type TesserasNodeOptions,
} from "./node.ts";
export {
  holderCid,
  Libp2pDhtPort,
  type Libp2pDhtPortOptions,
} from "./dht_port.ts";
export { type NatOptions, natParts, type RelayServerMode } from "./nat.ts";
export {
  AUTONAT_PROTOCOL,
  NatMonitor,
  type ReachabilityReport,
} from "./nat_monitor.ts";
export {
  classifyReachability,
  isDialableFrom,
  isHeldRelayAddress,
  isPublicAddress,
  isRelayAddress,
  type OwnAddress,
  type Reachability,
  usableAddresses,
} from "./reachability.ts";
export {
  DEFAULT_RELAY_LIMITS,
  RelayBudget,
  type RelayBudgetOptions,
  type RelayCredit,
  type RelayLimits,
  relayLimits,
} from "./relay_policy.ts";
export {
  CATALOGUE_NAMESPACE,
  Libp2pRecords,
  recordKadInit,
  type RecordRules,
  type RecordsNode,
} from "./records.ts";
export {
  applyKadTuning,
  type DhtTuningOptions,
  kadTuningInit,
} from "./kad_tuning.ts";
