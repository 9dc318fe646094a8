/**
 * Subnet keys for placement diversity: IPv4 /24 and IPv6 /48.
 *
 * @module
 */
import type { PeerInfo } from "../core/mod.ts";

/**
 * The diversity key of an IP address: `"v4:a.b.c"` for the IPv4 /24,
 * `"v6:xxxx:xxxx:xxxx"` for the IPv6 /48 (IPv4-mapped IPv6 counts as
 * IPv4), or `undefined` when `ip` is missing or not an address.
 *
 * @example
 * ```ts
 * subnetKey("192.168.1.20"); // "v4:192.168.1"
 * subnetKey("2001:db8:1::5"); // "v6:2001:db8:1"
 * ```
 */
export function subnetKey(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  let s = ip.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const v4 = parseV4(s);
  if (v4) return `v4:${v4[0]}.${v4[1]}.${v4[2]}`;
  const v6 = parseV6(s);
  if (!v6) return undefined;
  // ::ffff:a.b.c.d is an IPv4 peer behind a dual-stack socket.
  if (
    v6[0] === 0 && v6[1] === 0 && v6[2] === 0 && v6[3] === 0 &&
    v6[4] === 0 && v6[5] === 0xffff
  ) {
    return `v4:${v6[6] >> 8}.${v6[6] & 0xff}.${v6[7] >> 8}`;
  }
  return `v6:${v6[0].toString(16)}:${v6[1].toString(16)}:${v6[2].toString(16)}`;
}

/**
 * The subnet a peer counts against: its IP's {@linkcode subnetKey}, or a
 * key of its own (`"peer:<id>"`) when its IP is unknown, so unknown peers
 * never crowd out each other.
 *
 * @example
 * ```ts
 * subnetOf({ id: "p" }); // "peer:p"
 * ```
 */
export function subnetOf(peer: Pick<PeerInfo, "id" | "ip">): string {
  return subnetKey(peer.ip) ?? `peer:${peer.id}`;
}

/** A dotted IPv4 address: one match instead of a split and four tests. */
const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): number[] | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  const out = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  return out.every((n) => n <= 255) ? out : undefined;
}

function parseV6(s: string): number[] | undefined {
  if (!s.includes(":")) return undefined;
  // A dotted IPv4 tail stands for the last two groups.
  const lastColon = s.lastIndexOf(":");
  const dotted = s.slice(lastColon + 1);
  if (dotted.includes(".")) {
    const v4 = parseV4(dotted);
    if (!v4) return undefined;
    s = s.slice(0, lastColon + 1) +
      ((v4[0] << 8) | v4[1]).toString(16) + ":" +
      ((v4[2] << 8) | v4[3]).toString(16);
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]);
  const rest = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !rest) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - rest.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

function parseGroups(h: string): number[] | undefined {
  if (h === "") return [];
  const out: number[] = [];
  for (const g of h.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}
