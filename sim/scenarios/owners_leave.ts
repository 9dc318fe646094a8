/**
 * Owners leave too: the default scenario's network for five years, with
 * owners leaving for good at the same 10 %/month as everyone else, so
 * every tessera is orphaned sooner or later and only its holders'
 * stewards keep it alive (docs/stewards.md). Promise: zero lost.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "owners-leave",
  description:
    "300 home nodes for 1,825 days (5 years), 10%/month permanent churn for everyone, owners included, plus weekly absences of ~8 h; 600 tesseras; orphans are kept by stewards. Promises zero lost tesseras.",
  nodes: 300,
  days: 1825,
  tesseras: 600,
  scale: 1 / 4096,
  seed: "tesseras",
  churn: {
    permanentPerMonth: 0.1,
    transient: { meanUpHours: 7 * 24, meanDownHours: 8 },
    owners: "churn",
  },
  unreachableGraceHours: 48,
  promises: { zeroLost: true },
};
