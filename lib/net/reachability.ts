/**
 * Reachability: whether peers outside our network can dial us, judged from
 * libp2p's address book (what AutoNAT confirmed, what UPnP mapped, which
 * relay reservations we hold), and which peer addresses *we* can use.
 *
 * - `public`: some non-relay address with a public IP is verified (AutoNAT
 *   had a peer dial it back, or the user announced it).
 * - `private`: no such address, and none is waiting to be verified: every
 *   address we have is a private or loopback one (a home LAN behind a NAT),
 *   or AutoNAT's dial-backs failed. Others reach us only through a relay.
 * - `unknown`: a public candidate (a public listen address, a UPnP mapping)
 *   is still waiting for AutoNAT's verdict.
 *
 * @module
 */
import { isPrivateIp } from "@libp2p/utils";
import type { Multiaddr } from "@multiformats/multiaddr";
import { ipOfMultiaddr } from "./peer_info.ts";

/** What a node knows of its own reachability. */
export type Reachability = "public" | "private" | "unknown";

/** One of our addresses as libp2p's address manager keeps it. */
export interface OwnAddress {
  /** The address (without `/p2p/<our id>`). */
  readonly multiaddr: Multiaddr;
  /** Whether it is confirmed dialable (AutoNAT, announce, private). */
  readonly verified: boolean;
  /** `transport`, `observed`, `ip-mapping`, `dns-mapping` or `announce`. */
  readonly type: string;
  /** Until when the verdict stands, ms since the epoch (0: never judged). */
  readonly expires: number;
}

/** Whether an address goes through a circuit relay. */
export function isRelayAddress(addr: Multiaddr | string): boolean {
  return addr.toString().includes("/p2p-circuit");
}

/**
 * Whether the address carries a public IP (not private, loopback,
 * link-local or documentation ranges).
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * isPublicAddress(multiaddr("/ip4/11.0.1.2/tcp/4001")); // true
 * isPublicAddress(multiaddr("/ip4/10.0.0.2/tcp/4001")); // false
 * ```
 */
export function isPublicAddress(addr: Multiaddr): boolean {
  if (isRelayAddress(addr)) return false;
  const ip = ipOfMultiaddr(addr);
  return ip !== undefined && isPrivateIp(ip) === false;
}

/**
 * Classify our reachability from the address manager's records.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * const lan = { multiaddr: multiaddr("/ip4/10.0.0.2/tcp/4001"), verified: true, type: "transport", expires: 0 };
 * classifyReachability([lan], Date.now()); // "private"
 * ```
 */
export function classifyReachability(
  addresses: readonly OwnAddress[],
  now: number,
): Reachability {
  const candidates = addresses.filter((a) => isPublicAddress(a.multiaddr));
  if (candidates.some((a) => a.verified)) return "public";
  // A verdict within its TTL that is not "verified" is a failed dial-back.
  const pending = candidates.filter((a) => !(a.expires > now));
  return pending.length === 0 ? "private" : "unknown";
}

/**
 * Whether `a` is a relay slot we hold: a relay address our relay
 * transport listens on (`transport`). Identify also reports relay
 * addresses a peer *observed* us at (the remote address of a relayed
 * connection it had with us); those stay after the relay or the
 * reservation is gone, so they say nothing of a slot.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * const addr = multiaddr("/ip4/11.0.1.2/tcp/4001/p2p/12D3KooWRelay/p2p-circuit");
 * isHeldRelayAddress({ multiaddr: addr, verified: false, type: "observed", expires: 0 }); // false
 * ```
 */
export function isHeldRelayAddress(a: OwnAddress): boolean {
  return isRelayAddress(a.multiaddr) && a.type === "transport";
}

/**
 * The addresses of ours that others can dial: verified public ones and
 * the relay slots we hold (private ones too when `includePrivate`, for a
 * LAN).
 *
 * @example
 * ```ts
 * usableAddresses([], { includePrivate: false }); // []
 * ```
 */
export function usableAddresses(
  addresses: readonly OwnAddress[],
  options: { readonly includePrivate?: boolean } = {},
): Multiaddr[] {
  // A relay's loopback address is of use only on this machine (tests).
  const onlyLoopback = addresses.every((a) =>
    isRelayAddress(a.multiaddr) || isLoopback(a.multiaddr)
  );
  return addresses.filter((a) => {
    // A relay address is a slot we hold: usable whatever AutoNAT made of
    // it (its dial-backs through a relay can fail and unverify it).
    if (isRelayAddress(a.multiaddr)) {
      return isHeldRelayAddress(a) &&
        (onlyLoopback || !isLoopback(a.multiaddr));
    }
    if (!a.verified) return false;
    return isPublicAddress(a.multiaddr) || options.includePrivate === true;
  }).map((a) => a.multiaddr);
}

function isLoopback(addr: Multiaddr): boolean {
  const ip = ipOfMultiaddr(addr);
  return ip !== undefined && (ip.startsWith("127.") || ip === "::1");
}

/**
 * Whether we can expect to dial a peer at one of `addrs`: a relay address
 * or a public IP always; a loopback address when we have one; a private
 * address when one of ours is in the same /24 (IPv4) or is private too
 * (IPv6); an address without an IP (memory transport, DNS) always. A peer
 * with only other private addresses sits on someone else's LAN: nobody
 * outside it can reach it, so it cannot hold shards for us.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * const own = [multiaddr("/ip4/10.1.1.2/tcp/4001")];
 * isDialableFrom([multiaddr("/ip4/10.1.1.3/tcp/4001")], own); // true: same LAN
 * isDialableFrom([multiaddr("/ip4/10.2.1.3/tcp/4001")], own); // false
 * ```
 */
export function isDialableFrom(
  addrs: readonly Multiaddr[],
  own: readonly Multiaddr[],
): boolean {
  const ownIps = own.map(ipOfMultiaddr).filter((ip) => ip !== undefined);
  return addrs.some((addr) => {
    if (isRelayAddress(addr)) return true;
    const ip = ipOfMultiaddr(addr);
    if (ip === undefined) return true;
    if (isPrivateIp(ip) !== true) return true;
    return ownIps.some((mine) => sameLan(ip, mine));
  });
}

function sameLan(ip: string, mine: string): boolean {
  const v4 = ip.includes(".") && !ip.includes(":");
  if (v4 !== (mine.includes(".") && !mine.includes(":"))) return false;
  if (!v4) return isPrivateIp(mine) === true;
  if (ip.startsWith("127.")) return mine.startsWith("127.");
  return ip.split(".").slice(0, 3).join(".") ===
    mine.split(".").slice(0, 3).join(".");
}
