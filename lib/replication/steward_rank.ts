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
  const keyed = [...new Set(peers)].map((peer) => {
    let h = hashes?.get(peer);
    if (!h) {
      h = blake3(encoder.encode(peer));
      hashes?.set(peer, h);
    }
    const d = new Uint8Array(key.length);
    for (let i = 0; i < key.length; i++) d[i] = key[i] ^ h[i];
    return { peer, d };
  });
  keyed.sort((a, b) => compare(a.d, b.d) || (a.peer < b.peer ? -1 : 1));
  return keyed.map((k) => k.peer);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}
