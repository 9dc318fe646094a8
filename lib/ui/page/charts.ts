/// <reference lib="dom" />
/**
 * Charts drawn by uPlot (bundled; nothing fetched at run time). Series
 * differ by dash pattern as well as colour, and each chart carries a
 * text summary for screen readers.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { PeerRow, SweepRow } from "./api.ts";
import { formatBytes, shortId } from "./format.ts";

/** One line of a chart. */
interface Line {
  readonly label: string;
  readonly values: readonly number[];
  readonly stroke: string;
  readonly dash?: number[];
}

/** Chart options shared by the dashboard's charts. */
interface ChartSpec {
  readonly title: string;
  readonly summary: string;
  readonly x: readonly number[];
  readonly lines: readonly Line[];
  readonly time: boolean;
  readonly yValue: (v: number) => string;
  readonly xValue?: (v: number) => string;
  readonly bars?: boolean;
  /** Counts: whole-number ticks only. */
  readonly integer?: boolean;
}

/** How a line is drawn. */
type LineStyle = Pick<Line, "stroke" | "dash">;

/** Two series: ours solid blue, the other side's dashed orange. */
const PAIR: readonly LineStyle[] = [
  { stroke: "#0b5cad" },
  { stroke: "#b35900", dash: [6, 4] },
];

/** The four health states, blue to purple, each its own dash. */
const HEALTH: readonly LineStyle[] = [
  { stroke: "#0b5cad" },
  { stroke: "#2a9df4", dash: [6, 4] },
  { stroke: "#b35900", dash: [2, 3] },
  { stroke: "#7a1fa2", dash: [10, 3, 2, 3] },
];

/** One line per `[label, value]` of `rows`, in the `styles` given. */
function linesOf<R>(
  rows: readonly R[],
  series: {
    readonly styles: readonly LineStyle[];
    readonly values: readonly (readonly [string, (row: R) => number])[];
  },
): Line[] {
  return series.values.map(([label, value], i) => ({
    label,
    values: rows.map(value),
    ...series.styles[i],
  }));
}

function widthOf(el: HTMLElement): number {
  return Math.max(280, Math.min(el.clientWidth || 320, 900));
}

/**
 * The x range from the data: a single sweep gets an hour either side
 * (uPlot would span years), bars half a slot either side.
 */
function xRange(spec: ChartSpec): [number, number] {
  if (!spec.time) return [-0.5, spec.x.length - 0.5];
  const lo = Math.min(...spec.x);
  const hi = Math.max(...spec.x);
  return lo === hi ? [lo - 3600, hi + 3600] : [lo, hi];
}

function seriesOf(spec: ChartSpec, line: Line, i: number): uPlot.Series {
  // Grouped bars: the first series left of its peer's tick, the second right.
  const paths = spec.bars
    ? uPlot.paths.bars!({ size: [0.35, 50], align: i === 0 ? -1 : 1 })
    : undefined;
  return {
    label: line.label,
    stroke: line.stroke,
    fill: spec.bars ? line.stroke + "99" : undefined,
    dash: line.dash,
    width: 2,
    paths,
    points: { show: !spec.bars, size: 7 },
    value: (_u: uPlot, v: number | null) => v === null ? "–" : spec.yValue(v),
  };
}

function optionsOf(spec: ChartSpec, width: number): uPlot.Options {
  return {
    title: spec.title,
    width,
    height: 220,
    scales: {
      x: { time: spec.time, auto: false, range: xRange(spec) },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      spec.xValue
        ? { values: (_u, ticks) => ticks.map((t) => spec.xValue!(t)) }
        : {},
      {
        values: (_u, ticks) => ticks.map((t) => spec.yValue(t)),
        size: 70,
        incrs: spec.integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500] : undefined,
      },
    ],
    series: [{}, ...spec.lines.map((l, i) => seriesOf(spec, l, i))],
  };
}

/**
 * A uPlot chart in a figure.
 *
 * @example
 * ```ts ignore
 * html`<${Chart} spec=${spec} />`;
 * ```
 */
function Chart({ spec }: { spec: ChartSpec }): VNode {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = [
      spec.x,
      ...spec.lines.map((l) => l.values),
    ] as uPlot.AlignedData;
    const plot = new uPlot(optionsOf(spec, widthOf(el)), data, el);
    const onResize = () => plot.setSize({ width: widthOf(el), height: 220 });
    globalThis.addEventListener("resize", onResize);
    return () => {
      globalThis.removeEventListener("resize", onResize);
      plot.destroy();
    };
  }, [spec]);
  return html`
    <figure class="chart" aria-label=${spec.title}>
      <div ref=${box}></div>
      <figcaption class="visually-hidden">${spec.summary}</figcaption>
    </figure>
  `;
}

