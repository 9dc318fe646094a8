/**
 * Words and numbers as the dashboard shows them. Every state has a word
 * and a mark besides its colour (see style.css).
 *
 * @module
 */

/** A visual tone: ok (blue ✓), warn (orange !), bad (purple ✗), none (?). */
export type Tone = "ok" | "warn" | "bad" | "none";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/**
 * Bytes in binary units, e.g. `1.5 MiB`; signed when asked.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(
  n: number,
  options: { signed?: boolean } = {},
): string {
  const sign = n < 0 ? "−" : options.signed && n > 0 ? "+" : "";
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : 1;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

/**
 * How long ago `ms` (epoch ms) was, in words.
 *
 * @example
 * ```ts
 * timeAgo(Date.now() - 90_000); // "2 min ago"
 * ```
 */
export function timeAgo(ms: number | null, now = Date.now()): string {
  if (ms === null || !Number.isFinite(ms)) return "never";
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/**
 * A tessera's health in words and a tone. `tolerance` (peer losses the
 * placement survives), when the API gives it, says how safe.
 *
 * @example
 * ```ts
 * healthWords("healthy", 2).text; // "Safe: survives any 2 peer losses"
 * ```
 */
export function healthWords(
  health: string,
  tolerance?: number,
): { text: string; tone: Tone } {
  const survives = tolerance === undefined
    ? ""
    : tolerance <= 0
    ? ": one more peer loss could make it unreadable"
    : `: survives any ${tolerance} peer loss${tolerance === 1 ? "" : "es"}`;
  switch (health) {
    case "healthy":
      return { text: `Safe${survives}`, tone: tolerance === 0 ? "warn" : "ok" };
    case "needs_replication":
      return { text: `Needs repair${survives}`, tone: "warn" };
    case "corrupt_local":
      return { text: "A copy on this computer is damaged", tone: "bad" };
    case "lost":
      return { text: "Lost: too few pieces survive", tone: "bad" };
    case "unchecked":
      return { text: "Not checked yet", tone: "none" };
    default:
      return { text: health, tone: "none" };
  }
}

/**
 * A peer's standing in words.
 *
 * @example
 * ```ts
 * standingWords("proven").text; // "Proven holder"
 * ```
 */
export function standingWords(standing: string): { text: string; tone: Tone } {
  switch (standing) {
    case "proven":
      return { text: "Proven holder", tone: "ok" };
    case "unproven":
      return { text: "Not proven yet", tone: "none" };
    case "backed_off":
      return { text: "Backed off (refused our data)", tone: "warn" };
    case "banned":
      return { text: "Banned (kept nothing it promised)", tone: "bad" };
    default:
      return { text: standing, tone: "none" };
  }
}

/**
 * Reachability from `/health` in words; `unknown` when absent.
 *
 * @example
 * ```ts
 * reachabilityWords(null).text; // "unknown"
 * ```
 */
export function reachabilityWords(
  value: unknown,
): { text: string; tone: Tone } {
  const word = typeof value === "string"
    ? value
    : typeof value === "object" && value !== null
    ? String(
      (value as Record<string, unknown>).status ??
        (value as Record<string, unknown>).kind ?? "unknown",
    )
    : "unknown";
  const tone: Tone = word === "public" || word === "reachable"
    ? "ok"
    : word === "private" || word === "unreachable"
    ? "warn"
    : "none";
  return { text: word, tone };
}

/**
 * A peer id shortened for tables (the full id goes in `title`).
 *
 * @example
 * ```ts
 * shortId("12D3KooWabcdefghijklmnop"); // "12D3Ko…mnop"
 * ```
 */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}
