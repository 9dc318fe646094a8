/**
 * Free riders that lie: 10% of the nodes accept every fragment and keep
 * nothing, and own 30% of the tesseras. Attestation exposes them at the
 * next sweep and repair debits them in the ledger; the scenario checks
 * whether that is enough for peers to refuse them before fair owners
 * suffer. Same promises as `free-riders`.
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
