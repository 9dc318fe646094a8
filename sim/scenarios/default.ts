/**
 * The default scenario: a few hundred home nodes for a year under steady
 * churn (10% leave for good each month, everyone is offline now and then)
 * with a mix of Small, Medium and Large tesseras. Promises: no tessera is
 * ever lost, no placement breaks the subnet cap, deficits stay within the
 * tolerance.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "default",
  description:
    "300 home nodes for a year, 10%/month permanent churn plus daily absences; Small/Medium/Large mix. Promises zero lost tesseras.",
  nodes: 300,
  days: 365,
  tesseras: 600,
  scale: 1 / 1024,
  seed: "tesseras",
  churn: {
    permanentPerMonth: 0.1,
    transient: { meanUpHours: 7 * 24, meanDownHours: 8 },
  },
  unreachableGraceHours: 48,
  promises: { zeroLost: true },
};
