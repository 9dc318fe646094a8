/**
 * Cheap simulated node identities. A signature is a 128-bit keyed hash
 * (four multiply-xor lanes) of the data under a per-node secret that only
 * the shared keyring knows, so the network can check any signature and a
 * node cannot sign as another through its own identity. Not cryptography:
 * it costs a fraction of a BLAKE3 MAC per attestation, which matters at
 * millions of attestations. Never use outside the simulator.
 *
 * @module
 */
import { type NodeIdentity, type PeerId, smallBytes } from "../lib/core/mod.ts";
import { SimRng } from "./rng.ts";

/**
 * Issues {@linkcode NodeIdentity}s whose signatures verify against each
 * other.
 *
 * @example
 * ```ts
 * declare const data: Uint8Array;
 * const keyring = new SimKeyring("seed");
 * const a = keyring.identity("a");
 * const sig = await a.sign(data);
 * await a.verify("a", { data, signature: sig }); // true
 * await a.verify("b", { data, signature: sig }); // false
 * ```
 */
export class SimKeyring {
  readonly #seed: string;
  readonly #secrets = new Map<PeerId, Uint32Array>();

  /** @param seed distinguishes keyrings (the run's seed) */
  constructor(seed: string) {
    this.#seed = seed;
  }

  /** The identity of `peerId`. */
  identity(peerId: PeerId): NodeIdentity {
    // Our own secret is looked up once, not at every signature.
    const key = this.#secret(peerId);
    return {
      peerId,
      sign: (data) => Promise.resolve(macWith(key, data)),
      verify: (peer, { data, signature }) =>
        Promise.resolve(
          equal(macWith(this.#secret(peer), data, expected), signature),
        ),
    };
  }

  /** The 16-byte tag of `data` under `peer`'s secret. */
  mac(peer: PeerId, data: Uint8Array): Uint8Array {
    return macWith(this.#secret(peer), data);
  }

  #secret(peer: PeerId): Uint32Array {
    let key = this.#secrets.get(peer);
    if (!key) {
      const rng = new SimRng(`${this.#seed}\n${peer}`);
      key = Uint32Array.of(
        rng.next32(),
        rng.next32(),
        rng.next32(),
        rng.next32(),
      );
      this.#secrets.set(peer, key);
    }
    return key;
  }
}

/**
 * A word view of the last buffer tagged: signed bytes are carved from
 * shared slabs, so one view serves a whole slab instead of a new view
 * per tag.
 */
let wordsOf: ArrayBufferLike | null = null;
let words = new Uint32Array(0);

/** Words of a whole fixed-length `buffer`, or `null` when it has none. */
function wordView(buffer: ArrayBufferLike): Uint32Array | null {
  if (buffer === wordsOf) return words;
  if (
    !(buffer instanceof ArrayBuffer) || buffer.resizable ||
    buffer.byteLength % 4 !== 0
  ) {
    return null;
  }
  words = new Uint32Array(buffer);
  wordsOf = buffer;
  return words;
}

/** Where a verification computes the tag it compares: never handed out. */
const expected = new Uint8Array(16);

/** The tag of `data` under `key`, in `out` (default: fresh bytes). */
function macWith(
  key: Uint32Array,
  data: Uint8Array,
  out: Uint8Array = smallBytes(16),
): Uint8Array {
  let h0 = key[0], h1 = key[1], h2 = key[2], h3 = key[3];
  const n = data.length;
  // Whole words straight from the buffer when aligned (signed bytes
  // come from 8-aligned slabs); four words per step, one per lane,
  // lanes cross-mixed after each step.
  let i = 0;
  let view: Uint32Array | null = null, base = 0;
  if (data.byteOffset % 4 === 0) {
    view = wordView(data.buffer);
    if (view) base = data.byteOffset >>> 2;
    else view = new Uint32Array(data.buffer, data.byteOffset, n >>> 2);
  }
  if (view) {
    const w = n >>> 2;
    let j = 0;
    for (; j + 4 <= w; j += 4) {
      const at = base + j;
      h0 = Math.imul(h0 ^ view[at], 0x9e3779b1);
      h1 = Math.imul(h1 ^ view[at + 1] ^ (h0 >>> 15), 0x85ebca77);
      h2 = Math.imul(h2 ^ view[at + 2] ^ (h1 >>> 13), 0xc2b2ae3d);
      h3 = Math.imul(h3 ^ view[at + 3] ^ (h2 >>> 16), 0x27d4eb2f);
      h0 ^= h3 >>> 15;
    }
    i = 4 * j;
  }
  for (; i < n; i++) {
    h0 = Math.imul(h0 ^ data[i], 0x9e3779b1);
    h1 = Math.imul(h1 ^ h0, 0x85ebca77);
  }
  putWord(out, 0, fmix(h0 ^ n ^ key[2]));
  putWord(out, 4, fmix(h1 ^ h0 ^ key[3]));
  putWord(out, 8, fmix(h2 ^ h1 ^ key[0]));
  putWord(out, 12, fmix(h3 ^ h2 ^ key[1]));
  return out;
}

function putWord(out: Uint8Array, at: number, w: number): void {
  out[at] = w;
  out[at + 1] = w >>> 8;
  out[at + 2] = w >>> 16;
  out[at + 3] = w >>> 24;
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
