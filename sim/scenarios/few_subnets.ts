/**
 * Few subnets: 60% of the nodes sit in just eight /24s (a campus, a data
 * centre). However crowded the candidate list is, no tessera may sit so
 * that one /24 outage takes it while other subnets have room, and every
 * fully placed tessera survives two peer losses. Promises those (the
 * first is always checked) and zero lost.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "few-subnets",
  description:
    "60% of 300 nodes in eight /24s; promises no tessera one /24 outage could take, two peer losses survived, zero lost.",
  nodes: 300,
  days: 60,
  tesseras: 300,
  scale: 1 / 1024,
  seed: "few-subnets",
  churn: { permanentPerMonth: 0.1 },
  topology: { hotspots: { subnets: 8, fraction: 0.6 } },
  promises: { zeroLost: true, peerLosses: 2 },
};
