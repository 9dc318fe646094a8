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
 * Then the time to detect itself, measured on the real service over the
 * simulator's network (tests/replication/test_network.ts): a tessera on
 * 30 peers, daily sweeps for three to five weeks so its holders earn a
 * record, then at a random moment one holder drops its shards but keeps
 * answering (lying) or leaves for good (lost); the hours until the first
 * sweep that finds it, over `--trials` trials (default 30) per case.
 *
 * Usage: `deno run -A scripts/audit_schedule.ts [--only NAME]
 * [--days D] [--trials N] [--detect-only]`. Prints one line per run and a
 * JSON summary at the end.
 *
 * @module
 */
import { SCENARIOS } from "../sim/scenarios/mod.ts";
import { runSimulation } from "../sim/run.ts";
import { DEFAULT_REPLICATION_CONFIG } from "../lib/core/mod.ts";
import { MiniNetwork, testBytes } from "../tests/replication/test_network.ts";

const args = Deno.args;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = flag("only");
const days = flag("days") ? Number(flag("days")) : undefined;
const trials = Number(flag("trials") ?? 30);
const detectOnly = args.includes("--detect-only");
const HOUR = 3_600_000, DAY = 24 * HOUR;

const schedules = [
  { name: "before (every sweep)", gap: 1 },
  {
    name:
      `after (gap up to ${DEFAULT_REPLICATION_CONFIG.auditMaxGapIntervals})`,
    gap: DEFAULT_REPLICATION_CONFIG.auditMaxGapIntervals,
  },
];
const out: Record<string, unknown>[] = [];
for (const [name, scenario] of detectOnly ? [] : Object.entries(SCENARIOS)) {
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
/** Hours from the holder's fault to the sweep that finds it. */
async function detectOnce(
  gap: number,
  fault: "lying" | "lost",
  trial: number,
): Promise<number> {
  const net = new MiniNetwork({
    repairIntervalMs: DAY,
    repairJitterMs: 0,
    auditMaxGapIntervals: gap,
  });
  const owner = net.add("owner", "10.99.0.1");
  net.addMany(30);
  const report = await owner.service.putTessera(testBytes(4000, trial + 1));
  const holders = [...new Set(report.placed.map((p) => p.peerId))];
  for (let d = 0; d < 21 + (trial % 15); d++) {
    await net.clock.advance(DAY);
    await owner.service.repairSweep();
  }
  const victim = net.node(holders[trial % holders.length]);
  const offset = Math.floor(((trial * 7919) % 24) * HOUR);
  await net.clock.advance(offset);
  const at = net.clock.now();
  if (fault === "lying") await victim.fragments.delete(report.tesseraId);
  else victim.online = false;
  await net.clock.advance(DAY - offset);
  for (let d = 0; d < 60; d++) {
    const sweep = await owner.service.repairSweep();
    const t = sweep.tesseras[0];
    if (t && t.removed.some((r) => r.peerId === victim.id)) {
      return (net.clock.now() - at) / HOUR;
    }
    if (t && t.lostIndices.length > 0) return (net.clock.now() - at) / HOUR;
    await net.clock.advance(DAY);
  }
  return Infinity;
}

const pct = (xs: number[], q: number) =>
  xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
for (const s of only !== undefined && !detectOnly ? [] : schedules) {
  for (const fault of ["lying", "lost"] as const) {
    const hours: number[] = [];
    for (let t = 0; t < trials; t++) {
      hours.push(await detectOnce(s.gap, fault, t));
    }
    hours.sort((a, b) => a - b);
    const row = {
      detect: fault,
      schedule: s.name,
      trials,
      medianHours: +pct(hours, 0.5).toFixed(1),
      meanHours: +(hours.reduce((a, b) => a + b, 0) / hours.length).toFixed(1),
      p95Hours: +pct(hours, 0.95).toFixed(1),
      maxHours: +hours[hours.length - 1].toFixed(1),
    };
    out.push(row);
    console.log(
      `detect a ${fault.padEnd(5)} holder  ${
        s.name.padEnd(22)
      } median ${row.medianHours} h, mean ${row.meanHours} h, p95 ${row.p95Hours} h, max ${row.maxHours} h (${trials} trials)`,
    );
  }
}
console.log(JSON.stringify(out));