/**
 * Health of my tesseras at each sweep (healthy, repaired, degraded, lost).
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * import type { SweepRow } from "./api.ts";
 * declare const overview: { sweeps: SweepRow[] };
 * html`<${HealthChart} sweeps=${overview.sweeps} />`;
 * ```
 */
export function HealthChart(
  { sweeps }: { sweeps: readonly SweepRow[] },
): VNode {
  if (sweeps.length === 0) {
    return html`
      <p
        class="muted">No repair sweep since the node started: the chart of health over time fills in as sweeps run (or press “Repair now”).</p>
    `;
  }
  const last = sweeps[sweeps.length - 1];
  const spec: ChartSpec = {
    title: "Health of my tesseras at each sweep",
    summary:
      `${sweeps.length} sweeps; the last: ${last.healthy} healthy, ${last.repaired} repaired, ${last.degraded} degraded, ${last.lost} lost.`,
    x: sweeps.map((s) => s.finishedAt / 1000),
    time: true,
    integer: true,
    yValue: (v) => String(Math.round(v)),
    lines: linesOf(sweeps, {
      styles: HEALTH,
      values: [
        ["healthy", (s) => s.healthy],
        ["repaired", (s) => s.repaired],
        ["degraded", (s) => s.degraded],
        ["lost", (s) => s.lost],
      ],
    }),
  };
  return html`<${Chart} spec=${spec} />`;
}

/**
 * Bytes moved by each sweep's repairs.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * import type { SweepRow } from "./api.ts";
 * declare const overview: { sweeps: SweepRow[] };
 * html`<${RepairTrafficChart} sweeps=${overview.sweeps} />`;
 * ```
 */
export function RepairTrafficChart(
  { sweeps }: { sweeps: readonly SweepRow[] },
): VNode | null {
  if (sweeps.length === 0) return null;
  const sent = sweeps.reduce((n, s) => n + s.bytesSent, 0);
  const fetched = sweeps.reduce((n, s) => n + s.bytesFetched, 0);
  const spec: ChartSpec = {
    title: "Repair traffic per sweep",
    summary: `Repairs sent ${formatBytes(sent)} and fetched ${
      formatBytes(fetched)
    } over ${sweeps.length} sweeps.`,
    x: sweeps.map((s) => s.finishedAt / 1000),
    time: true,
    integer: true,
    yValue: (v) => formatBytes(v),
    lines: linesOf(sweeps, {
      styles: PAIR,
      values: [
        ["sent to peers", (s) => s.bytesSent],
        ["fetched from peers", (s) => s.bytesFetched],
      ],
    }),
  };
  return html`<${Chart} spec=${spec} />`;
}

/**
 * Space per peer: what each stores for us and what we store for it.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * import type { PeerRow } from "./api.ts";
 * declare const rows: PeerRow[];
 * html`<${SpacePerPeerChart} peers=${rows} />`;
 * ```
 */
export function SpacePerPeerChart(
  { peers }: { peers: readonly PeerRow[] },
): VNode {
  const rows = peers.filter((p) =>
    p.bytesStoredForThem + p.bytesTheyStoreForUs > 0
  );
  if (rows.length === 0) {
    return html`<p class="muted">No space exchanged with any peer yet.</p>`;
  }
  const spec: ChartSpec = {
    title: "Space per peer",
    summary: rows.map((p) =>
      `${shortId(p.peerId)} stores ${
        formatBytes(p.bytesTheyStoreForUs)
      } for us; we store ${formatBytes(p.bytesStoredForThem)} for it.`
    ).join(" "),
    x: rows.map((_, i) => i),
    time: false,
    bars: true,
    xValue: (v) =>
      Number.isInteger(v) && rows[v] ? shortId(rows[v].peerId) : "",
    yValue: (v) => formatBytes(v),
    lines: linesOf(rows, {
      styles: PAIR,
      values: [
        ["stores for us", (p) => p.bytesTheyStoreForUs],
        ["we store for it", (p) => p.bytesStoredForThem],
      ],
    }),
  };
  return html`<${Chart} spec=${spec} />`;
}
