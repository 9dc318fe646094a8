/**
 * The simulator: thousands of nodes in one process over an in-memory
 * Kademlia network, on a virtual clock, each running the real
 * `lib/replication` service and repair loop over `lib/memory` stores.
 * Churn, correlated outages and free riders come from scenarios; a census
 * of every store is the ground truth the checks use.
 *
 * @example
 * ```ts
 * import { runSimulation, writeReport } from "./mod.ts";
 * const result = await runSimulation({ scenario: "quick", seed: 7 });
 * console.log(result.summary.lostForGood, result.ok);
 * await writeReport(result, "out/sim");
 * ```
 *
 * @module
 */
export {
  type OutageRecord,
  resolveScenario,
  runSimulation,
  scaledConfig,
  scaledThresholds,
  type SimProgress,
  type SimulationOptions,
  type SimulationResult,
} from "./run.ts";
export {
  parseSimArgs,
  SIM_OPTIONS,
  simCommand,
  type SimCommandIo,
  type SimCommandOptions,
  toSimulationOptions,
  UsageError,
} from "./cli.ts";
export {
  renderCharts,
  renderMarkdown,
  renderText,
  writeReport,
} from "./report.ts";
export {
  durabilityShown,
  evaluateChecks,
  type Sample,
  type SimCheck,
  type SimSummary,
} from "./summary.ts";
export type * from "./scenario.ts";
export { SCENARIOS } from "./scenarios/mod.ts";
export { settle, VirtualClock } from "./clock.ts";
export { SimRng } from "./rng.ts";
export { SimNetwork, type SimNetworkOptions } from "./network.ts";
export { Kademlia } from "./kademlia.ts";
export { ShardCensus } from "./census.ts";
export { SimKeyring } from "./identity.ts";
