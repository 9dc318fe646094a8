/**
 * Signed records in the Kademlia DHT (kad-dht's `PUT_VALUE`/`GET_VALUE`)
 * under tesseras' catalogue namespace: the owner's pointer to its sealed
 * catalogue (docs/keys.md). kad-dht keeps a record only when the
 * namespace's validator accepts it and picks among several with its
 * selector; both are given by whoever builds the node (lib/node wires
 * lib/crypto's checks), so this adapter knows nothing of the format.
 *
 * @module
 */
import { fromHex, TesserasError, toHex } from "../core/mod.ts";
import type { KadDHT } from "@libp2p/kad-dht";

/** What the records need of a node: its DHT (a `TesserasNode` has it). */
export interface RecordsNode {
  /** The libp2p node with its kad-dht service. */
  readonly libp2p: { readonly services: { readonly dht: KadDHT } };
}

/** kad-dht namespace of catalogue records: keys are `/tesseras-catalogue/<hex>`. */
export const CATALOGUE_NAMESPACE = "tesseras-catalogue";

/** What a record must pass to be stored, and which of several wins. */
export interface RecordRules {
  /** Throws unless `value` is a valid record under the 32-byte `key`. */
  validate(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** The index of the record to keep among `values` (all valid). */
  select(key: Uint8Array, values: Uint8Array[]): Promise<number>;
}

/**
 * kad-dht's `validators` and `selectors` for the catalogue namespace.
 *
 * @example
 * ```ts
 * const init = recordKadInit({
 *   validate: () => Promise.resolve(),
 *   select: () => Promise.resolve(0),
 * });
 * Object.keys(init.validators); // ["tesseras-catalogue"]
 * ```
 */
export function recordKadInit(rules: RecordRules): {
  validators: Record<
    string,
    (key: Uint8Array, value: Uint8Array) => Promise<void>
  >;
  selectors: Record<
    string,
    (key: Uint8Array, values: Uint8Array[]) => Promise<number>
  >;
} {
  return {
    validators: {
      [CATALOGUE_NAMESPACE]: (key, value) => rules.validate(keyOf(key), value),
    },
    selectors: {
      [CATALOGUE_NAMESPACE]: (key, values) => rules.select(keyOf(key), values),
    },
  };
}

/**
 * Put and get catalogue records through a node's DHT.
 *
 * @example
 * ```ts
 * declare const node: RecordsNode; // a TesserasNode
 * const records = new Libp2pRecords(node);
 * await records.put(new Uint8Array(32), new Uint8Array([1]));
 * ```
 */
export class Libp2pRecords {
  readonly #node: RecordsNode;

  /** @param node a node built with {@linkcode recordKadInit}'s rules */
  constructor(node: RecordsNode) {
    this.#node = node;
  }

  /**
   * Store `value` under the 32-byte `key` locally and at the closest
   * peers; resolves with how many peers took it.
   */
  async put(
    key: Uint8Array,
    value: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<number> {
    let stored = 0;
    for await (
      const event of this.#node.libp2p.services.dht.put(dhtKey(key), value, {
        signal: options.signal,
      })
    ) {
      if (event.name === "PEER_RESPONSE" && event.messageName === "PUT_VALUE") {
        stored++;
      }
    }
    return stored;
  }

  /**
   * The best record under `key` (the selector's choice among what we and
   * the closest peers hold), or `null` when nobody has one.
   */
  async get(
    key: Uint8Array,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | null> {
    let best: Uint8Array | null = null;
    try {
      for await (
        const event of this.#node.libp2p.services.dht.get(dhtKey(key), {
          signal: options.signal,
        })
      ) {
        if (event.name === "VALUE") best = event.value;
      }
    } catch (err) {
      if ((err as Error)?.name === "NotFoundError") return null;
      throw err;
    }
    return best;
  }
}

function dhtKey(key: Uint8Array): Uint8Array {
  if (key.length !== 32) {
    throw new TesserasError("INVALID_INPUT", "a record key has 32 bytes");
  }
  return new TextEncoder().encode(`/${CATALOGUE_NAMESPACE}/${toHex(key)}`);
}

function keyOf(dht: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(dht);
  const prefix = `/${CATALOGUE_NAMESPACE}/`;
  const hex = text.startsWith(prefix) ? text.slice(prefix.length) : "";
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TesserasError("INVALID_INPUT", "not a catalogue record key");
  }
  return fromHex(hex);
}
