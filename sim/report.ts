/**
 * What a person reads after a run: `report.md` with tables and three SVG
 * charts (health over time, repair traffic, deficit distribution), plus
 * `summary.json`; and the short text the command line prints.
 *
 * @module
 */
import type { SimulationResult } from "./run.ts";
import type { HealStats } from "./summary.ts";
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
          name: "lost",
          color: "#c00000",
          points: s.map((p) => [p.day, p.lost]),
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
    `| tesseras healthy / degraded / lost (end) | ${m.healthy} / ${m.degraded} / ${m.lost} |`,
    `| tesseras ever unrecoverable from the network | ${m.lostEver} (free riders' ${m.freeRiderLostEver}) |`,
    `| unreadable right now (too few shards online) | ${m.unavailable} |`,
    `| orphaned (owner left for good: nobody repairs them) | ${m.orphaned} |`,
    `| durability | ${
      m.durabilityBasis === "lower95" ? "≥ " : ""
    }${m.durabilityNines} nines/year (${
      m.durabilityBasis === "lower95"
        ? "95% lower bound, no loss seen"
        : "point estimate"
    }) |`,
    `| durability, model (independent failures, measured departure rate) | ${m.durabilityModelNines} nines/year |`,
    `| time to heal after a loss of shards | ${healText(m.healAfterLoss)} |`,
    `| subnet-cap violations | ${m.subnetViolations} |`,
    `| largest fair-peer deficit / tolerance | ${m.maxDeficitBytes} / ${m.deficitToleranceBytes} B |`,
    `| largest free-rider deficit | ${m.maxFreeRiderDeficitBytes} B |`,
    `| redundancy, free riders / fair owners, at the end | ${
      pct(m.freeRiderRedundancy)
    } / ${pct(m.fairRedundancy)} |`,
    `| redundancy, free riders / fair owners, over the run | ${
      pct(m.freeRiderRedundancyMean)
    } / ${pct(m.fairRedundancyMean)} |`,
    `| stored bytes (end) | ${m.storedBytes} |`,
    `| placement bytes | ${m.placementBytes} |`,
    `| refused push bytes (sent, then refused) | ${m.refusedBytes} |`,
    `| repair bytes | ${m.repairBytes} (${m.repairRatio}× stored) |`,
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
    "| day | what | tesseras hit (owner alive) | orphaned (owner gone) | time to heal |",
    "|---|---|---|---|---|",
    ...result.outages.map((o) =>
      `| ${o.day} | ${o.label} | ${o.tesseras} | ${o.orphaned} | ${
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
    "  exists; *lost*: fewer than `dataShards` distinct shards exist anywhere but the owner's own disk;",
    "  *unavailable* (apart): not lost, but too few shards online to read it right now.",
    "- Time to heal: from an outage until every tessera it made unhealthy or unreadable is healthy and readable again;",
    "  after a loss of shards (any cause), from a tessera falling short of its placements until it is healthy again.",
    "- Ground truth comes from the simulator's census of every node's store, not from the code under test.",
    "- Repair bytes are fragment bytes accepted by new holders outside first placement plus bytes fetched to rebuild;",
    "  pushes the receiver refused are counted apart (refused push bytes).",
    "- Redundancy is the mean fraction of the target placements that exist (1 = fully replicated); over the run, its mean over the daily samples (what the free-riders check compares).",
    "- The subnet check audits every owner's holder records against the cap (at most",
    "  `maxPerSubnet` distinct peers per /24) every few days and at the end.",
    "",
  ];
}

/**
 * Write `report.md`, the three charts and `summary.json` into `dir`
 * (created if needed).
 *
 * @example
 * ```ts
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
    `  healthy ${m.healthy}, degraded ${m.degraded}, lost ${m.lost} (ever ${m.lostEver}); durability ${
      m.durabilityBasis === "lower95" ? ">= " : ""
    }${m.durabilityNines} nines/year`,
    `  repair ${m.repairBytes} B = ${m.repairRatio}x stored ${m.storedBytes} B; max fair deficit ${m.maxDeficitBytes}/${m.deficitToleranceBytes} B; subnet violations ${m.subnetViolations}`,
    `  heal after a loss of shards: ${healText(m.healAfterLoss)}`,
    `  ${m.wallSeconds} s wall, ${
      Math.round(m.nodes * m.virtualDays / Math.max(m.wallSeconds, 1e-3))
    } node-days/s`,
    ...result.checks.map((c) =>
      `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`
    ),
  ];
  return out.join("\n") + "\n";
}

/** Heal times as one phrase, for the report and the text summary. */
function healText(heal: HealStats): string {
  const hours = (h: number | null) => h === null ? "n/a" : `${h} h`;
  return `median ${hours(heal.medianHours)}, p95 ${hours(heal.p95Hours)}, max ${
    hours(heal.maxHours)
  } (${heal.healed} healed, ${heal.open} still short at the end)`;
}
