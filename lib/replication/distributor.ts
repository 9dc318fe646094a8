/**
 * The distributor: which peers get which shards. Pure functions, shared by
 * the replication service, repair and the simulator's checks.
 *
 * Two rules. *Diversity*: at most `maxPerSubnet` distinct peers of one
 * IPv4 /24 or IPv6 /48 hold shards of a tessera, so one rack or one power
 * cut takes at most that many. *Spread*: a Small tessera's whole file goes
 * to `smallReplicas` distinct peers; a Medium or Large tessera's shards go
 * one per peer when there are enough diverse peers, and round-robin over
 * all of them otherwise. With at least 7 peers round-robin loads are at
 * most 4 (Medium, 24 shards) or 11 (Large, 72), so losing any two peers
 * loses at most 8 or 22 shards — within the 8 or 24 parity shards. With
 * one shard per peer, any 8 (Medium) or 24 (Large) peers may go.
 *
 * @module
 */
import {
  type FragmentPlan,
  isWholeCopy,
  type PeerId,
  type PeerInfo,
} from "../core/mod.ts";
import { subnetOf } from "./subnet.ts";

/** The parts of a plan the distributor needs. */
export type PlanShape = Pick<
  FragmentPlan,
  "tier" | "dataShards" | "parityShards" | "shardCount"
>;

/** A peer's id and (possibly unknown) IP, enough for diversity. */
export type PeerAddress = Pick<PeerInfo, "id" | "ip">;

/** Options of {@linkcode selectDiversePeers}. */
export interface DiversityOptions {
  /** Most distinct peers per /24 (IPv4) or /48 (IPv6). */
  readonly maxPerSubnet: number;
  /**
   * Peers already holding shards of the tessera: they count against the
   * cap and are not picked again.
   */
  readonly existing?: readonly PeerAddress[];
  /** Peer ids never to pick (ourselves, peers that refused). */
  readonly exclude?: Iterable<PeerId>;
  /** Stop after this many peers. */
  readonly limit?: number;
}

/**
 * The candidates that keep the subnet cap, in the given order (closest
 * first, as the DHT returns them), without duplicates.
 *
 * @example
 * ```ts
 * selectDiversePeers([
 *   { id: "a", addresses: [], ip: "10.0.0.1" },
 *   { id: "b", addresses: [], ip: "10.0.0.2" },
 *   { id: "c", addresses: [], ip: "10.0.0.3" },
 * ], { maxPerSubnet: 2 }).map((p) => p.id); // ["a", "b"]
 * ```
 */
export function selectDiversePeers(
  candidates: readonly PeerInfo[],
  options: DiversityOptions,
): PeerInfo[] {
  const seen = new Set<PeerId>(options.exclude ?? []);
  // Excluded peers do not count against the cap, even as holders.
  const holders = (options.existing ?? []).filter((p) => !seen.has(p.id));
  const tally = new SubnetTally(options.maxPerSubnet, holders);
  for (const p of holders) seen.add(p.id);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const out: PeerInfo[] = [];
  for (const p of candidates) {
    if (out.length >= limit) break;
    if (seen.has(p.id) || !tally.fits(p)) continue;
    seen.add(p.id);
    tally.add(p);
    out.push(p);
  }
  return out;
}

/**
 * The subnet cap, counted: distinct peers per subnet among a tessera's
 * holders (and the peers about to hold shards), and whether one more
 * peer of a subnet keeps the cap. The one place the cap is counted.
 *
 * @example
 * ```ts
 * const tally = new SubnetTally(1, [{ id: "a", ip: "10.0.0.1" }]);
 * tally.fits({ id: "b", ip: "10.0.0.2" }); // false: 10.0.0.0/24 is full
 * tally.fits({ id: "c", ip: "10.0.1.2" }); // true
 * ```
 */
export class SubnetTally {
  readonly #max: number;
  readonly #counts = new Map<string, number>();
  readonly #peers = new Set<PeerId>();

