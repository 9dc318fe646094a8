/**
 * Owners killed: a small network whose three owners leave for good on the
 * first day, so every tessera is an orphan from then on, and holders keep
 * leaving at 1.5/month: only the holders' stewards repair what they take
 * (docs/stewards.md). Sized for the full-stack level (`--stack libp2p`):
 * 20 nodes for 4 virtual days, stewards after 12 h of owner silence and a
 * day's grace for a silent holder, so that they act within the run.
 * Promises zero lost tesseras.
 *
 * @module
 */
import type { Scenario, TraceEvent } from "../scenario.ts";

const HOUR = 3_600_000;
/** Nodes 0-2 own every tessera (`workload.ownerNodes`). */
const OWNERS = [0, 1, 2];
const trace: TraceEvent[] = OWNERS.map((node, k) => ({
  atHours: 12 + k,
  node,
  action: "depart",
}));

/** See the module doc. */
export const scenario: Scenario = {
  name: "owners-killed",
  description:
    "20 nodes for 4 days; the 3 owners of the 8 tesseras leave for good on day 1, holders leave at 1.5/month; stewards act after 12 h of owner silence. Made for --stack libp2p. Promises zero lost tesseras.",
  nodes: 20,
  days: 4,
  tesseras: 6,
  scale: 1 / 4096,
  seed: "owners-killed",
  churn: { permanentPerMonth: 1.5, owners: "churn" },
  workload: {
    ownerNodes: OWNERS,
    mix: { small: 0.7, medium: 0.3, large: 0 },
    // Placed before the owners leave (the port level honours the times).
    placementHours: 6,
  },
  trace,
  replication: { stewardAfterMs: 36 * HOUR, stewardGraceMs: 24 * HOUR },
  promises: { zeroLost: true },
};
