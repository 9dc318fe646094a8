/**
 * Minimal SVG charts for the report: line charts and histograms, no
 * dependencies, deterministic output.
 *
 * @module
 */

/** One line of a line chart. */
export interface Series {
  /** Legend label. */
  readonly name: string;
  /** CSS colour. */
  readonly color: string;
  /** Points `[x, y]`, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  /** Title above the plot. */
  readonly title: string;
  /** Label of the x axis. */
  readonly xLabel: string;
  /** Label of the y axis. */
  readonly yLabel: string;
  /** The lines. */
  readonly series: readonly Series[];
  /** Horizontal reference lines. */
  readonly hLines?: readonly { readonly y: number; readonly label: string }[];
}

const W = 720, H = 360, ML = 80, MR = 20, MT = 40, MB = 50;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  return `${+v.toFixed(2)}`;
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    out.push(+v.toFixed(10));
  }
  return out;
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  x: [number, number],
  y: [number, number],
): { parts: string[]; sx: (v: number) => number; sy: (v: number) => number } {
  const sx = (v: number) =>
    ML + (x[1] === x[0] ? 0 : (v - x[0]) / (x[1] - x[0])) * (W - ML - MR);
  const sy = (v: number) =>
    H - MB - (y[1] === y[0] ? 0 : (v - y[0]) / (y[1] - y[0])) * (H - MT - MB);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${
      esc(title)
    }</text>`,
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${
      esc(xLabel)
    }</text>`,
    `<text transform="translate(16 ${
      H / 2
    }) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<line x1="${ML}" y1="${H - MB}" x2="${W - MR}" y2="${
      H - MB
    }" stroke="#333"/>`,
    `<line x1="${ML}" y1="${MT}" x2="${ML}" y2="${H - MB}" stroke="#333"/>`,
  ];
  for (const t of ticks(x[0], x[1])) {
    parts.push(
      `<text x="${sx(t).toFixed(1)}" y="${H - MB + 16}" text-anchor="middle">${
        fmt(t)
      }</text>`,
    );
  }
  for (const t of ticks(y[0], y[1])) {
    const yy = sy(t).toFixed(1);
    parts.push(
      `<line x1="${ML}" y1="${yy}" x2="${W - MR}" y2="${yy}" stroke="#eee"/>`,
      `<text x="${
        ML - 6
      }" y="${yy}" text-anchor="end" dominant-baseline="middle">${
        fmt(t)
      }</text>`,
    );
  }
  return { parts, sx, sy };
}

/**
 * A line chart as an SVG document.
 *
 * @example
 * ```ts
 * const svg = lineChart({ title: "t", xLabel: "day", yLabel: "n",
 *   series: [{ name: "a", color: "green", points: [[0, 1], [1, 2]] }] });
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1]))
    .concat((options.hLines ?? []).map((h) => h.y), [0]);
  const x: [number, number] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const y: [number, number] = [Math.min(...ys), Math.max(1, ...ys) * 1.05];
  const { parts, sx, sy } = frame(
    options.title,
    options.xLabel,
    options.yLabel,
    x,
    y,
  );
  for (const h of options.hLines ?? []) {
    const yy = sy(h.y).toFixed(1);
    parts.push(
      `<line x1="${ML}" y1="${yy}" x2="${
        W - MR
      }" y2="${yy}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${W - MR - 4}" y="${
        (+yy - 4).toFixed(1)
      }" text-anchor="end" fill="#c00">${esc(h.label)}</text>`,
    );
  }
  options.series.forEach((s, k) => {
    if (s.points.length > 0) {
      const d = s.points.map((p, i) =>
        `${i === 0 ? "M" : "L"}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`
      ).join(" ");
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
      );
    }
    const lx = ML + 10 + k * 140;
    parts.push(
      `<rect x="${lx}" y="${MT - 8}" width="12" height="4" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="${MT - 4}">${esc(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/**
 * A histogram of `values` in `bins` equal bins as an SVG document, with
 * an optional red marker at `marker`.
 *
 * @example
 * ```ts
 * const svg = histogram({ title: "t", xLabel: "bytes", values: [1, 2, 2] });
 * ```
 */
export function histogram(options: {
  readonly title: string;
  readonly xLabel: string;
  readonly values: readonly number[];
  readonly bins?: number;
  readonly marker?: { readonly x: number; readonly label: string };
}): string {
  const n = options.bins ?? 20;
  const vals = options.values;
  const hi = Math.max(1, options.marker?.x ?? 0, ...vals);
  const counts = new Array<number>(n).fill(0);
  for (const v of vals) counts[Math.min(n - 1, Math.floor((v / hi) * n))]++;
  const { parts, sx, sy } = frame(
    options.title,
    options.xLabel,
    "peer pairs",
    [0, hi],
    [0, Math.max(1, ...counts) * 1.05],
  );
  counts.forEach((c, i) => {
    const x0 = sx((i / n) * hi), x1 = sx(((i + 1) / n) * hi);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${sy(c).toFixed(1)}" width="${
        Math.max(1, x1 - x0 - 1).toFixed(1)
      }" height="${(sy(0) - sy(c)).toFixed(1)}" fill="#4a7bd0"/>`,
    );
  });
  if (options.marker) {
    const mx = sx(options.marker.x).toFixed(1);
    parts.push(
      `<line x1="${mx}" y1="${MT}" x2="${mx}" y2="${
        H - MB
      }" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${+mx - 4}" y="${MT + 12}" text-anchor="end" fill="#c00">${
        esc(options.marker.label)
      }</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
