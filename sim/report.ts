/**
 * What a person reads after a run: `report.md` with tables and three SVG
 * charts (health over time, repair traffic, deficit distribution), plus
 * `summary.json`; and the short text the command line prints.
 *
 * @module
 */
import type { SimulationResult } from "./run.ts";
import type { HealStats, SimSummary } from "./summary.ts";
import { histogram, lineChart } from "./svg.ts";

/** The three charts as SVG documents, by file name. */
export function renderCharts(result: SimulationResult): Record<string, string> {
  const s = result.series;
  const tolerance = result.summary.deficitToleranceBytes;
  return {
    "health.svg": lineChart({
      title: "Tesseras by health over time",
      xLabel: "virtual day",
      yLabel: "tesseras",
      series: [
        {
          name: "healthy",
          color: "#2a9d3a",
          points: s.map((p) => [p.day, p.healthy]),
        },
        {
          name: "degraded",
          color: "#e0a000",
          points: s.map((p) => [p.day, p.degraded]),
        },
        {
          name: "unavailable",
          color: "#8a5cc0",
          points: s.map((p) => [p.day, p.unavailable]),
        },
        {
          name: "unrecoverable from holders",
          color: "#c00000",
          points: s.map((p) => [p.day, p.unrecoverable]),
        },
      ],
    }),
    "repair.svg": lineChart({
      title: "Repair traffic (cumulative) and stored bytes",
      xLabel: "virtual day",
      yLabel: "bytes (scaled)",
      series: [
        {
          name: "repair bytes",
          color: "#c05000",
          points: s.map((p) => [p.day, p.repairBytes]),
        },
        {
          name: "stored bytes",
          color: "#4a7bd0",
          points: s.map((p) => [p.day, p.storedBytes]),
        },
        {
          name: "of which surplus copies",
          color: "#7fa7e8",
          points: s.map((p) => [p.day, p.surplusBytes]),
        },
      ],
    }),
    "deficits.svg": histogram({
      title:
        "Peer deficits at the end (bytes stored for a peer minus bytes it stores for us)",
      xLabel: "deficit, bytes (scaled)",
      values: result.deficits,
      marker: { x: tolerance, label: "tolerance" },
    }),
  };
}

/**
 * The report as Markdown.
 *
 * @example
 * ```ts
 * import { runSimulation } from "./mod.ts";
 * const md = renderMarkdown(await runSimulation({ scenario: "quick" }));
 * ```
 */
export function renderMarkdown(result: SimulationResult): string {
  return [
    ...headerLines(result),
    ...outcomeLines(result),
    ...outageLines(result),
    ...chartAndLegendLines(),
  ].join("\n");
}

/** Title, the run's settings, and the checks. */
function headerLines(result: SimulationResult): string[] {
  const { summary: m, scenario: sc } = result;
  return [
    `# Simulation report: ${sc.name}`,
    "",
    sc.description,
    "",
    `Seed \`${m.seed}\`, stack \`${m.stack}\`, byte scale ${m.scale} (all byte figures are scaled), ` +
    `${m.nodes} nodes for ${m.virtualDays} virtual days, ${m.tesseras} tesseras, ` +
    `permanent churn ${(100 * sc.churn.permanentPerMonth).toFixed(1)}%/month` +
    (sc.churn.transient
      ? `, absences every ~${sc.churn.transient.meanUpHours} h for ~${sc.churn.transient.meanDownHours} h`
      : "") +
    `. Wall time ${m.wallSeconds} s.`,
    "",
    `**Result: ${result.ok ? "all checks passed" : "CHECKS FAILED"}.**`,
    "",
    "## Checks",
    "",
    "| check | result | detail |",
    "|---|---|---|",
    ...result.checks.map((c) =>
      `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${c.detail} |`
    ),
    "",
  ];
}

