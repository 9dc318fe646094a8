/**
 * Few subnets: 60% of the nodes sit in just eight /24s (a campus, a data
 * centre). The cap of two peers per /24 must hold however crowded the
 * candidate list is; tesseras still spread over the remaining subnets.
 * Promises zero placement violations (always checked) and zero lost.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "few-subnets",
  description:
    "60% of 300 nodes in eight /24s; promises zero subnet-cap violations and zero lost.",
  nodes: 300,
  days: 60,
  tesseras: 300,
  scale: 1 / 1024,
  seed: "few-subnets",
  churn: { permanentPerMonth: 0.1 },
  topology: { hotspots: { subnets: 8, fraction: 0.6 } },
  promises: { zeroLost: true },
};
