/**
 * In-memory node identities for tests and the simulator. Signatures are
 * keyed BLAKE3 MACs under per-peer secrets held by one shared keyring:
 * cheap, and a node cannot sign as another through its own identity, but
 * anyone holding the keyring can forge. Never use outside a test or a
 * simulation; the real node signs with its libp2p Ed25519 key.
 *
 * @module
 */
import type { NodeIdentity, PeerId } from "../core/mod.ts";
import { blake3, blake3Keyed } from "../codec/mod.ts";

const encoder = new TextEncoder();

/**
 * Issues {@linkcode NodeIdentity}s whose signatures verify against each
 * other.
 *
 * @example
 * ```ts
 * declare const data: Uint8Array;
 * const keyring = new MemoryKeyring("seed");
 * const alice = keyring.identity("alice");
 * const sig = await alice.sign(data);
 * await alice.verify("alice", { data, signature: sig }); // true
 * ```
 */
export class MemoryKeyring {
  readonly #seed: string;
  readonly #secrets = new Map<PeerId, Uint8Array>();

  /**
   * A keyring whose secrets derive from `seed`.
   *
   * @param seed distinguishes keyrings (a run's seed in the simulator)
   */
  constructor(seed = "tesseras-memory-keyring") {
    this.#seed = seed;
  }

  #secret(peer: PeerId): Uint8Array {
    let key = this.#secrets.get(peer);
    if (!key) {
      key = blake3(encoder.encode(`${this.#seed}\n${peer}`));
      this.#secrets.set(peer, key);
    }
    return key;
  }

  /** The identity of `peerId`. */
  identity(peerId: PeerId): NodeIdentity {
    return {
      peerId,
      sign: (data) => Promise.resolve(blake3Keyed(this.#secret(peerId), data)),
      verify: (peer, { data, signature }) =>
        Promise.resolve(
          equalBytes(blake3Keyed(this.#secret(peer), data), signature),
        ),
    };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
