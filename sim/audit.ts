/**
 * The audits behind the checks: every owner's holder records against
 * placement's rules (using the distributor's own `placementSafety`), and
 * every ledger's deficits.
 *
 * @module
 */
import {
  type HolderRegistry,
  isWholeCopy,
  type PeerId,
  type ReciprocityLedger,
  type TesseraId,
} from "../lib/core/mod.ts";
import { placementSafety } from "../lib/replication/mod.ts";

/** What {@linkcode placementAudit} finds in one owner's records. */
export interface PlacementAudit {
  /**
   * Fully placed tesseras that one subnet outage can take (a subnet holds
   * more of them than they can lose) although the network had subnets
   * enough to spread them.
   */
  readonly subnetUnsafe: TesseraId[];
  /** Fully placed tesseras whose holders survive fewer than `peerLosses` peer losses. */
  readonly peerUnsafe: TesseraId[];
}

/**
 * Every owner's holder records against placement's rules: no fully
 * placed tessera may sit so that one subnet outage can take it while
 * placement had room elsewhere (`roomFor(id)`: distinct subnets among
 * the live peers placement was offered for it that had room; a Medium or
 * Large tessera needs `shards / parity` of them, a Small one two), and
 * each should survive `peerLosses` peer losses. `ipOf`
 * gives a peer's true address (the record's own when it returns
 * `undefined`). A tessera short of shards is mid-repair, not misplaced:
 * only complete placements (every shard; Small: two copies) are judged.
 *
 * @example
 * ```ts
 * import type { HolderRegistry } from "../lib/core/mod.ts";
 * declare const registry: HolderRegistry;
 * declare const ipOf: (peer: string) => string | undefined;
 * await placementAudit(registry, { ipOf, roomFor: () => 40, peerLosses: 2 });
 * // { subnetUnsafe: [], peerUnsafe: [] }
 * ```
 */
export async function placementAudit(
  registry: HolderRegistry,
  options: {
    readonly ipOf: (peer: PeerId) => string | undefined;
    readonly roomFor: (tesseraId: TesseraId) => number;
    readonly peerLosses: number;
  },
): Promise<PlacementAudit> {
  const subnetUnsafe: TesseraId[] = [];
  const peerUnsafe: TesseraId[] = [];
  for (const t of await registry.list()) {
    const holders = await registry.holders(t.tesseraId);
    const safety = placementSafety(
      t.plan,
      holders.map((h) => ({
        index: h.index,
        peerId: h.peerId,
        ip: options.ipOf(h.peerId) ?? h.ip,
      })),
    );
    const whole = isWholeCopy(t.plan);
    if (whole ? safety.peers < 2 : safety.shards < t.plan.shardCount) continue;
    const needed = whole
      ? 2
      : Math.ceil(t.plan.shardCount / Math.max(1, t.plan.parityShards));
    if (safety.subnetLosses < 1 && options.roomFor(t.tesseraId) >= needed) {
      subnetUnsafe.push(t.tesseraId);
    }
    if (safety.peerLosses < options.peerLosses) peerUnsafe.push(t.tesseraId);
  }
  return { subnetUnsafe, peerUnsafe };
}

/** Deficits one ledger shows, split by the kind of peer. */
export interface DeficitAudit {
  /** Largest deficit of a peer `classify` calls fair (0 when none). */
  readonly fairMax: number;
  /** Largest deficit of a peer `classify` calls a free rider (0 when none). */
  readonly freeRiderMax: number;
  /** Every positive deficit of a peer that is still around. */
  readonly deficits: number[];
}

/**
 * Deficits (`bytesStoredForThem - bytesTheyStoreForUs`) of the peers in
 * `ledger`; institutional peers are exempt and peers `classify` maps to
 * `gone` are skipped.
 *
 * @example
 * ```ts
 * import type { ReciprocityLedger } from "../lib/core/mod.ts";
 * declare const ledger: ReciprocityLedger;
 * const { fairMax } = await ledgerDeficits(ledger, () => "fair");
 * ```
 */
export async function ledgerDeficits(
  ledger: ReciprocityLedger,
  classify: (peer: PeerId) => "fair" | "freeRider" | "gone",
): Promise<DeficitAudit> {
  let fairMax = 0, freeRiderMax = 0;
  const deficits: number[] = [];
  for (const row of await ledger.list()) {
    if (row.institutional) continue;
    const kind = classify(row.peerId);
    if (kind === "gone") continue;
    const deficit = row.bytesStoredForThem - row.bytesTheyStoreForUs;
    if (deficit > 0) deficits.push(deficit);
    if (kind === "fair") fairMax = Math.max(fairMax, deficit);
    else freeRiderMax = Math.max(freeRiderMax, deficit);
  }
  return { fairMax, freeRiderMax, deficits };
}
