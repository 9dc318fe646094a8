/**
 * Free riders that lie: 10% of the nodes accept every fragment and keep
 * nothing, and own 30% of the tesseras. An owner challenges every peer
 * that acknowledged its shards right after the push (and at every sweep):
 * a liar loses the credit of what it acknowledged, is not used again for
 * a long time and is extended no credit by that owner. Nodes that own
 * nothing never place, so before the probe they could not tell, and the
 * liars' tesseras lived on their credit (ending better than fair owners'
 * over the run, 0.995 against 0.991); now any peer asked for free credit
 * probes the stranger first (lib/replication/probe.ts) and a liar drops
 * the probe too. Same promises as `free-riders`.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";
import { scenario as base } from "./free_riders.ts";

/** See the module doc. */
export const scenario: Scenario = {
  ...base,
  name: "free-riders-drop",
  description:
    "10% free riders that accept fragments and drop them, owning 30% of the tesseras; promises they end with less redundancy than fair owners, and no fair owner's tessera lost.",
  seed: "free-riders-drop",
  freeRiders: { fraction: 0.1, mode: "drop" },
};
