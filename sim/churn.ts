/**
 * Churn on the virtual clock: permanent departures (Poisson, with data
 * loss, each replaced by a fresh arrival), transient absences (alternating
 * exponential sessions), correlated subnet outages and scripted traces.
 * The churn driver only decides *when*; the world it drives decides what
 * leaving means (stop the node, drop its data, …).
 *
 * @module
 */
import type { VirtualClock } from "./clock.ts";
import type { SimRng } from "./rng.ts";
import type { ChurnSpec, OutageSpec, TraceEvent } from "./scenario.ts";
import { slash16, slash24 } from "./topology.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What churn acts on. */
export interface ChurnWorld {
  /** The clock events go on. */
  readonly clock: VirtualClock;
  /** Indices of nodes that have not left, ascending. */
  present(): number[];
  /** Whether node `i` has not left. */
  isPresent(i: number): boolean;
  /** Whether node `i` may leave for good (stable owners may not). */
  mayDepart(i: number): boolean;
  /** IPv4 address of node `i`. */
  ip(i: number): string;
  /** Node `i` leaves for good, losing its data. */
  depart(i: number): void;
  /** A fresh node arrives; returns its index. */
  arrive(): number;
  /** Node `i`'s own absence starts (`true`) or ends (`false`). */
  setAbsent(i: number, absent: boolean): void;
  /** An outage holds node `i` down (+1) or releases it (-1). */
  hold(i: number, delta: 1 | -1): void;
  /** An outage is about to take `nodes` (for heal-time measurement). */
  outageStarting(label: string, nodes: readonly number[]): void;
}

/** Counters of what churn did. */
export interface ChurnStats {
  /** Permanent departures. */
  departures: number;
  /** Fresh arrivals. */
  arrivals: number;
  /** Transient absences started. */
  absences: number;
  /** Nodes hit by correlated outages. */
  outageNodes: number;
}

/**
 * Schedules churn on the world's clock until `endAt`.
 *
 * @example
 * ```ts
 * import { SimRng } from "./mod.ts";
 * declare const world: ChurnWorld;
 * declare const rng: SimRng;
 * declare const end: number;
 * declare const initialNodes: number;
 * const churn = new ChurnDriver(world, { permanentPerMonth: 0.1 }, rng, end);
 * churn.start(initialNodes);
 * ```
 */
export class ChurnDriver {
  readonly stats: ChurnStats = {
    departures: 0,
    arrivals: 0,
    absences: 0,
    outageNodes: 0,
  };
  readonly #world: ChurnWorld;
  readonly #spec: ChurnSpec;
  readonly #rng: SimRng;
  readonly #endAt: number;

  /**
   * @param world what churn acts on
   * @param spec rates
   * @param rng randomness (a stream of its own)
   * @param endAt virtual time after which nothing is scheduled
   */
  constructor(world: ChurnWorld, spec: ChurnSpec, rng: SimRng, endAt: number) {
    this.#world = world;
    this.#spec = spec;
    this.#rng = rng;
    this.#endAt = endAt;
  }

  /** Start random churn for a population of `population` nodes. */
  start(population: number): void {
    const clock = this.#world.clock;
    const perMs = (population * this.#spec.permanentPerMonth) / (30 * DAY);
    if (perMs > 0) {
      const next = () => {
        const at = clock.now() + this.#rng.exponential(1 / perMs);
        if (at > this.#endAt) return;
        clock.schedule(at, () => {
          this.#departOne();
          next();
        });
      };
      next();
    }
    if (this.#spec.transient) {
      for (const i of this.#world.present()) this.#transient(i);
    }
  }

  /** Start transient sessions for a node that just arrived. */
  track(i: number): void {
    if (this.#spec.transient) this.#transient(i);
  }

  /** Schedule a correlated outage. */
  outage(spec: OutageSpec): void {
    const w = this.#world;
    w.clock.schedule(w.clock.now() + spec.atDay * DAY, () => {
      const { label, hit } = outageTargets(spec, w.present(), (i) => w.ip(i));
      w.outageStarting(label, hit);
      this.stats.outageNodes += hit.length;
      if (spec.durationHours === undefined) {
        for (const i of hit) this.#depart(i);
        return;
      }
      for (const i of hit) w.hold(i, 1);
      w.clock.schedule(w.clock.now() + spec.durationHours * HOUR, () => {
        for (const i of hit) w.hold(i, -1);
      });
    });
  }

  /** Schedule a scripted trace (times from now). */
  trace(events: readonly TraceEvent[]): void {
    const w = this.#world;
    const start = w.clock.now();
    for (const e of events) {
      w.clock.schedule(start + e.atHours * HOUR, () => {
        if (!w.isPresent(e.node)) return;
        if (e.action === "depart") this.#depart(e.node);
        else w.setAbsent(e.node, e.action === "down");
      });
    }
  }

  #departOne(): void {
    const w = this.#world;
    const eligible = w.present().filter((i) => w.mayDepart(i));
    if (eligible.length === 0) return;
    this.#depart(this.#rng.pick(eligible));
    const fresh = w.arrive();
    this.stats.arrivals++;
    this.track(fresh);
  }

  #depart(i: number): void {
    this.#world.depart(i);
    this.stats.departures++;
  }

  #transient(i: number): void {
    const t = this.#spec.transient!;
    const w = this.#world;
    const clock = w.clock;
    const up = () => {
      const at = clock.now() + this.#rng.exponential(t.meanUpHours * HOUR);
      if (at > this.#endAt) return;
      clock.schedule(at, () => {
        if (!w.isPresent(i)) return;
        w.setAbsent(i, true);
        this.stats.absences++;
        const back = clock.now() +
          this.#rng.exponential(t.meanDownHours * HOUR);
        clock.schedule(back, () => {
          if (!w.isPresent(i)) return;
          w.setAbsent(i, false);
          up();
        });
      });
    };
    up();
  }
}

/**
 * What an outage takes: the `spec.subnets` most populated subnets of its
 * scope among `members` (ties by subnet name), their members, and the
 * label the report shows. Both levels pick their outages with it.
 *
 * @example
 * ```ts
 * const ips = ["10.0.0.1", "10.0.1.1", "10.0.1.2"];
 * outageTargets({ atDay: 1, scope: "/24" }, [0, 1, 2], (i) => ips[i]);
 * // { label: "10.0.1.0/24 lost for good (2 nodes)", hit: [1, 2] }
 * ```
 */
export function outageTargets<T>(
  spec: OutageSpec,
  members: readonly T[],
  ipOf: (member: T) => string,
): { label: string; hit: T[] } {
  const groups = new Map<string, T[]>();
  for (const m of members) {
    const ip = ipOf(m);
    const key = spec.scope === "/24" ? slash24(ip) : slash16(ip);
    let g = groups.get(key);
    if (!g) groups.set(key, g = []);
    g.push(m);
  }
  const chosen = [...groups].sort((a, b) =>
    b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)
  ).slice(0, spec.subnets ?? 1);
  const hit = chosen.flatMap(([, g]) => g);
  const where = chosen.map(([k]) =>
    spec.scope === "/24" ? `${k}.0/24` : `${k}.0.0/16`
  ).join(", ");
  const what = spec.durationHours === undefined
    ? "lost for good"
    : `dark for ${spec.durationHours} h`;
  return { label: `${where} ${what} (${hit.length} nodes)`, hit };
}
