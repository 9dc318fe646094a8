/**
 * The placement safety of each tessera a node checks, kept between its
 * checks: a sweep checks every tessera daily and, in a steady network,
 * finds the same live holders as the day before, so the tolerance (a
 * search over holders and subnets, distributor.ts) is computed again only
 * when the live placements changed.
 *
 * @module
 */
import type { TesseraId } from "../core/mod.ts";
import {
  type HolderOf,
  type PlacementSafety,
  placementSafety,
  type PlanShape,
} from "./distributor.ts";

/** Tesseras remembered; beyond it the stalest are forgotten. */
const MAX_TESSERAS = 4096;

/**
 * `placementSafety`, remembered per tessera for the last placements seen.
 *
 * @example
 * ```ts
 * import { SafetyMemo } from "./safety_memo.ts";
 * const memo = new SafetyMemo();
 * const plan = { tier: "small", shardCount: 1, dataShards: 1, parityShards: 0 } as const;
 * const live = [{ index: 0, peerId: "a", ip: "10.0.0.1" }];
 * memo.of("ab".repeat(32), { plan, live }).peers; // 1
 * ```
 */
export class SafetyMemo {
  readonly #memo = new Map<TesseraId, Remembered>();

  /** The safety of `live` (with their IPs) for tessera `id` of `plan`. */
  of(id: TesseraId, placed: Placed): PlacementSafety {
    const known = this.#memo.get(id);
    if (known !== undefined && sameAs(known, placed)) return known.safety;
    const safety = placementSafety(placed.plan, placed.live);
    this.#memo.delete(id);
    this.#memo.set(id, remember(placed, safety));
    if (this.#memo.size > MAX_TESSERAS) {
      this.#memo.delete(this.#memo.keys().next().value!);
    }
    return safety;
  }
}

/** A tessera's plan and its live placements, with the IPs placed at. */
interface Placed {
  readonly plan: PlanShape;
  readonly live: readonly (HolderOf & { readonly ip?: string })[];
}

/**
 * What a safety was computed from, flat: a sweep compares it field by
 * field, which allocates nothing when the placements are the same (a key
 * string built per check was most of a sweep's short-lived garbage).
 */
interface Remembered {
  readonly shardCount: number;
  readonly dataShards: number;
  /** `index, peerId, ip` of each live placement, in order. */
  readonly live: readonly (number | string)[];
  readonly safety: PlacementSafety;
}

function remember(placed: Placed, safety: PlacementSafety): Remembered {
  const live: (number | string)[] = [];
  for (const l of placed.live) live.push(l.index, l.peerId, l.ip ?? "");
  const { shardCount, dataShards } = placed.plan;
  return { shardCount, dataShards, live, safety };
}

function sameAs(known: Remembered, placed: Placed): boolean {
  const { plan, live } = placed;
  if (
    known.shardCount !== plan.shardCount ||
    known.dataShards !== plan.dataShards ||
    known.live.length !== 3 * live.length
  ) return false;
  for (let i = 0; i < live.length; i++) {
    const l = live[i];
    if (
      known.live[3 * i] !== l.index || known.live[3 * i + 1] !== l.peerId ||
      known.live[3 * i + 2] !== (l.ip ?? "")
    ) return false;
  }
  return true;
}
