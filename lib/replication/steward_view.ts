/**
 * The context a steward repairs an orphan in (docs/stewards.md): the
 * service's own, with three things changed so the owner's repair code
 * (health.ts, repair.ts, push.ts) runs unchanged on a tessera we only
 * hold:
 *
 * - the holder records are the steward's own view (holders it found and
 *   proved, ourselves among them), not the registry of our tesseras;
 * - we are one of the holders: a challenge, ping or fetch addressed to
 *   ourselves is answered here from our own store instead of the network;
 * - the ledger does not put the placements on our account: a steward
 *   repairs on the owner's behalf and the receiving holder charges the
 *   owner (receive.ts), so we owe nobody for them;
 * - the shards a rebuild fetched are kept for the next one
 *   (steward_copy.ts).
 *
 * @module
 */
import {
  type DhtPort,
  type HolderRegistry,
  type PeerId,
  type ReciprocityLedger,
  TesserasError,
} from "../core/mod.ts";
import { answerAttestation } from "./answer_attest.ts";
import { answerProofChallenge } from "./answer_prove.ts";
import type { ServiceContext } from "./context.ts";
import type { StewardCopies } from "./steward_copy.ts";

/** Internal: bytes placed on the owner's behalf, counted per steward run. */
export interface OnBehalf {
  bytes: number;
}

/**
 * Internal: `ctx` seen as the steward of tesseras recorded in `view`.
 * `onBehalf` counts the bytes new holders took (kept off our ledger).
 */
export function stewardContext(
  ctx: ServiceContext,
  view: {
    registry: HolderRegistry;
    onBehalf: OnBehalf;
    copies: StewardCopies;
  },
): ServiceContext {
  return {
    ...ctx,
    stewardCopies: view.copies,
    holders: view.registry,
    dht: selfAnswering(ctx),
    ledger: onBehalfLedger(ctx.ledger, view.onBehalf),
    graceMs: ctx.config.stewardGraceMs,
  };
}

/** The DHT, with what is addressed to ourselves answered locally. */
function selfAnswering(ctx: ServiceContext): DhtPort {
  const self = ctx.selfId;
  const dht = ctx.dht;
  const local: Partial<DhtPort> = {
    // Our own shards are read, not fetched verified: the caller hashes.
    verifiesFetch: false,
    ping: (peer, options) =>
      peer === self ? Promise.resolve(0) : dht.ping(peer, options),
    fetch: async (peer, shard, options) => {
      if (peer !== self) return await dht.fetch(peer, shard, options);
      const bytes = await ctx.fragments.read(
        shard.tesseraId,
        shard.index,
        options,
      );
      if (bytes === null) {
        throw new TesserasError(
          "NOT_FOUND",
          `we hold no shard ${shard.index} of ${shard.tesseraId}`,
        );
      }
      return bytes;
    },
    requestAttestation: (peer, request, options) =>
      peer === self
        ? answerAttestation(ctx, request, options)
        : dht.requestAttestation(peer, request, options),
    ...(dht.requestProof
      ? {
        requestProof: (peer: PeerId, request, options) =>
          peer === self
            ? answerProofChallenge(ctx, request, options)
            : dht.requestProof!(peer, request, options),
      } satisfies Partial<DhtPort>
      : {}),
  };
  return new Proxy(dht, {
    get(target, key) {
      if (Object.hasOwn(local, key)) return local[key as keyof DhtPort];
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The ledger, with what others store for us on the owner's behalf left out. */
function onBehalfLedger(
  ledger: ReciprocityLedger,
  onBehalf: OnBehalf,
): ReciprocityLedger {
  return new Proxy(ledger, {
    get(target, key) {
      if (key === "recordTheyStoreForUs") {
        return (_peer: PeerId, bytes: number) => {
          onBehalf.bytes += bytes;
          return Promise.resolve();
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
