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
  readonly #memo = new Map<
    TesseraId,
    { key: string; safety: PlacementSafety }
  >();

  /** The safety of `live` (with their IPs) for tessera `id` of `plan`. */
  of(
    id: TesseraId,
    placed: {
      readonly plan: PlanShape;
      readonly live: readonly (HolderOf & { readonly ip?: string })[];
    },
  ): PlacementSafety {
    let key = `${placed.plan.shardCount}/${placed.plan.dataShards}`;
    for (const l of placed.live) key += ` ${l.index}:${l.peerId}@${l.ip ?? ""}`;
    const known = this.#memo.get(id);
    if (known !== undefined && known.key === key) return known.safety;
    const safety = placementSafety(placed.plan, placed.live);
    this.#memo.delete(id);
    this.#memo.set(id, { key, safety });
    if (this.#memo.size > MAX_TESSERAS) {
      this.#memo.delete(this.#memo.keys().next().value!);
    }
    return safety;
  }
}
