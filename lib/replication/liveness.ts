/**
 * Liveness apart from honesty (docs/proofs.md, "The audit schedule"): a
 * holder that left is found by a ping at every sweep, so proof audits,
 * which catch a holder that is up but deleted the bytes, can come weeks
 * apart for a holder with a long proven record. This is the memory of
 * when each peer last answered us (a proof, a ping), which the sweep
 * uses twice: a peer heard from since the sweep began is not pinged
 * again for the next tessera it holds, and an unreachable holder's grace
 * counts from when it was first found silent since it was last heard
 * (docs/stewards.md: from its last answer, a weekly absence that spanned
 * two sweeps outlived a 48 h grace and its shards were placed again).
 *
 * Kept in memory: after a restart a holder's grace counts from its
 * records (its last proof, or when it stored the shard), as before.
 *
 * @module
 */
import type { DhtPort, IoOptions, PeerId } from "../core/mod.ts";

/** Peers remembered; beyond it the stalest are forgotten. */
const MAX_PEERS = 8192;

/**
 * When each peer last answered us.
 *
 * @example
 * ```ts
 * import { Liveness } from "./liveness.ts";
 * const liveness = new Liveness();
 * liveness.heard("peer-a", 5);
 * liveness.heardAt("peer-a"); // 5
 * liveness.heardAt("peer-b"); // -Infinity
 * ```
 */
export class Liveness {
  readonly #heard = new Map<PeerId, number>();
  /** When each peer first failed to answer since it last answered. */
  readonly #silent = new Map<PeerId, number>();

  /** `peer` answered us at `at`. */
  heard(peer: PeerId, at: number): void {
    const silent = this.#silent.get(peer);
    if (silent !== undefined && silent <= at) this.#silent.delete(peer);
    const map = this.#heard;
    const was = map.get(peer);
    // Updated in place: a delete and a set per answer (to keep the map in
    // answer order) made the map rehash every few thousand pings, most of
    // a simulated sweep's garbage.
    if (was !== undefined) {
      if (was < at) map.set(peer, at);
      return;
    }
    map.set(peer, at);
    if (map.size > MAX_PEERS) forgetStalest(map, MAX_PEERS / 8);
  }

  /**
   * `peer` did not answer at `at`: its silence starts then, unless it
   * started earlier and it has not answered since.
   */
  missed(peer: PeerId, at: number): void {
    const map = this.#silent;
    if (map.has(peer)) return;
    map.set(peer, at);
    if (map.size > MAX_PEERS) map.delete(map.keys().next().value!);
  }

  /** When `peer` was first found silent since it last answered, or -Infinity. */
  silentSince(peer: PeerId): number {
    return this.#silent.get(peer) ?? -Infinity;
  }

  /** When `peer` last answered us, or -Infinity. */
  heardAt(peer: PeerId): number {
    return this.#heard.get(peer) ?? -Infinity;
  }

  /**
   * Whether `peer` is up: heard from at or after `since` (no message),
   * else whether it answers a ping now (remembered either way it ends:
   * heard, or missed).
   */
  async alive(
    dht: Pick<DhtPort, "ping">,
    probe: { peer: PeerId; since: number; now: () => number },
    options: IoOptions = {},
  ): Promise<boolean> {
    if (this.heardAt(probe.peer) >= probe.since) return true;
    try {
      await dht.ping(probe.peer, options);
    } catch {
      options.signal?.throwIfAborted();
      this.missed(probe.peer, probe.now());
      return false;
    }
    this.heard(probe.peer, probe.now());
    return true;
  }
}

/**
 * Drop the `count` peers heard from longest ago: an eighth at a time, so
 * a node meeting new peers past the bound sorts once per 1,024 of them.
 */
function forgetStalest(map: Map<PeerId, number>, count: number): void {
  const stalest = [...map].sort((a, b) => a[1] - b[1]).slice(0, count);
  for (const [peer] of stalest) map.delete(peer);
}