/** The outcome table: one row per figure of the summary (a flat table). */
function outcomeLines(result: SimulationResult): string[] {
  const m = result.summary;
  const pct = (x: number | null) =>
    x === null ? "n/a" : `${(100 * x).toFixed(1)}%`;
  return [
    "## Outcome",
    "",
    "| measure | value |",
    "|---|---|",
    `| tesseras healthy / degraded / unrecoverable from their holders (end) | ${m.healthy} / ${m.degraded} / ${m.unrecoverable} |`,
    `| tesseras lost for good (unrecoverable, owner gone: never come back) | ${m.lostForGood} |`,
    `| tesseras ever unrecoverable from their holders | ${m.unrecoverableEver} (free riders' ${m.freeRiderUnrecoverableEver}) |`,
    `| unreadable right now (too few shards online) | ${m.unavailable} |`,
    `| orphaned (owner left for good: its holders' stewards repair them) | ${m.orphaned} (owners ${m.owners}) |`,
    `| repairs that placed shards, by owners / by stewards | ${m.repairsByOwners} / ${m.repairsByStewards} (stewards placed ${m.stewardBytes} B) |`,
    `| extra copies of stewards acting at once / owner repeats after a steward | ${m.stewardExtraCopies} / ${m.ownerRepeats} |`,
    `| durability over orphans alone (95% confidence) | ${m.orphanDurabilityShownNines} nines/year (${m.lostForGood} lost over ${m.orphanYears} orphan-years) |`,
    `| durability this run shows (95% confidence) | ${durabilityText(m)} |`,
    `| durability the model predicts (independent failures, measured departure rate) | ${m.durabilityModelNines} nines/year |`,
    `| time to heal after a loss of shards | ${healText(m.healAfterLoss)} |`,
    `| tesseras one subnet outage could take (while the peers offered had subnets to spare) / surviving fewer peer losses than promised | ${m.subnetViolations} / ${m.peerLossViolations} |`,
    `| largest fair-peer deficit / tolerance | ${m.maxDeficitBytes} / ${m.deficitToleranceBytes} B |`,
    `| largest free-rider deficit | ${m.maxFreeRiderDeficitBytes} B |`,
    `| redundancy, free riders / fair owners, at the end | ${
      pct(m.freeRiderRedundancy)
    } / ${pct(m.fairRedundancy)} |`,
    `| redundancy, free riders / fair owners, over the run | ${
      pct(m.freeRiderRedundancyMean)
    } / ${pct(m.fairRedundancyMean)} |`,
    `| stored bytes (end) | ${m.storedBytes} (of which surplus copies ${m.surplusBytes}) |`,
    `| kept by stewards for the next rebuild, end / most | ${m.stewardKeptBytes} / ${m.stewardKeptBytesMax} B |`,
    `| placement bytes | ${m.placementBytes} |`,
    `| refused push bytes (sent, then refused) | ${m.refusedBytes} |`,
    `| repair bytes | ${m.repairBytes} (${m.repairRatio}× stored, ${m.repairRatioPerYear}× per year; fetched ${m.repairFetchBytes}, by stewards ${m.stewardRepairBytes}; probes apart, ${m.probeBytes}) |`,
    `| nodes at end / departures / arrivals / absences | ${m.nodesEnd} / ${m.departures} / ${m.arrivals} / ${m.absences} |`,
    `| repair sweeps | ${m.sweeps} |`,
    `| placement failures | ${m.placementFailures} |`,
    `| lookup recall (true 20 closest found) | ${pct(m.lookupRecall)} |`,
    `| messages | ${
      Object.entries(m.messages).map(([k, v]) => `${k} ${v}`).join(", ")
    } |`,
    `| clock events | ${m.events} |`,
    "",
  ];
}

/** The outages table, when the run had outages. */
function outageLines(result: SimulationResult): string[] {
  if (result.outages.length === 0) return [];
  return [
    "## Outages",
    "",
    "| day | what | tesseras hit (owner alive) | of which broken | orphaned (owner gone) | time to heal |",
    "|---|---|---|---|---|---|",
    ...result.outages.map((o) =>
      `| ${o.day} | ${o.label} | ${o.tesseras} | ${o.broken} | ${o.orphaned} | ${
        o.healHours === null ? "never" : `${o.healHours} h`
      } |`
    ),
    "",
  ];
}

/** The charts and how to read the figures. */
function chartAndLegendLines(): string[] {
  return [
    "## Charts",
    "",
    "![health over time](health.svg)",
    "",
    "![repair traffic](repair.svg)",
    "",
    "![deficit distribution](deficits.svg)",
    "",
    "## How to read this",
    "",
    "- *healthy*: every target placement (7 copies for Small, every shard for Medium/Large) exists on a node that has",
    "  not left (away nodes count: their disks keep the bytes); *degraded*: short of that but rebuildable from what",
    "  exists; *unrecoverable from their holders*: fewer than `dataShards` distinct shards exist anywhere but the",
    "  owner's own disk (the owner, while around, re-seeds it from its copy, so this count falls as well as rises);",
    "  *lost for good*: unrecoverable and its owner gone too: nobody has the bytes, it never comes back;",
    "  *unavailable* (apart): rebuildable, but too few shards online to read it right now.",
    "- Durability this run shows: with its losses (tesseras ever unrecoverable from their holders) over its",
    "  tessera-years, the 95% upper bound on the loss rate (Poisson; 3 per tessera-year count with no loss) gives",
    "  at least this many nines. A measurement, so a short run shows little however well it went. The model's",
    "  figure is a prediction from the measured departure rate and the repair window under independent failures.",
    "- Outages: a tessera is *hit* when it had a placement on a node the outage took, *broken* when the outage made",
    "  it unhealthy or unreadable; time to heal runs until every hit tessera (owner alive) is healthy, readable and",
    "  held in full apart from the nodes still dark (they came back, or repair placed the shards again elsewhere).",
    "  After a loss of shards (any cause): from a tessera falling short of its placements until it is healthy again.",
    "- Stored bytes include *surplus copies*: repair places a shard again when its holder stays away past the",
    "  grace period, and nothing removes the returning holder's copy, so after an outage stored bytes rise and stay.",
    "- Ground truth comes from the simulator's census of every node's store, not from the code under test.",
    "- Repair bytes are fragment bytes accepted by new holders outside first placement plus bytes fetched to rebuild;",
    "  pushes the receiver refused are counted apart (refused push bytes).",
    "- Redundancy is the mean fraction of the target placements that exist (1 = fully replicated); over the run, its mean over the daily samples (what the free-riders check compares).",
    "- The subnet check audits every owner's holder records every few days and at the end: no fully placed tessera",
    "  may sit so that one /24 outage takes it (a /24 holding more of it than it can lose) while the network had",
    "  /24s enough to spread it (shards / parity of them; Small: two); placements also count when they survive",
    "  fewer peer losses than promised (2 unless the scenario says).",
    "",
  ];
}

