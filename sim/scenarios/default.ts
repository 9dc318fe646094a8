/**
 * The default scenario: a few hundred home nodes for half a year under
 * steady churn (10% leave for good each month, everyone is offline now
 * and then) with a mix of Small, Medium and Large tesseras. Sized to run
 * in about a minute; `--days 365` gives the full year. Promises: no tessera is
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
    "300 home nodes for 180 days, 10%/month permanent churn plus weekly absences of ~8 h; Small/Medium/Large mix. Promises zero lost tesseras.",
  nodes: 300,
  days: 180,
  tesseras: 300,
  scale: 1 / 4096,
  seed: "tesseras",
  churn: {
    permanentPerMonth: 0.1,
    transient: { meanUpHours: 7 * 24, meanDownHours: 8 },
  },
  unreachableGraceHours: 48,
  promises: { zeroLost: true },
};
