/**
 * The audit schedule before and after (issue 13): every built-in scenario
 * run twice in this process, with `auditMaxGapIntervals: 1` (every holder
 * challenged at every sweep, the schedule before) and with the default
 * (lib/replication/audit_schedule.ts). Prints per run the tesseras lost,
 * the attestations sent, the wall time, and the time to detect a lost or
 * lying holder: the simulator's heal time after a loss of shards (from a
 * holder leaving or dropping its shards, by the census's ground truth, to
 * the tessera fully placed again; a sweep repairs what its check finds,
 * so this is the detection delay plus the repair, in whole sweeps).
 *
 * Usage: `deno run -A scripts/audit_schedule.ts [--only NAME]
 * [--days D]`. Prints one line per run and a JSON summary at the end.
 *
 * @module
 */
import { SCENARIOS } from "../sim/scenarios/mod.ts";
import { runSimulation } from "../sim/run.ts";
import { DEFAULT_REPLICATION_CONFIG } from "../lib/core/mod.ts";

const args = Deno.args;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = flag("only");
const days = flag("days") ? Number(flag("days")) : undefined;

const schedules = [
  { name: "before (every sweep)", gap: 1 },
  {
    name:
      `after (gap up to ${DEFAULT_REPLICATION_CONFIG.auditMaxGapIntervals})`,
    gap: DEFAULT_REPLICATION_CONFIG.auditMaxGapIntervals,
  },
];
const out: Record<string, unknown>[] = [];
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  if (only !== undefined && only !== name) continue;
  for (const s of schedules) {
    const t0 = performance.now();
    const r = await runSimulation({
      scenario: {
        ...scenario,
        ...(days !== undefined ? { days } : {}),
        replication: { ...scenario.replication, auditMaxGapIntervals: s.gap },
      },
    });
    const m = r.summary;
    const heal = m.healAfterLoss;
    const row = {
      scenario: name,
      schedule: s.name,
      lost: m.unrecoverable,
      checksPass: r.ok,
      attestations: m.messages.attest,
      healMedianHours: heal.medianHours,
      healP95Hours: heal.p95Hours,
      healMaxHours: heal.maxHours,
      healed: heal.healed,
      open: heal.open,
      wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    };
    out.push(row);
    console.log(
      `${name.padEnd(18)} ${s.name.padEnd(22)} lost ${row.lost}, checks ${
        r.ok ? "pass" : "FAIL"
      }, ${row.attestations} attestations, detect+heal median ${row.healMedianHours} h, p95 ${row.healP95Hours} h, max ${row.healMaxHours} h (${row.healed} healed, ${row.open} open), ${row.wallSeconds} s`,
    );
  }
}
console.log(JSON.stringify(out));
