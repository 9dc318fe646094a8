/**
 * Turning libp2p peers and multiaddrs into the core's `PeerInfo`, with the
 * IP the distributor needs for subnet diversity.
 *
 * @module
 */
import type { PeerInfo } from "../core/mod.ts";
import type { Multiaddr } from "@multiformats/multiaddr";

/**
 * The IPv4 or IPv6 address in a multiaddr, or undefined when it has none
 * (DNS names, memory transport, relays without an IP).
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * ipOfMultiaddr(multiaddr("/ip4/127.0.3.1/tcp/4001")); // "127.0.3.1"
 * ```
 */
export function ipOfMultiaddr(addr: Multiaddr): string | undefined {
  for (const component of addr.getComponents()) {
    if (
      (component.name === "ip4" || component.name === "ip6") &&
      component.value !== undefined
    ) {
      return component.value;
    }
  }
  return undefined;
}

/**
 * The first IP found among `addrs`, preferring `observed` (the address a
 * live connection came from) over advertised listen addresses. Relay
 * addresses carry the relay's IP, not the peer's: they are skipped, so a
 * peer reachable only through relays has no IP (its subnet is unknown; the
 * distributor gives it a group of its own) instead of the relay's /24.
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * firstIp([multiaddr("/memory/x"), multiaddr("/ip4/10.0.0.1/tcp/1")]); // "10.0.0.1"
 * ```
 */
export function firstIp(
  addrs: readonly Multiaddr[],
  observed?: Multiaddr,
): string | undefined {
  const direct = (a: Multiaddr) => !a.toString().includes("/p2p-circuit");
  const fromObserved = observed === undefined || !direct(observed)
    ? undefined
    : ipOfMultiaddr(observed);
  if (fromObserved !== undefined) return fromObserved;
  for (const addr of addrs.filter(direct)) {
    const ip = ipOfMultiaddr(addr);
    if (ip !== undefined) return ip;
  }
  return undefined;
}

/**
 * A core `PeerInfo` from a peer id, its known addresses and, when there is
 * a connection, the connection's remote address (`observed`, preferred for
 * the IP).
 *
 * @example
 * ```ts
 * import { multiaddr } from "@multiformats/multiaddr";
 * const addr = multiaddr("/ip4/127.0.2.1/tcp/4001");
 * toPeerInfo("12D3KooW…", [addr]);
 * toPeerInfo("12D3KooW…", [addr], { observed: addr });
 * ```
 */
export function toPeerInfo(
  id: string,
  addrs: readonly Multiaddr[],
  options: { readonly observed?: Multiaddr } = {},
): PeerInfo {
  const ip = firstIp(addrs, options.observed);
  const addresses = addrs.map((a) => a.toString());
  return ip === undefined ? { id, addresses } : { id, addresses, ip };
}
