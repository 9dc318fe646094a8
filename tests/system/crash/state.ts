/**
 * Types and mutable state of a crash run, shared by the harness loop and
 * the scenarios.
 *
 * @module
 */
import type { FragmentEnvelope, Rng } from "../../../lib/core/mod.ts";
import type { Finding } from "./checks.ts";
import type { ManagedDaemon } from "./cluster.ts";
import type { FragmentSender } from "./sender.ts";

/** What the victim is doing when it is killed. */
export type Scenario = "receive" | "put" | "repair";

/** One problem, with where it was found. */
export interface HarnessFinding extends Finding {
  /** Iteration (0 = set-up, -1 = final check). */
  readonly iteration: number;
  /** Which daemon's directory. */
  readonly daemon: string;
  /** What the victim was doing. */
  readonly scenario: Scenario | "setup" | "final";
}

/** Per-scenario counts. */
export interface ScenarioCounts {
  /** Kills in this scenario. */
  kills: number;
  /** Kills before the first fragment push of the operation. */
  beforePush: number;
  /** Kills while pushes were under way (or, receiving, in flight). */
  duringPush: number;
  /** Kills after the operation had finished. */
  afterFinish: number;
}

/** The figures of a run. */
export interface HarnessSummary {
  /** Seed used. */
  readonly seed: number;
  /** Iterations asked for. */
  readonly iterations: number;
  /** `kill -9` of a victim, each followed by checks and a restart. */
  kills: number;
  /** Kills of holder daemons (repair scenario: a holder goes away). */
  bystanderKills: number;
  /** Restarts of a victim that came up healthy. */
  restarts: number;
  /** Per scenario. */
  readonly byScenario: Record<Scenario, ScenarioCounts>;
  /** Fragments pushed to the receiving victim by in-process senders. */
  readonly pushes: {
    sent: number;
    accepted: number;
    refused: Record<string, number>;
    cut: number;
    rePushed: number;
  };
  /** Puts and repairs whose result came back before the kill. */
  readonly operations: { putsFinished: number; repairsFinished: number };
  /** Crash residue left by kills (never listed; removed at start). */
  readonly residue: {
    /** Temp files found after a kill (new ones). */
    strayTemp: number;
    /** Shard files without a row found after a kill (new ones). */
    orphanFiles: number;
    /** Residue files seen after a kill and gone once the daemon restarted. */
    cleanedAtRestart: number;
    /** Residue files still there after the restart (each a finding). */
    survivingRestart: number;
    /** Kills after which `tesseras verify` exited 1 because of residue only. */
    verifyExit1ResidueOnly: number;
  };
  /** Every inconsistency found, once (the run fails when non-empty). */
  readonly findings: HarnessFinding[];
  /** Sightings of an already reported inconsistency after later kills. */
  repeatedFindings: number;
  /** The victims' stores at the end. */
  readonly finalStores: Record<
    string,
    { fragments: number; bytes: number; blobs: number }
  >;
  /**
   * Bilateral view at the end, per holder: what the owner's ledger
   * credits it with, what the owner's holder registry places on it, what
   * the holder's ledger says it stores for the owner, and what it holds.
   */
  readonly crossLedger: {
    holder: string;
    ownerCredits: number;
    ownerRegistry: number;
    holderLedger: number;
    holderHeld: number;
  }[];
  /** Timing, ms. */
  readonly timing: {
    total: number;
    meanIteration: number;
    meanRestart: number;
    meanVerify: number;
  };
}

/** Mutable state of a run. */
export interface Run {
  readonly rng: Rng;
  readonly log: (line: string) => void;
  readonly root: string;
  /** The victim of the receive scenario. */
  readonly receiver: ManagedDaemon;
  /** The victim of the put and repair scenarios. */
  readonly owner: ManagedDaemon;
  readonly holders: ManagedDaemon[];
  readonly senders: FragmentSender[];
  /** tessera id → peer id of the sender that pushed it. */
  readonly senderOf: Map<string, string>;
  /** Envelopes whose push was cut by a kill, per sender: pushed again. */
  readonly unsure: Map<string, FragmentEnvelope[]>;
  readonly summary: HarnessSummary;
  /** `daemon|key` of every finding reported so far. */
  readonly seenFindings: Set<string>;
  /** Residue seen after the latest kill, per daemon. */
  readonly residueBefore: Map<string, Set<string>>;
  /** Typical time from the start of a put / repair to its first push, ms. */
  readonly firstPushMs: Record<"put" | "repair", number>;
  readonly restartMs: number[];
  readonly verifyMs: number[];
  nextHolder: number;
}
