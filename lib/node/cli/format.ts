/**
 * Plain-text rendering for the command line: aligned tables and sizes.
 *
 * @module
 */

/**
 * Renders rows as an aligned table with a header line.
 *
 * @example
 * ```ts
 * formatTable(["peer", "balance"], [["a", "1"]]);
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * Human-readable byte count in binary units.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? "-" : "";
  return unit === 0
    ? `${sign}${value} B`
    : `${sign}${value.toFixed(1)} ${units[unit]}`;
}

/**
 * `n` and the noun, plural when `n` is not 1 (`s` appended, or `many`).
 *
 * @example
 * ```ts
 * plural(1, "peer"); // "1 peer"
 * plural(2, "tessera"); // "2 tesseras"
 * ```
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
