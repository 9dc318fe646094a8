/**
 * What the command line prints for each read command, as plain text. The
 * functions take the API's JSON bodies and return the lines, so `main.ts`
 * only parses, calls and prints.
 *
 * @module
 */
import { describeSafety, type PlacementSafety } from "../../replication/mod.ts";
import type { VerifyReport } from "../verify.ts";
import { formatBytes, formatTable, plural } from "./format.ts";

/** A JSON object as the API returns it. */
export type Row = Record<string, unknown>;

/**
 * `tesseras status [ID]`: one line per tessera, or a hint when there are
 * none yet.
 *
 * @example
 * ```ts
 * formatStatus([]); // "no tesseras yet: add one with `tesseras put FILE`"
 * ```
 */
export function formatStatus(body: unknown): string {
  const rows = (Array.isArray(body) ? body : [body]) as Row[];
  if (rows.length === 0) {
    return "no tesseras yet: add one with `tesseras put FILE`";
  }
  const named = rows.some((r) => typeof r.name === "string");
  const table = formatTable(
    [
      "tessera",
      ...(named ? ["name"] : []),
      "tier",
      "size",
      "shards",
      "live",
      "lost",
      "holders",
      "health",
      "local",
    ],
    rows.map((r) => [
      String(r.id ?? ""),
      ...(named ? [String(r.name ?? "")] : []),
      String(r.tier ?? "") + (r.private === true ? " private" : ""),
      formatBytes(Number(r.size ?? 0)),
      String(r.shardCount ?? ""),
      String(r.liveShards ?? ""),
      String(r.lostShards ?? ""),
      String(r.holderCount ?? ""),
      String(r.health ?? ""),
      r.localCopy === false ? "no" : r.localCopy === true ? "yes" : "",
    ]),
  );
  return [table, ...survivals(rows)].join("\n");
}

/**
 * What each tessera survives, in words, under the status table: the line
 * alone for one tessera, after a short id for several.
 */
function survivals(rows: readonly Row[]): string[] {
  const lines = rows.flatMap((r) => {
    const words = safetyWords(r.safety);
    if (words === "") return [];
    return [
      rows.length === 1 ? words : `${String(r.id).slice(0, 12)}…  ${words}`,
    ];
  });
  return lines.length > 0 ? ["", ...lines] : [];
}

/**
 * A `safety` figure of the API (peer losses, subnet outages, …) in words;
 * empty when absent.
 *
 * @example
 * ```ts
 * safetyWords({
 *   peerLosses: 2, subnetLosses: 0, peers: 5, subnets: 1, shards: 24,
 *   largestSubnetShards: 24,
 * }); // "survives any 2 peer losses; 1 /24 holds all 24 shards: not safe from a subnet outage"
 * ```
 */
export function safetyWords(safety: unknown): string {
  if (typeof safety !== "object" || safety === null) return "";
  return describeSafety(safety as PlacementSafety);
}

/**
 * `tesseras repair`: a count, then one line per tessera checked.
 *
 * @example
 * ```ts
 * formatRepairReport({ tesseras: [] }); // "checked 0 tesseras"
 * ```
 */
export function formatRepairReport(report: Row): string {
  const items = (report.tesseras ?? []) as Row[];
  const lines = items.map((t) =>
    `${t.id}: ${t.before} -> ${t.after}` +
    (Number(t.rebuiltShards ?? 0) > 0
      ? ` (rebuilt ${plural(Number(t.rebuiltShards), "shard")}, placed on ${
        plural(Number(t.newHolders ?? 0), "peer")
      })`
      : "") +
    (typeof t.shortBecause === "string" ? `: ${t.shortBecause}` : "") +
    (t.safety ? `; ${safetyWords(t.safety)}` : "")
  );
  return [`checked ${plural(items.length, "tessera")}`, ...lines].join("\n");
}

/**
 * Problems `verify` found and did not repair: these set its exit status.
 *
 * @example
 * ```ts
 * import type { VerifyReport } from "../verify.ts";
 * declare const report: VerifyReport;
 * const failed: boolean = unrepairedCount(report) > 0;
 * ```
 */
export function unrepairedCount(report: VerifyReport): number {
  return report.issues.filter((i) => !i.repaired).length +
    (report.ledger.repaired ? 0 : report.ledger.corrections.length);
}

/**
 * `tesseras verify`: the summary line, then one line per issue and per
 * ledger correction.
 *
 * @example
 * ```ts
 * import type { VerifyReport } from "../verify.ts";
 * declare const report: VerifyReport;
 * const text: string = formatVerifyReport(report);
 * ```
 */
export function formatVerifyReport(report: VerifyReport): string {
  const summary =
    `checked ${report.rowsChecked} rows and ${report.filesSeen} files (${
      formatBytes(report.bytesHashed)
    } hashed) and ${report.ledger.peersChecked} ledger rows: ${
      unrepairedCount(report)
    } inconsistencies`;
  const issues = report.issues.map((issue) =>
    `${issue.kind}: ${issue.path}: ${issue.detail}${
      issue.repaired ? " (repaired)" : ""
    }`
  );
  const corrections = report.ledger.corrections.map((c) =>
    `ledger_mismatch: ${c.peerId}: credited ${c.before} bytes, shards held from it total ${c.attributedBytes}${
      report.ledger.repaired ? ` (corrected to ${c.after})` : ""
    }`
  );
  return [summary, ...issues, ...corrections].join("\n");
}

/**
 * `tesseras peers`: the connected peers, then the known ones.
 *
 * @example
 * ```ts
 * formatPeers({ connected: [], known: [] });
 * ```
 */
export function formatPeers(
  body: { connected: readonly Row[]; known: readonly Row[] },
): string {
  const connected = formatTable(
    ["peer", "address"],
    body.connected.map((p) => [String(p.peerId), String(p.address ?? "")]),
  );
  const known = formatTable(
    ["peer", "addresses", "last seen"],
    body.known.map((p) => [
      String(p.peerId),
      String((p.multiaddrs as string[] | undefined)?.length ?? 0),
      new Date(Number(p.lastSeen) * 1000).toISOString(),
    ]),
  );
  return [
    `connected: ${body.connected.length}`,
    connected,
    `\nknown: ${body.known.length}`,
    known,
  ].join("\n");
}

/**
 * `tesseras ledger`: bytes stored for and by each peer.
 *
 * @example
 * ```ts
 * formatLedger([]);
 * ```
 */
export function formatLedger(rows: readonly Row[]): string {
  return formatTable(
    [
      "peer",
      "stored for them",
      "they store for us",
      "balance",
      "institutional",
    ],
    rows.map((r) => [
      String(r.peerId),
      formatBytes(Number(r.bytesStoredForThem)),
      formatBytes(Number(r.bytesTheyStoreForUs)),
      formatBytes(Number(r.balance)),
      r.institutional ? "yes" : "",
    ]),
  );
}