  /**
   * @param maxPerSubnet most distinct peers per subnet
   * @param holders peers counted from the start (each once)
   */
  constructor(maxPerSubnet: number, holders: Iterable<PeerAddress> = []) {
    this.#max = maxPerSubnet;
    for (const p of holders) this.add(p);
  }

  /** Count `peer` (once, however often it is added). */
  add(peer: PeerAddress): void {
    if (this.#peers.has(peer.id)) return;
    this.#peers.add(peer.id);
    const key = subnetOf(peer);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Whether one more peer of `peer`'s subnet keeps the cap. */
  fits(peer: PeerAddress): boolean {
    return (this.#counts.get(subnetOf(peer)) ?? 0) < this.#max;
  }
}

/** One shard (or whole-file copy) assigned to one peer. */
export interface ShardAssignment {
  /** Shard index (always 0 for Small). */
  readonly index: number;
  /** The peer that should hold it. */
  readonly peer: PeerInfo;
}

/** Output of {@linkcode planPlacement}. */
export interface Placement {
  /** The distinct peers chosen, in slot order. */
  readonly peers: readonly PeerInfo[];
  /** Every assignment, by index then slot. */
  readonly assignments: readonly ShardAssignment[];
  /**
   * Shards (or, for Small, missing copies counted as index 0 repeated)
   * that found no peer.
   */
  readonly unplaced: readonly number[];
}

/** Options of {@linkcode planPlacement}. */
export interface PlacementOptions extends DiversityOptions {
  /** Whole-file copies of a Small tessera (r = 7). */
  readonly smallReplicas: number;
  /** Small tier: how many copies to place (default `smallReplicas`). */
  readonly copies?: number;
  /** Medium/Large: which shard indices to place (default all). */
  readonly indices?: readonly number[];
}

/**
 * Assign shards to diverse candidates: Small → one whole copy on each of
 * `copies` distinct peers; Medium/Large → one shard per peer when there
 * are enough peers, round-robin over all diverse peers otherwise.
 *
 * @example
 * ```ts
 * import type { PeerInfo } from "../core/mod.ts";
 * declare const plan: PlanShape;
 * declare const closestPeers: PeerInfo[];
 * const placement = planPlacement(plan, closestPeers, {
 *   maxPerSubnet: 2, smallReplicas: 7,
 * });
 * ```
 */
export function planPlacement(
  plan: PlanShape,
  candidates: readonly PeerInfo[],
  options: PlacementOptions,
): Placement {
  if (isWholeCopy(plan)) {
    const copies = Math.max(0, options.copies ?? options.smallReplicas);
    const limit = Math.min(copies, options.limit ?? copies);
    let peers = selectDiversePeers(candidates, { ...options, limit });
    // Too few subnets for the copies: more peers of the same subnets.
    if (peers.length < limit) peers = spreadPeers(candidates, options, limit);
    return {
      peers,
      assignments: peers.map((peer) => ({ index: 0, peer })),
      unplaced: new Array<number>(copies - peers.length).fill(0),
    };
  }
  const indices = options.indices ??
    Array.from({ length: plan.shardCount }, (_, i) => i);
  const limit = Math.min(indices.length, options.limit ?? indices.length);
  const diverse = selectDiversePeers(candidates, { ...options, limit });
  if (diverse.length === 0) {
    return { peers: diverse, assignments: [], unplaced: [...indices] };
  }
  const safe = roundRobin(indices, diverse);
  if (subnetSafe(plan, safe)) return { peers: diverse, ...safe };
  // Not enough subnets to survive a subnet outage: spread over more peers
  // of the same subnets instead, so more peer losses are survived.
  const peers = spreadPeers(candidates, options, limit);
  return { peers, ...withCopies(plan, indices, peers) };
}

/** Shards to peers in turn, one copy each. */
function roundRobin(
  indices: readonly number[],
  peers: readonly PeerInfo[],
): Pick<Placement, "assignments" | "unplaced"> {
  const assignments = indices.map((index, i) => ({
    index,
    peer: peers[i % peers.length],
  }));
  return { assignments, unplaced: [] };
}

/** Whether no subnet would hold more of `assigned` than the parity count. */
function subnetSafe(
  plan: PlanShape,
  assigned: Pick<Placement, "assignments">,
): boolean {
  const bySubnet = new Map<string, Set<number>>();
  for (const a of assigned.assignments) {
    const key = subnetOf(a.peer);
    let s = bySubnet.get(key);
    if (!s) bySubnet.set(key, s = new Set());
    s.add(a.index);
  }
  for (const s of bySubnet.values()) {
    if (s.size > plan.parityShards) return false;
  }
  return true;
}

/**
 * Up to `limit` distinct candidates, subnets taken in turn: the first
 * peer of every subnet, then the second of every subnet, and so on (no
 * cap per subnet; excluded and existing peers are left out).
 */
function spreadPeers(
  candidates: readonly PeerInfo[],
  options: DiversityOptions,
  limit: number,
): PeerInfo[] {
  const seen = new Set<PeerId>(options.exclude ?? []);
  for (const p of options.existing ?? []) seen.add(p.id);
  const bySubnet = new Map<string, PeerInfo[]>();
  for (const p of candidates) {
    if (seen.has(p.id)) continue;
    seen.add(p.id);
    const key = subnetOf(p);
    const list = bySubnet.get(key);
    if (list) list.push(p);
    else bySubnet.set(key, [p]);
  }
  const lists = [...bySubnet.values()];
  const out: PeerInfo[] = [];
  for (let round = 0; out.length < limit; round++) {
    const before = out.length;
    for (const list of lists) {
      if (round < list.length && out.length < limit) out.push(list[round]);
    }
    if (out.length === before) break;
  }
  return out;
}

/**
 * Peer losses a placement aims to survive where the peers allow it (with
 * one shard per peer on 24 peers a Medium tessera survives 8; with 5
 * peers, one copy of each shard survives 1).
 */
export const TARGET_PEER_LOSSES = 2;

/**
 * Shards round-robin over `peers`, plus further copies on other peers
 * while that is what stands between the placement and surviving
 * {@linkcode TARGET_PEER_LOSSES} peer losses (few peers: each holds
 * many shards). Copy `c` of the shard at position `i` goes to peer
 * `i + c × step`, so no peer holds two copies of one shard.
 */
function withCopies(
  plan: PlanShape,
  indices: readonly number[],
  peers: readonly PeerInfo[],
): Pick<Placement, "assignments" | "unplaced"> {
  const P = peers.length;
  const target = Math.min(TARGET_PEER_LOSSES, P - 1);
  let best = roundRobin(indices, peers);
  // Copies only help a full placement (repair of a few shards keeps one).
  if (indices.length < plan.shardCount) return best;
  for (let copies = 2; copies <= P; copies++) {
    if (toleranceOf(plan, best.assignments) >= target) break;
    const step = Math.max(1, Math.floor(P / copies));
    const assignments: ShardAssignment[] = [];
    for (let c = 0; c < copies; c++) {
      indices.forEach((index, i) => {
        assignments.push({ index, peer: peers[(i + c * step) % P] });
      });
    }
    assignments.sort((a, b) => a.index - b.index);
    best = { assignments, unplaced: [] };
  }
  return best;
}

function toleranceOf(
  plan: PlanShape,
  assignments: readonly ShardAssignment[],
): number {
  return placementTolerance(
    plan,
    assignments.map((a) => ({ index: a.index, peerId: a.peer.id })),
  );
}

/** A shard index held by a peer. */
export interface HolderOf {
  /** Shard index. */
  readonly index: number;
  /** Holder's peer id. */
  readonly peerId: PeerId;
}

/**
 * How many peers may vanish at once, whichever they are, with the tessera
 * still recoverable (at least `dataShards` distinct shards left); -1 when
 * it is not recoverable now. Exact when each shard has one holder (what
 * {@linkcode planPlacement} produces) and for Small copies; with shards on
 * several holders it removes the most damaging peer greedily, which can
 * overstate the figure.
 *
 * @example
 * ```ts
 * declare const plan: PlanShape;
 * placementTolerance(plan, [{ index: 0, peerId: "a" }, { index: 0, peerId: "b" }]);
 * // 1 for a Small tessera on two peers
 * ```
 */
export function placementTolerance(
  plan: PlanShape,
  holders: readonly HolderOf[],
): number {
  const byPeer = new Map<PeerId, Set<number>>();
  const cover = new Map<number, number>();
  let placements = 0;
  for (const h of holders) {
    if (h.index < 0 || h.index >= plan.shardCount) continue;
    let s = byPeer.get(h.peerId);
    if (!s) byPeer.set(h.peerId, s = new Set());
    if (s.has(h.index)) continue;
    s.add(h.index);
    placements++;
    cover.set(h.index, (cover.get(h.index) ?? 0) + 1);
  }
  const covered = cover.size;
  if (covered < plan.dataShards) return -1;
  // Whole copies: any peer but one may go.
  if (isWholeCopy(plan)) return byPeer.size - 1;
  // One shard per peer, one peer per shard (what placement aims for):
  // every loss costs one shard, so the greedy below would find this.
  if (placements === covered && byPeer.size === covered) {
    return covered - plan.dataShards;
  }
  // Shards on several peers and few peers: the greedy can overstate, and
  // trying every set of peers is cheap.
  if (placements > covered && byPeer.size <= EXACT_PEERS) {
    return exactTolerance(plan, byPeer);
  }
  return greedyTolerance(plan, { byPeer, cover, covered });
}

/** Up to this many peers, tolerance is found by trying every loss set. */
const EXACT_PEERS = 12;

/** The largest `t` such that losing any `t` peers leaves `dataShards`. */
function exactTolerance(
  plan: PlanShape,
  byPeer: ReadonlyMap<PeerId, ReadonlySet<number>>,
): number {
  const sets = [...byPeer.values()];
  const P = sets.length;
  let worst = P;
  // Masks of peers that stay; the fewest staying that still recover
  // bound the tolerance: t = P - (most peers lost while recoverable).
  for (let mask = 0; mask < 1 << P; mask++) {
    const lost = P - popcount(mask);
    if (lost >= worst) continue;
    const have = new Set<number>();
    for (let i = 0; i < P; i++) {
      if (mask & (1 << i)) { for (const x of sets[i]) have.add(x); }
    }
    if (have.size < plan.dataShards) worst = lost;
  }
  return worst - 1;
}

function popcount(n: number): number {
  let c = 0;
  for (; n; n &= n - 1) c++;
  return c;
}

/** Remove the most damaging peer until the tessera falls short. */
function greedyTolerance(
  plan: PlanShape,
  state: {
    byPeer: Map<PeerId, Set<number>>;
    cover: Map<number, number>;
    covered: number;
  },
): number {
  const { byPeer, cover } = state;
  let covered = state.covered;
  const alive = new Set(byPeer.keys());
  let removed = 0;
  while (alive.size > 0) {
    // The peer whose loss uncovers most shards; ties: most shards held,
    // then id for determinism.
    let worst: PeerId | undefined;
    let worstLoss = -1;
    let worstLoad = -1;
    for (const p of alive) {
      const set = byPeer.get(p)!;
      let loss = 0;
      for (const i of set) if (cover.get(i) === 1) loss++;
      if (
        loss > worstLoss || (loss === worstLoss && set.size > worstLoad) ||
        (loss === worstLoss && set.size === worstLoad && p < worst!)
      ) {
        worst = p;
        worstLoss = loss;
        worstLoad = set.size;
      }
    }
    alive.delete(worst!);
    for (const i of byPeer.get(worst!)!) {
      const c = cover.get(i)! - 1;
      cover.set(i, c);
      if (c === 0) covered--;
    }
    removed++;
    if (covered < plan.dataShards) return removed - 1;
  }
  return removed;
}

/** What a placement survives, as numbers (see {@linkcode placementSafety}). */
export interface PlacementSafety {
  /** Any this many peers may vanish at once; -1: not recoverable now. */
  readonly peerLosses: number;
  /**
   * Any this many whole subnets (IPv4 /24, IPv6 /48) may go dark at once;
   * -1: not recoverable now (0: one subnet outage can take it).
   */
  readonly subnetLosses: number;
  /** Distinct holders. */
  readonly peers: number;
  /** Distinct subnets among them (a peer of unknown IP is its own). */
  readonly subnets: number;
  /** Distinct shards held. */
  readonly shards: number;
  /** Distinct shards in the subnet that holds most. */
  readonly largestSubnetShards: number;
}

/**
 * The one tolerance computation: how many peer losses, and how many whole
 * subnet outages, the holders of a tessera survive, with the figures
 * behind them. Used by the put, the health check, repair and the words
 * of {@linkcode describeSafety}.
 *
 * @example
 * ```ts
 * declare const plan: PlanShape;
 * const safety = placementSafety(plan, [
 *   { index: 0, peerId: "a", ip: "10.0.0.1" },
 *   { index: 0, peerId: "b", ip: "10.0.1.1" },
 * ]);
 * safety.peerLosses; // 1 for a Small tessera on two peers
 * safety.subnetLosses; // 1: they sit in two /24s
 * ```
 */
export function placementSafety(
  plan: PlanShape,
  holders: readonly (HolderOf & { readonly ip?: string })[],
): PlacementSafety {
  const subnetOfPeer = new Map<PeerId, string>();
  const bySubnet = new Map<string, Set<number>>();
  const shards = new Set<number>();
  for (const h of holders) {
    if (h.index < 0 || h.index >= plan.shardCount) continue;
    const key = subnetOfPeer.get(h.peerId) ??
      subnetOf({ id: h.peerId, ip: h.ip });
    subnetOfPeer.set(h.peerId, key);
    let set = bySubnet.get(key);
    if (!set) bySubnet.set(key, set = new Set());
    set.add(h.index);
    shards.add(h.index);
  }
  const asSubnets = holders.map((h) => ({
    index: h.index,
    peerId: subnetOfPeer.get(h.peerId) ?? h.peerId,
  }));
  return {
    peerLosses: placementTolerance(plan, holders),
    subnetLosses: placementTolerance(plan, asSubnets),
    peers: subnetOfPeer.size,
    subnets: bySubnet.size,
    shards: shards.size,
    largestSubnetShards: Math.max(
      0,
      ...[...bySubnet.values()].map((s) => s.size),
    ),
  };
}

/**
 * {@linkcode PlacementSafety} in words, for `put`, `status` and
 * `status ID`.
 *
 * @example
 * ```ts
 * describeSafety({
 *   peerLosses: 2, subnetLosses: 0, peers: 5, subnets: 1, shards: 24,
 *   largestSubnetShards: 24,
 * });
 * // "survives any 2 peer losses; 1 /24 holds all 24 shards: not safe from a subnet outage"
 * ```
 */
export function describeSafety(safety: PlacementSafety): string {
  const { peerLosses, subnetLosses, subnets, shards } = safety;
  if (peerLosses < 0) {
    return `not recoverable from its holders (${shards} distinct shards held)`;
  }
  const peers = peerLosses === 1 ? "1 peer loss" : `${peerLosses} peer losses`;
  const first = peerLosses === 0
    ? "survives no peer loss"
    : `survives any ${peers}`;
  if (subnetLosses > 0) {
    const outages = subnetLosses === 1 ? "1 /24" : `${subnetLosses} /24s`;
    return `${first} and the outage of any ${outages}`;
  }
  const held = shards === 1 ? "every copy" : `all ${shards} shards`;
  return subnets <= 1
    ? `${first}; 1 /24 holds ${held}: not safe from a subnet outage`
    : `${first}; one /24 holds ${safety.largestSubnetShards} of its ${shards} shards: not safe from a subnet outage`;
}

/** A rule a placement breaks. */
export type PlacementViolation =
  | {
    /** More distinct peers in one subnet than the cap. */
    readonly kind: "subnet_cap";
    /** The subnet key (see `subnetKey`). */
    readonly subnet: string;
    /** The peers in it, sorted. */
    readonly peers: readonly PeerId[];
  }
  | {
    /** Shards with no holder at all. */
    readonly kind: "missing_shards";
    /** Their indices, ascending. */
    readonly indices: readonly number[];
  }
  | {
    /** Fewer tolerated peer losses than required. */
    readonly kind: "low_tolerance";
    /** What {@linkcode placementTolerance} computed. */
    readonly tolerance: number;
    /** What was required. */
    readonly required: number;
  }
  | {
    /** A holder record names an index outside the plan. */
    readonly kind: "invalid_index";
    /** The index. */
    readonly index: number;
  };

/** Options of {@linkcode checkPlacement}. */
export interface CheckPlacementOptions {
  /** Most distinct peers per subnet. */
  readonly maxPerSubnet: number;
  /**
   * Distinct subnets the owner could have placed on (the network's, as
   * far as the check knows). Given, a subnet over the cap breaks the rule
   * only while the holders leave some of them unused: where the network
   * has too few subnets, placement rightly uses more peers of the same
   * ones (see {@linkcode planPlacement}). Absent: the cap is absolute.
   */
  readonly availableSubnets?: number;
  /** Peer losses the placement must survive (default 2; 0 disables). */
  readonly minTolerance?: number;
}

/**
 * Every rule the holders of one tessera break: the subnet cap, missing
 * shards, too little loss tolerance, out-of-range indices. Empty when the
 * placement is sound. The simulator runs it on every tessera.
 *
 * @example
 * ```ts
 * declare const plan: PlanShape;
 * const violations = checkPlacement(plan, [
 *   { index: 0, peer: { id: "a", ip: "10.0.0.1" } },
 * ], { maxPerSubnet: 2, minTolerance: 0 });
 * ```
 */
export function checkPlacement(
  plan: PlanShape,
  holders: readonly { readonly index: number; readonly peer: PeerAddress }[],
  options: CheckPlacementOptions,
): PlacementViolation[] {
  const out: PlacementViolation[] = [];
  const bySubnet = new Map<string, Set<PeerId>>();
  const held = new Set<number>();
  const valid: HolderOf[] = [];
  const badIndices = new Set<number>();
  for (const h of holders) {
    if (
      !Number.isInteger(h.index) || h.index < 0 || h.index >= plan.shardCount
    ) {
      badIndices.add(h.index);
      continue;
    }
    held.add(h.index);
    valid.push({ index: h.index, peerId: h.peer.id });
    const key = subnetOf(h.peer);
    let s = bySubnet.get(key);
    if (!s) bySubnet.set(key, s = new Set());
    s.add(h.peer.id);
  }
  for (
    const [subnet, peers] of [...bySubnet].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    )
  ) {
    const roomElsewhere = options.availableSubnets === undefined ||
      bySubnet.size < options.availableSubnets;
    if (peers.size > options.maxPerSubnet && roomElsewhere) {
      out.push({ kind: "subnet_cap", subnet, peers: [...peers].sort() });
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < plan.shardCount; i++) if (!held.has(i)) missing.push(i);
  if (missing.length > 0) {
    out.push({ kind: "missing_shards", indices: missing });
  }
  const required = options.minTolerance ?? 2;
  if (required > 0) {
    const tolerance = placementTolerance(plan, valid);
    if (tolerance < required) {
      out.push({ kind: "low_tolerance", tolerance, required });
    }
  }
  for (const index of [...badIndices].sort((a, b) => a - b)) {
    out.push({ kind: "invalid_index", index });
  }
  return out;
}
