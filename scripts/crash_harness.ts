/**
 * `deno task crash [--iterations N] [--seed S] [--holders H] [--senders P]
 * [--keep] [--json]`: kill -9 a real daemon at random moments while it
 * receives fragments, puts a tessera and repairs one; after each kill run
 * `tesseras verify` and the harness's own checks, restart and go on.
 * Prints a summary; exits 1 on any inconsistency.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type HarnessSummary,
  runCrashHarness,
  type ScenarioCounts,
} from "../tests/system/crash/harness.ts";

function usage(): never {
  console.error(
    "usage: deno task crash [--iterations N] [--seed S] [--holders H] [--senders P] [--ip-base N] [--keep] [--json]",
  );
  Deno.exit(2);
}

function int(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${value}`);
    usage();
  }
  return n;
}

/** The summary as lines a person reads. */
export function formatSummary(s: HarnessSummary): string {
  const sc = s.byScenario;
  const phases = (c: ScenarioCounts) =>
    `${c.kills} (before first push ${c.beforePush}, during pushes ${c.duringPush}, after finish ${c.afterFinish})`;
  const lines = [
    `crash harness, seed ${s.seed}`,
    `kills survived: ${s.kills} of ${s.iterations}; restarts ${s.restarts}; holder kills ${s.bystanderKills}`,
    `  receiving: ${phases(sc.receive)}`,
    `  putting:   ${phases(sc.put)}`,
    `  repairing: ${phases(sc.repair)}`,
    `pushes to the receiver: ${s.pushes.sent} sent, ${s.pushes.accepted} accepted, ${s.pushes.cut} cut by a kill, ${s.pushes.rePushed} pushed again, refused ${
      JSON.stringify(s.pushes.refused)
    }`,
    `crash residue (never listed): ${s.residue.strayTemp} temp files, ${s.residue.orphanFiles} shard files without a row; removed by the restart ${s.residue.cleanedAtRestart}, still there after it ${s.residue.survivingRestart}; verify exit 1 for residue only: ${s.residue.verifyExit1ResidueOnly}`,
  ];
  for (const [name, st] of Object.entries(s.finalStores)) {
    lines.push(
      `${name} at the end: ${st.fragments} fragments, ${st.bytes} bytes, ${st.blobs} blobs`,
    );
  }
  for (const c of s.crossLedger) {
    lines.push(
      `  ${c.holder}: owner's ledger credits ${c.ownerCredits}, owner's registry ${c.ownerRegistry}, holder's ledger ${c.holderLedger}, holder holds ${c.holderHeld}`,
    );
  }
  lines.push(
    `time: ${(s.timing.total / 1000).toFixed(1)} s total, ${
      Math.round(s.timing.meanIteration)
    } ms per kill, restart ${Math.round(s.timing.meanRestart)} ms, verify ${
      Math.round(s.timing.meanVerify)
    } ms`,
    `inconsistencies found: ${s.findings.length} (seen again after later kills: ${s.repeatedFindings})`,
  );
  for (const f of s.findings) {
    lines.push(
      `  #${f.iteration} ${f.scenario} ${f.daemon} ${f.kind} ${f.subject}: ${f.detail}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        iterations: { type: "string" },
        seed: { type: "string" },
        holders: { type: "string" },
        senders: { type: "string" },
        "ip-base": { type: "string" },
        keep: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    console.error(String(e));
    usage();
  }
  if (values.help) usage();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let summary: HarnessSummary;
  try {
    summary = await runCrashHarness({
      iterations: int("iterations", values.iterations, 105),
      seed: int("seed", values.seed, Date.now() % 100_000),
      holders: int("holders", values.holders, 4),
      senders: int("senders", values.senders, 3),
      ipBase: int("ip-base", values["ip-base"], 200),
      keep: values.keep ?? false,
      signal: stop.signal,
      log: (line) => console.error(line),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  Deno.exit(summary.findings.length > 0 || stop.signal.aborted ? 1 : 0);
}
