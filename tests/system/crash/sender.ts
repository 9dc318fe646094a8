/**
 * An in-process libp2p peer that pushes fragments to a daemon over the real
 * `/tesseras/replicate/1.0.0` protocol, and the valid envelopes it pushes.
 *
 * The receiver cannot tell a tessera id from a random one (it only checks
 * the plan arithmetic and the shard's BLAKE3), so envelopes carry random
 * tessera ids and random shard bytes: each one is a distinct fragment the
 * crash harness can attribute to the sender that pushed it.
 *
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { blake3Hex, planTessera } from "../../../lib/codec/mod.ts";
import {
  type FragmentEnvelope,
  type ReplicateAck,
  type Rng,
  toHex,
} from "../../../lib/core/mod.ts";
import {
  createTesserasNode,
  Libp2pDhtPort,
  type TesserasNode,
} from "../../../lib/net/mod.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

/** Sizes of generated envelopes. */
export interface EnvelopeShape {
  /** Smallest Small-tier tessera (one shard = the whole tessera), bytes. */
  readonly minSmall: number;
  /** Largest Small-tier tessera, bytes (below 4 MiB). */
  readonly maxSmall: number;
  /** Share of Medium-tier shards (4 MiB+ tesseras, 16+8 shards), 0..1. */
  readonly mediumShare: number;
  /** Largest Medium-tier tessera whose shard we push, bytes (≥ 4 MiB). */
  readonly maxMedium: number;
}

/** Default envelope sizes: mostly small shards, some 256-384 KiB ones. */
export const DEFAULT_SHAPE: EnvelopeShape = {
  minSmall: 1 * KIB,
  maxSmall: 192 * KIB,
  mediumShare: 0.25,
  maxMedium: 6 * MIB,
};

function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** `n` bytes from the system's CSPRNG (64 KiB per call, its limit). */
export function randomBytes(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) {
    crypto.getRandomValues(data.subarray(o, Math.min(n, o + 65536)));
  }
  return data;
}

/**
 * A valid envelope of a fresh random tessera: a Small tessera's single
 * shard, or one random shard index of a Medium tessera. Sizes and tiers
 * follow `rng`; the bytes come from the system's CSPRNG (fast).
 */
export function randomEnvelope(
  rng: Rng,
  shape: EnvelopeShape = DEFAULT_SHAPE,
): FragmentEnvelope {
  const medium = rng.next() < shape.mediumShare;
  const size = medium
    ? between(rng, 4 * MIB, shape.maxMedium)
    : between(rng, shape.minSmall, shape.maxSmall);
  const plan = planTessera(size);
  const index = between(rng, 0, plan.shardCount - 1);
  const data = randomBytes(plan.shardSize);
  const tesseraId = toHex(crypto.getRandomValues(new Uint8Array(32)));
  return {
    fragment: {
      tesseraId,
      index,
      shardCount: plan.shardCount,
      checksum: blake3Hex(data),
    },
    plan,
    originalSize: plan.size,
    fragmentSize: data.length,
    data,
  };
}

/** Options of {@linkcode FragmentSender.start}. */
export interface SenderOptions {
  /** Loopback address to listen and dial from, e.g. `127.0.205.1`. */
  readonly ip: string;
  /** A fixed key, so the peer id stays the same across restarts. */
  readonly privateKey?: PrivateKey;
}

/**
 * One in-process peer pushing fragments to a daemon.
 *
 * @example
 * ```ts
 * const sender = await FragmentSender.start({ ip: "127.0.205.1" });
 * await sender.connect(daemonMultiaddr);
 * const ack = await sender.push(daemonPeerId, randomEnvelope(rng));
 * await sender.stop();
 * ```
 */
export class FragmentSender {
  /** The libp2p node. */
  readonly node: TesserasNode;
  readonly #dht: Libp2pDhtPort;

  private constructor(node: TesserasNode) {
    this.node = node;
    this.#dht = new Libp2pDhtPort(node);
  }

  /** Starts a sender listening on `ip` (port chosen by the OS). */
  static async start(options: SenderOptions): Promise<FragmentSender> {
    const node = await createTesserasNode({
      privateKey: options.privateKey ?? await generateKeyPair("Ed25519"),
      listen: [`/ip4/${options.ip}/tcp/0`],
      peerInfoMapper: "passthrough",
    });
    await node.start();
    return new FragmentSender(node);
  }

  /** Our peer id. */
  get peerId(): string {
    return this.node.peerId;
  }

  /** Dials `multiaddr` (with `/p2p/<id>`). */
  async connect(multiaddr: string, signal?: AbortSignal): Promise<void> {
    await this.node.connect(multiaddr, { signal });
  }

  /** Pushes one envelope; transport failures reject. */
  push(
    peer: string,
    envelope: FragmentEnvelope,
    signal?: AbortSignal,
  ): Promise<ReplicateAck> {
    return this.#dht.replicate(peer, envelope, { signal });
  }

  /** Stops the node. */
  async stop(): Promise<void> {
    await this.node.stop();
  }
}
