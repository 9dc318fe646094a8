/**
 * Free riders: 10% of the nodes store nothing for anyone (they refuse
 * every fragment) and own 30% of the tesseras. A peer asked to take a
 * stranger's shard on its free credit (the tolerance, here 32 MiB)
 * probes the stranger first (lib/replication/probe.ts): a free rider
 * refuses the probe too, and gets no free credit while that refusal's
 * back-off stands, so its tesseras find no holders among strangers.
 * Promises: free riders end with less redundancy than fair owners, and
 * no fair owner's tessera is ever lost. (`free-riders-drop` has free
 * riders that lie.)
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";

/** See the module doc. */
export const scenario: Scenario = {
  name: "free-riders",
  description:
    "10% free riders that refuse to store anything and own 30% of the tesseras; promises they end with less redundancy than fair owners, and no fair owner's tessera lost.",
  nodes: 150,
  days: 60,
  tesseras: 300,
  scale: 1 / 1024,
  seed: "free-riders",
  churn: { permanentPerMonth: 0.1 },
  freeRiders: { fraction: 0.1, mode: "refuse" },
  workload: {
    freeRiderShare: 0.3,
    mix: { small: 0.2, medium: 0.6, large: 0.2 },
  },
  replication: { deficitToleranceBytes: 32 * 1024 * 1024 },
  promises: { zeroLostFair: true, freeRidersLoseFirst: true },
};
