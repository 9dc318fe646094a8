/**
 * Correlated failures: on day 20 the two most populated /16s go dark for
 * three days; on day 45 the most populated /24 burns down (its nodes and
 * their data are gone). The subnet cap is what keeps every tessera
 * recoverable. Promises zero lost tesseras and healing within 3 days of
 * each outage (one repair interval plus jitter, plus the grace period) for
 * every tessera whose owner survived it; the report counts the ones whose
 * owner burnt with the subnet as orphaned (repair is the owner's job).
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "correlated-outage",
  description:
    "Two /16s dark for 3 days (day 20), the busiest /24 lost for good (day 45); promises zero lost and healing within 3 days.",
  nodes: 400,
  days: 60,
  tesseras: 500,
  scale: 1 / 1024,
  seed: "outage",
  churn: { permanentPerMonth: 0.05 },
  topology: { nodesPer24: 2, slash24PerSlash16: 8 },
  outages: [
    { atDay: 20, scope: "/16", subnets: 2, durationHours: 72 },
    { atDay: 45, scope: "/24", subnets: 1 },
  ],
  unreachableGraceHours: 24,
  promises: { zeroLost: true, healWithinHours: 72 },
};
