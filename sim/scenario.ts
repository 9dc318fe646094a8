/**
 * What a simulation run is: population, churn, topology, workload, faults
 * and the promises the run is checked against. Each named scenario is a
 * small file under `sim/scenarios/`; command-line options override its
 * numbers.
 *
 * Byte figures in a scenario are real-world sizes; the run multiplies
 * them by `scale` together with the tier thresholds.
 *
 * @module
 */
import type { ReplicationConfig } from "../lib/core/mod.ts";

/** Node arrivals and departures. */
export interface ChurnSpec {
  /**
   * Fraction of the nodes that leave for good per 30 days, losing their
   * data (Poisson; 0.1 = 10%/month). The same number of fresh nodes
   * arrive, so the population stays steady.
   */
  readonly permanentPerMonth: number;
  /**
   * Transient absences: each node alternates online sessions and offline
   * gaps drawn from exponentials with these means (omit for none).
   */
  readonly transient?: {
    readonly meanUpHours: number;
    readonly meanDownHours: number;
  };
  /**
   * `stable`: tessera owners never leave for good (their data stays
   * repairable by them); `churn`: owners leave like everyone else, and
   * their tesseras are then looked after by their holders' stewards
   * (docs/stewards.md). Default: `churn` when `permanentPerMonth > 0`.
   */
  readonly owners?: "stable" | "churn";
}

/** Where nodes sit in the IPv4 space. */
export interface TopologySpec {
  /** Mean nodes per /24 (default 1.5). */
  readonly nodesPer24?: number;
  /** /24s per /16 (default 16). */
  readonly slash24PerSlash16?: number;
  /**
   * Crowded subnets: `fraction` of the nodes sit in only `subnets` /24s
   * (e.g. a university or a data centre).
   */
  readonly hotspots?: { readonly subnets: number; readonly fraction: number };
}

/** The tesseras placed. */
export interface WorkloadSpec {
  /** Shares of Small, Medium and Large tesseras (default 0.5/0.4/0.1). */
  readonly mix?: {
    readonly small: number;
    readonly medium: number;
    readonly large: number;
  };
  /** Placements are spread over this many hours from the start (default 24). */
  readonly placementHours?: number;
  /** Fraction of the initial nodes that own tesseras (default 0.5). */
  readonly ownerFraction?: number;
  /**
   * The initial nodes that own the fair owners' tesseras, by index,
   * instead of drawing them with `ownerFraction`: a trace can then name
   * the owners (e.g. to take them away for good).
   */
  readonly ownerNodes?: readonly number[];
  /** Share of the tesseras owned by free riders (default: by head count). */
  readonly freeRiderShare?: number;
}

/** A correlated failure: whole subnets dark at once. */
export interface OutageSpec {
  /** When, in days from the start. */
  readonly atDay: number;
  /** How wide: a /24 or a /16. */
  readonly scope: "/24" | "/16";
  /** How many such subnets (default 1), the most populated first. */
  readonly subnets?: number;
  /** Hours until they come back; omit for a permanent loss (a fire). */
  readonly durationHours?: number;
}

/** One step of a churn trace. */
export interface TraceEvent {
  /** When, in hours from the start. */
  readonly atHours: number;
  /** Node index (initial nodes are 0 … nodes-1). */
  readonly node: number;
  /** Go offline, come back, or leave for good. */
  readonly action: "down" | "up" | "depart";
}

/** What a scenario promises; each becomes a check of the run. */
export interface Promises {
  /** No tessera is ever unrecoverable from the network. */
  readonly zeroLost?: boolean;
  /** No fair owner's tessera is ever unrecoverable (free riders' may be). */
  readonly zeroLostFair?: boolean;
  /** Free riders' mean redundancy ends below fair owners'. */
  readonly freeRidersLoseFirst?: boolean;
  /** Every outage heals (degraded back to its level before) within this many hours. */
  readonly healWithinHours?: number;
  /** Every fully placed tessera survives this many peer losses. */
  readonly peerLosses?: number;
}

/** A complete scenario. */
export interface Scenario {
  /** Short name (the file name). */
  readonly name: string;
  /** What it exercises and what it promises, in a sentence or two. */
  readonly description: string;
  /** Nodes at the start. */
  readonly nodes: number;
  /** Virtual days simulated. */
  readonly days: number;
  /** Tesseras placed. */
  readonly tesseras: number;
  /** Byte scale (tier thresholds, sizes, byte limits), e.g. 1/1024. */
  readonly scale: number;
  /** Default seed. */
  readonly seed: string;
  /** Churn. */
  readonly churn: ChurnSpec;
  /** Topology. */
  readonly topology?: TopologySpec;
  /** Workload. */
  readonly workload?: WorkloadSpec;
  /** Free riders among the initial nodes. */
  readonly freeRiders?: {
    /** Fraction of the initial nodes. */
    readonly fraction: number;
    /** `refuse`: store nothing; `drop`: accept, then keep nothing. */
    readonly mode: "refuse" | "drop";
  };
  /** Correlated failures. */
  readonly outages?: readonly OutageSpec[];
  /** A churn trace, applied on top of (or instead of) random churn. */
  readonly trace?: readonly TraceEvent[];
  /** Network model. */
  readonly network?: {
    /** One-way latency, virtual ms (default 0). */
    readonly latencyMs?: number | readonly [number, number];
    /** Request loss probability (default 0). */
    readonly lossRate?: number;
    /** `kademlia` (default) or `exact` closest-peer answers. */
    readonly lookup?: "kademlia" | "exact";
  };
  /** Replication settings (real-world bytes; scaled by the run). */
  readonly replication?: Partial<ReplicationConfig>;
  /**
   * Hours an unreachable holder that was attested before still counts as
   * holding (the service's `unreachableGraceMs`; default 0).
   */
  readonly unreachableGraceHours?: number;
  /** Disk capacity of each node, real-world bytes (default 64 GiB). */
  readonly nodeCapacityBytes?: number;
  /**
   * Whether repair sweeps re-hash every shard held for others (the
   * service's `verifyHeld`). Default false: nothing in the simulator
   * corrupts bytes unless a scenario says so, and re-hashing every shard
   * every virtual day dominates the run time.
   */
  readonly verifyHeld?: boolean;
  /** Census sample period, hours (default 24). */
  readonly sampleHours?: number;
  /** Subnet-cap audit of every owner's holder records, every N days (default 7). */
  readonly auditEveryDays?: number;
  /** What the run must show. */
  readonly promises: Promises;
}
