/**
 * Shared fixtures of the network tests: nodes on distinct loopback
 * addresses, an in-test `InboundHandlers` stub (the port boundary) and
 * valid envelopes.
 *
 * @module
 */
import {
  attestationSigningBytes,
  type AttestRequest,
  type FragmentEnvelope,
  type InboundHandlers,
  type NodeIdentity,
  type PeerInfo,
  type ReplicateAck,
  type ShardRef,
  TesserasError,
  toHex,
} from "../../lib/core/mod.ts";
import {
  createTesserasNode,
  type TesserasNode,
  type TesserasNodeOptions,
} from "../../lib/net/mod.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";

/** `127.0.N.1`: each node in its own /24. */
export function loopback(n: number): string {
  return `127.0.${n}.1`;
}

/** A started node listening on 127.0.N.1 (and dialling from there). */
export async function startNode(
  n: number,
  options: Partial<TesserasNodeOptions> = {},
): Promise<TesserasNode> {
  const ip = loopback(n);
  const node = await createTesserasNode({
    privateKey: await generateKeyPair("Ed25519"),
    // Dials are bound to the same 127.0.N.1 automatically.
    listen: [`/ip4/${ip}/tcp/0`],
    peerInfoMapper: "passthrough",
    ...options,
  });
  await node.start();
  return node;
}

/** Stop every node, ignoring the ones already stopped. */
export async function stopAll(nodes: readonly TesserasNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}

/** Wait until `check()` is true, polling; throws after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SHA-256 hex, standing in for BLAKE3 where only the shape matters. */
export async function hexDigest(data: Uint8Array): Promise<string> {
  return toHex(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
    ),
  );
}

/** A valid Small-tier envelope carrying `data`. */
export async function smallEnvelope(
  data: Uint8Array,
  tesseraId?: string,
): Promise<FragmentEnvelope> {
  const checksum = await hexDigest(data);
  return {
    fragment: {
      tesseraId: tesseraId ?? checksum,
      index: 0,
      shardCount: 1,
      checksum,
    },
    plan: {
      size: data.length,
      tier: "small",
      dataShards: 1,
      parityShards: 0,
      shardCount: 1,
      shardSize: data.length,
    },
    originalSize: data.length,
    fragmentSize: data.length,
    data,
  };
}

/** One call the stub received. */
export interface StubCall {
  readonly kind: "replicate" | "attest" | "fetch";
  readonly from: PeerInfo;
}

/**
 * `InboundHandlers` at the port boundary: keeps shards in a map, signs
 * attestations with the node's identity, and can be told to throw.
 */
export class StubHandlers implements InboundHandlers {
  readonly shards = new Map<string, Uint8Array>();
  readonly calls: StubCall[] = [];
  /** When set, every handler throws it. */
  failWith: Error | undefined;
  /** When set, handlers wait this long first (ms). */
  delayMs = 0;

  constructor(readonly identity: NodeIdentity) {}

  async onReplicate(
    envelope: FragmentEnvelope,
    from: PeerInfo,
  ): Promise<ReplicateAck> {
    await this.#enter("replicate", from);
    const { tesseraId, index } = envelope.fragment;
    this.shards.set(`${tesseraId}/${index}`, envelope.data.slice());
    return { accepted: true, heldIndices: this.#held(tesseraId) };
  }

  async onAttest(request: AttestRequest, from: PeerInfo) {
    await this.#enter("attest", from);
    const entries = [];
    for (const index of this.#held(request.tesseraId)) {
      const data = this.shards.get(`${request.tesseraId}/${index}`)!;
      const joined = new Uint8Array(request.nonce.length + data.length);
      joined.set(request.nonce);
      joined.set(data, request.nonce.length);
      entries.push({
        index,
        checksum: await hexDigest(data),
        proof: await hexDigest(joined),
      });
    }
    if (entries.length === 0) {
      throw new TesserasError("NOT_FOUND", "no shard of that tessera here");
    }
    const unsigned = {
      tesseraId: request.tesseraId,
      holder: this.identity.peerId,
      nonce: request.nonce,
      entries,
      timestamp: 1_700_000_000_000,
    };
    const signature = await this.identity.sign(
      attestationSigningBytes(unsigned),
    );
    return { ...unsigned, signature };
  }

  async onFetch(shard: ShardRef, from: PeerInfo) {
    await this.#enter("fetch", from);
    return this.shards.get(`${shard.tesseraId}/${shard.index}`) ?? null;
  }

  async #enter(kind: StubCall["kind"], from: PeerInfo): Promise<void> {
    this.calls.push({ kind, from });
    if (this.delayMs > 0) {
      await new Promise((r) => setTimeout(r, this.delayMs));
    }
    if (this.failWith !== undefined) throw this.failWith;
  }

  #held(tesseraId: string): number[] {
    const prefix = `${tesseraId}/`;
    return [...this.shards.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => Number(k.slice(prefix.length)))
      .sort((a, b) => a - b);
  }
}
