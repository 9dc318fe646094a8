/**
 * The workload both levels place: which nodes own tesseras, and each
 * tessera's owner, size, byte seed, group and placement time, drawn from
 * the scenario's workload settings on the run's `workload` random stream.
 *
 * @module
 */
import type { TierThresholds } from "../lib/core/mod.ts";
import { SimRng } from "./rng.ts";
import type { Scenario, WorkloadSpec } from "./scenario.ts";

const HOUR = 3_600_000;
const KIB = 1024;
const GIB = 1024 * 1024 * KIB;

/** One tessera to place. */
export interface WorkloadJob {
  /** Index of the owning node. */
  readonly owner: number;
  /** Size in (scaled) bytes. */
  readonly size: number;
  /** Seed of its bytes (see {@linkcode tesseraBytes}). */
  readonly seed: number;
  /** `fair` or `freeRider`, after its owner. */
  readonly group: "fair" | "freeRider";
  /** When to place it, ms after the start (the port level honours it). */
  readonly atMs: number;
}

/** The owners and the tesseras of a run. */
export interface Workload {
  /** Nodes that own tesseras: the chosen fair ones, then every free rider. */
  readonly owners: readonly number[];
  /** The tesseras, in the order drawn. */
  readonly jobs: readonly WorkloadJob[];
}

/** Sizes drawn from: the tier's range at the run's scale. */
interface SizeRange {
  readonly mix: NonNullable<WorkloadSpec["mix"]>;
  readonly total: number;
  readonly thresholds: TierThresholds;
  readonly scale: number;
}

/**
 * Draw the workload of `scenario`: nodes `0 … freeRiders-1` are the free
 * riders (each owns), every other node owns with `ownerFraction` (or, with
 * `ownerNodes`, exactly the nodes it names do); each
 * tessera goes to a free rider with `freeRiderShare` (default: their share
 * of the owners), its size log-uniform within a tier picked by `mix`.
 *
 * @example
 * ```ts
 * import { scaledThresholds, type Scenario, SimRng } from "./mod.ts";
 * declare const scenario: Scenario;
 * const w = planWorkload(scenario, {
 *   rng: new SimRng("s").fork("workload"),
 *   thresholds: scaledThresholds(1 / 1024), freeRiders: 0,
 * });
 * w.jobs.length === scenario.tesseras; // true
 * ```
 */
export function planWorkload(
  scenario: Scenario,
  options: {
    readonly rng: SimRng;
    readonly thresholds: TierThresholds;
    readonly freeRiders: number;
  },
): Workload {
  const { rng, freeRiders } = options;
  const w = scenario.workload ?? {};
  const fair: number[] = [];
  const fr: number[] = [];
  for (let i = 0; i < scenario.nodes; i++) {
    if (i < freeRiders) fr.push(i);
    else if (
      w.ownerNodes?.includes(i) ?? rng.chance(w.ownerFraction ?? 0.5)
    ) fair.push(i);
  }
  if (fair.length === 0) {
    fair.push(freeRiders < scenario.nodes ? freeRiders : 0);
  }
  const frShare = fr.length === 0
    ? 0
    : w.freeRiderShare ?? fr.length / (fr.length + fair.length);
  const mix = w.mix ?? { small: 0.5, medium: 0.4, large: 0.1 };
  const range: SizeRange = {
    mix,
    total: mix.small + mix.medium + mix.large,
    thresholds: options.thresholds,
    scale: scenario.scale,
  };
  const hours = w.placementHours ?? 24;
  const jobs: WorkloadJob[] = [];
  for (let j = 0; j < scenario.tesseras; j++) {
    const isFr = rng.chance(frShare);
    const owner = isFr ? rng.pick(fr) : rng.pick(fair);
    const size = drawSize(rng, range);
    const atMs = rng.next() * hours * HOUR;
    const seed = rng.next32();
    jobs.push({ owner, size, seed, group: isFr ? "freeRider" : "fair", atMs });
  }
  return { owners: [...fair, ...fr], jobs };
}

/** A size in the tier `mix` picks, log-uniform within it. */
function drawSize(rng: SimRng, range: SizeRange): number {
  const t = range.thresholds;
  const u = rng.next() * range.total;
  const [lo, hi] = u < range.mix.small
    ? [Math.max(1, Math.round(64 * KIB * range.scale)), t.mediumFrom]
    : u < range.mix.small + range.mix.medium
    ? [t.mediumFrom, t.largeFrom]
    : [t.largeFrom, Math.max(t.largeFrom + 1, Math.round(GIB * range.scale))];
  return Math.min(
    hi - 1,
    Math.max(lo, Math.floor(rng.logUniform(lo, Math.max(lo + 1, hi)))),
  );
}

/**
 * The bytes of a job: pseudo-random from the run's seed and the job's, so
 * they are made only when placed (a year-long run never holds them all).
 *
 * @example
 * ```ts
 * tesseraBytes("seed", { seed: 7, size: 1024 }).length; // 1024
 * ```
 */
export function tesseraBytes(
  runSeed: string,
  job: Pick<WorkloadJob, "seed" | "size">,
): Uint8Array {
  return new SimRng(`${runSeed}/tessera/${job.seed}`).bytes(job.size);
}
