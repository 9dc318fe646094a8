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
    const peers = selectDiversePeers(candidates, {
      ...options,
      limit: Math.min(copies, options.limit ?? copies),
    });
    return {
      peers,
      assignments: peers.map((peer) => ({ index: 0, peer })),
      unplaced: new Array<number>(copies - peers.length).fill(0),
    };
  }
  const indices = options.indices ??
    Array.from({ length: plan.shardCount }, (_, i) => i);
  const peers = selectDiversePeers(candidates, {
    ...options,
    limit: Math.min(indices.length, options.limit ?? indices.length),
  });
  if (peers.length === 0) {
    return { peers, assignments: [], unplaced: [...indices] };
  }
  const assignments = indices.map((index, i) => ({
    index,
    peer: peers[i % peers.length],
  }));
  return { peers, assignments, unplaced: [] };
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
  let covered = cover.size;
  if (covered < plan.dataShards) return -1;
  // One shard per peer, one peer per shard (what placement aims for):
  // every loss costs one shard, so the greedy below would find this.
  if (placements === covered && byPeer.size === covered) {
    return covered - plan.dataShards;
  }
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
    if (peers.size > options.maxPerSubnet) {
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
