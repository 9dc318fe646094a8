/**
 * Free riders: 10% of the nodes accept fragments and keep nothing, and own
 * 30% of the tesseras. Attestation exposes them, repair debits them in
 * the ledger, and peers then refuse their pushes once their deficit
 * passes the (here small) tolerance. Promises: free riders' tesseras end
 * with less redundancy than fair owners', fair owners lose nothing.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "free-riders",
  description:
    "10% free riders that drop what they store and own 30% of the tesseras; promises they end with less redundancy than fair owners, and zero lost.",
  nodes: 200,
  days: 90,
  tesseras: 400,
  scale: 1 / 1024,
  seed: "free-riders",
  churn: { permanentPerMonth: 0.05 },
  freeRiders: { fraction: 0.1, mode: "drop" },
  workload: {
    freeRiderShare: 0.3,
    mix: { small: 0.2, medium: 0.6, large: 0.2 },
  },
  replication: { deficitToleranceBytes: 64 * 1024 * 1024 },
  promises: { zeroLost: true, freeRidersLoseFirst: true },
};
