/**
 * The simulator's driver: `runSimulation` resolves the scenario, runs it
 * at the level asked (`port`: `port_level.ts`; `libp2p`: `libp2p.ts`,
 * loaded on demand) and times it. Both levels share the workload
 * (`workload.ts`) and the end of a run (`outcome.ts`); neither imports
 * this file.
 *
 * @module
 */
import { runPortSimulation } from "./port_level.ts";
import type { SimulationOptions, SimulationResult } from "./result.ts";
import type { Scenario } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/mod.ts";
import { round3 } from "./summary.ts";
import { scaledConfig, scaledThresholds } from "./scale.ts";

export { scaledConfig, scaledThresholds };
export type {
  OutageRecord,
  SimProgress,
  SimulationOptions,
  SimulationResult,
} from "./result.ts";

/**
 * The scenario named or given, with the options' overrides applied.
 * `nodes` without `tesseras` keeps the scenario's tesseras per node: the
 * default scenario's 300 tesseras are sized for its 300 nodes, and on 20
 * nodes they would be 15 times the load per owner, more than the peers'
 * deficit tolerance lets one owner place (holders refuse, some tesseras
 * never get `dataShards` shards out).
 *
 * @example
 * ```ts
 * resolveScenario({ scenario: "quick", days: 5 }).days; // 5
 * resolveScenario({ scenario: "default", nodes: 20 }).tesseras; // 20
 * ```
 */
export function resolveScenario(options: SimulationOptions = {}): Scenario {
  const base = typeof options.scenario === "object"
    ? options.scenario
    : SCENARIOS[options.scenario ?? "default"];
  if (!base) {
    throw new Error(
      `unknown scenario "${options.scenario}": choose one of ${
        Object.keys(SCENARIOS).join(", ")
      }`,
    );
  }
  const s: Scenario = {
    ...base,
    nodes: options.nodes ?? base.nodes,
    days: options.days ?? base.days,
    tesseras: options.tesseras ?? tesserasFor(base, options.nodes),
    seed: options.seed === undefined ? base.seed : String(options.seed),
    scale: options.scale ?? base.scale,
    churn: ownersOf(
      options.churn === undefined
        ? base.churn
        : { ...base.churn, permanentPerMonth: options.churn },
      options.owners,
    ),
    network: options.lookup
      ? { ...base.network, lookup: options.lookup }
      : base.network,
  };
  validate(s);
  return s;
}

/**
 * Owners churn like everyone in a scenario that churns, unless it or the
 * options say `stable` (docs/stewards.md).
 */
function ownersOf(
  churn: Scenario["churn"],
  owners: "stable" | "churn" | undefined,
): Scenario["churn"] {
  const given = owners ?? churn.owners;
  return {
    ...churn,
    owners: given ?? (churn.permanentPerMonth > 0 ? "churn" : "stable"),
  };
}

/** The scenario's tesseras, scaled to `nodes` when it overrides the count. */
function tesserasFor(base: Scenario, nodes: number | undefined): number {
  if (nodes === undefined || nodes === base.nodes) return base.tesseras;
  return Math.max(1, Math.round(base.tesseras * nodes / base.nodes));
}

function validate(s: Scenario): void {
  const bad = (what: string) => {
    throw new Error(`invalid ${what}`);
  };
  if (!(Number.isInteger(s.nodes) && s.nodes >= 2)) {
    bad("nodes: need at least 2");
  }
  if (!(s.days > 0)) bad("days: need more than 0");
  if (!(Number.isInteger(s.tesseras) && s.tesseras >= 0)) bad("tesseras");
  if (!(s.scale > 0 && s.scale <= 1)) bad("scale: need 0 < scale <= 1");
  if (!(s.churn.permanentPerMonth >= 0)) bad("churn: need a rate >= 0");
}

/**
 * Run one simulation.
 *
 * @example
 * ```ts
 * const result = await runSimulation({ scenario: "quick", seed: 1 });
 * result.summary.lostForGood; // 0
 * result.ok; // every check passed
 * ```
 */
export async function runSimulation(
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const wallStart = performance.now();
  const scenario = resolveScenario(options);
  const level = { onProgress: options.onProgress, signal: options.signal };
  let result: SimulationResult;
  if (options.stack === "libp2p") {
    // Loaded on demand: the port level never pays for libp2p.
    const { runLibp2pSimulation } = await import("./libp2p.ts");
    result = await runLibp2pSimulation(scenario, level);
  } else result = await runPortSimulation(scenario, level);
  const wallSeconds = round3((performance.now() - wallStart) / 1000);
  return { ...result, summary: { ...result.summary, wallSeconds } };
}
