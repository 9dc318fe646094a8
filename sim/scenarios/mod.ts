/**
 * The built-in scenarios, by name.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";
import { scenario as correlatedOutage } from "./correlated_outage.ts";
import { scenario as defaultScenario } from "./default.ts";
import { scenario as fewSubnets } from "./few_subnets.ts";
import { scenario as freeRiders } from "./free_riders.ts";
import { scenario as freeRidersDrop } from "./free_riders_drop.ts";
import { scenario as ownersKilled } from "./owners_killed.ts";
import { scenario as ownersLeave } from "./owners_leave.ts";
import { scenario as quick } from "./quick.ts";
import { scenario as trace } from "./trace.ts";

/** Every built-in scenario, keyed by name. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = Object.freeze({
  [defaultScenario.name]: defaultScenario,
  [quick.name]: quick,
  [correlatedOutage.name]: correlatedOutage,
  [freeRiders.name]: freeRiders,
  [freeRidersDrop.name]: freeRidersDrop,
  [fewSubnets.name]: fewSubnets,
  [trace.name]: trace,
  [ownersLeave.name]: ownersLeave,
  [ownersKilled.name]: ownersKilled,
});
