/**
 * A tiny scenario for tests and CI smoke runs: 60 nodes, 30 days, heavy
 * churn so repair has work to do. Promises zero lost tesseras.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "quick",
  description:
    "60 nodes for 30 days at 30%/month churn with short absences; promises zero lost tesseras.",
  nodes: 60,
  days: 30,
  tesseras: 40,
  scale: 1 / 4096,
  seed: "quick",
  churn: {
    permanentPerMonth: 0.3,
    transient: { meanUpHours: 5 * 24, meanDownHours: 6 },
  },
  unreachableGraceHours: 24,
  promises: { zeroLost: true },
};