/**
 * Write `report.md`, the three charts and `summary.json` into `dir`
 * (created if needed).
 *
 * @example
 * ```ts
 * import type { SimulationResult } from "./mod.ts";
 * declare const result: SimulationResult;
 * await writeReport(result, "out/sim");
 * ```
 */
export async function writeReport(
  result: SimulationResult,
  dir: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/report.md`, renderMarkdown(result));
  for (const [name, svg] of Object.entries(renderCharts(result))) {
    await Deno.writeTextFile(`${dir}/${name}`, svg);
  }
  await Deno.writeTextFile(
    `${dir}/summary.json`,
    JSON.stringify({ ...result.summary, checks: result.checks }, null, 2) +
      "\n",
  );
}

/** The short text the command line prints without `--json`. */
export function renderText(result: SimulationResult): string {
  const m = result.summary;
  const out = [
    `scenario ${m.scenario} (seed ${m.seed}): ${m.nodes} nodes, ${m.virtualDays} days, ${m.tesseras} tesseras, scale ${m.scale}`,
    `  healthy ${m.healthy}, degraded ${m.degraded}, unrecoverable from holders ${m.unrecoverable} (ever ${m.unrecoverableEver}), lost for good ${m.lostForGood}`,
    `  durability shown ${
      durabilityText(m)
    }; the model predicts ${m.durabilityModelNines} nines/year`,
    `  repair ${m.repairBytes} B = ${m.repairRatio}x stored ${m.storedBytes} B; max fair deficit ${m.maxDeficitBytes}/${m.deficitToleranceBytes} B; subnet-unsafe ${m.subnetViolations}, peer-loss-unsafe ${m.peerLossViolations}`,
    `  heal after a loss of shards: ${healText(m.healAfterLoss)}`,
    `  owners ${m.owners}: ${m.orphaned} orphaned, repairs by owners ${m.repairsByOwners} / stewards ${m.repairsByStewards}, steward extra copies ${m.stewardExtraCopies}, owner repeats ${m.ownerRepeats}, orphans ${m.orphanDurabilityShownNines} nines over ${m.orphanYears} orphan-years; repair ${m.repairRatioPerYear}x stored per year (fetched ${m.repairFetchBytes} B, by stewards ${m.stewardRepairBytes} B), stewards keep ${m.stewardKeptBytes} B (most ${m.stewardKeptBytesMax} B)`,
    `  ${m.wallSeconds} s wall, ${
      Math.round(m.nodes * m.virtualDays / Math.max(m.wallSeconds, 1e-3))
    } node-days/s`,
    ...result.checks.map((c) =>
      `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`
    ),
  ];
  return out.join("\n") + "\n";
}

/** What the run shows about durability, as one phrase. */
function durabilityText(m: SimSummary): string {
  if (m.durabilityShownNines <= 0) {
    return `none: too short (${m.tesseraYears} tessera-years; it takes more than 3 without a loss to show any)`;
  }
  return `>= ${m.durabilityShownNines} nines/year at 95% (${m.unrecoverableEver} losses over ${m.tesseraYears} tessera-years)`;
}

/** Heal times as one phrase, for the report and the text summary. */
function healText(heal: HealStats): string {
  const hours = (h: number | null) => h === null ? "n/a" : `${h} h`;
  return `median ${hours(heal.medianHours)}, p95 ${hours(heal.p95Hours)}, max ${
    hours(heal.maxHours)
  } (${heal.healed} healed, ${heal.open} still short at the end)`;
}
