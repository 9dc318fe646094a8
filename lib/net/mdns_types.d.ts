// Types of @libp2p/mdns without its dependency on @types/multicast-dns,
// whose `/// <reference types="node" />` pulls @types/node 12 into the type
// check and hides Deno's own `node:` module types.

/** Options of `mdns()` (see @libp2p/mdns). */
export interface MulticastDNSInit {
  broadcast?: boolean;
  interval?: number;
  serviceTag?: string;
  peerName?: string;
  port?: number;
  ip?: string;
}

/** The mDNS peer discovery service factory. */
export declare function mdns(
  init?: MulticastDNSInit,
): (components: never) => unknown;
