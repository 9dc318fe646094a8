/**
 * The deterministic order of a tessera's stewards (docs/stewards.md): its
 * holders sorted by the XOR distance between the tessera id and the
 * BLAKE3 of each holder's peer id. Every holder computes the same order
 * from the same holder list, so no election and no messages are needed:
 * the first is the primary steward, the next ones its backups.
 *
 * @module
 */
import { fromHex, type PeerId, type TesseraId } from "../core/mod.ts";
import { blake3 } from "../codec/mod.ts";

const encoder = new TextEncoder();

/**
 * `peers` (duplicates dropped) closest to `id` first: XOR of the id's
 * bytes and BLAKE3 of the peer id's UTF-8, compared as big-endian numbers.
 * `options.hashes` keeps the peers' hashes between calls.
 *
 * @example
 * ```ts
 * import { stewardOrder } from "./steward_rank.ts";
 * const order = stewardOrder("ab".repeat(32), ["peer-b", "peer-a", "peer-b"]);
 * order.length; // 2
 * ```
 */
export function stewardOrder(
  id: TesseraId,
  peers: Iterable<PeerId>,
  options: { readonly hashes?: Map<PeerId, Uint8Array> } = {},
): PeerId[] {
  const key = fromHex(id);
  const hashes = options.hashes;
  const keyed: { peer: PeerId; h: Uint8Array }[] = [];
  for (const peer of new Set(peers)) {
    let h = hashes?.get(peer);
    if (!h) {
      // Its own bytes: the digest may be a view of a shared slab, which a
      // kept view would pin whole (64 KiB per 32-byte hash kept; over a
      // year's run these pins were most of the heap's growth).
      h = blake3(encoder.encode(peer)).slice();
      hashes?.set(peer, h);
    }
    keyed.push({ peer, h });
  }
  // Run on every sweep for every orphan held: compared in place, the
  // first byte where two hashes differ decides (XOR with the same key
  // byte), with no distance arrays built.
  keyed.sort((a, b) => closer(key, a.h, b.h) || (a.peer < b.peer ? -1 : 1));
  return keyed.map((k) => k.peer);
}

/** Sign of `(key ^ a) − (key ^ b)` as big-endian numbers. */
function closer(key: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(key.length, a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (key[i] ^ a[i]) - (key[i] ^ b[i]);
  }
  return 0;
}

/** Tesseras whose order is remembered; beyond it the stalest go. */
const MAX_ORDERS = 4096;

/**
 * {@linkcode stewardOrder} remembered per tessera for the holder list it
 * was computed from, with the peers' hashes: every holder of an orphan
 * asks for its order at every sweep, and the holders change slowly, so
 * the sort runs again only when the list does.
 *
 * @example
 * ```ts
 * import { StewardOrders } from "./steward_rank.ts";
 * const orders = new StewardOrders();
 * const id = "ab".repeat(32);
 * const first = orders.order(id, ["peer-b", "peer-a"]);
 * orders.order(id, ["peer-b", "peer-a"]) === first; // true: remembered
 * ```
 */
export class StewardOrders {
  readonly #hashes = new Map<PeerId, Uint8Array>();
  readonly #orders = new Map<
    TesseraId,
    { peers: readonly PeerId[]; order: PeerId[] }
  >();

  /** The steward order of `peers` for `id` (do not modify the array). */
  order(id: TesseraId, peers: readonly PeerId[]): readonly PeerId[] {
    const known = this.#orders.get(id);
    if (known !== undefined && samePeers(known.peers, peers)) {
      return known.order;
    }
    if (this.#hashes.size > 4 * MAX_ORDERS) this.#hashes.clear();
    const order = stewardOrder(id, peers, { hashes: this.#hashes });
    this.#orders.delete(id);
    this.#orders.set(id, { peers: [...peers], order });
    if (this.#orders.size > MAX_ORDERS) {
      this.#orders.delete(this.#orders.keys().next().value!);
    }
    return order;
  }
}

function samePeers(a: readonly PeerId[], b: readonly PeerId[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
