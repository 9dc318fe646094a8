/**
 * The audits behind two checks: every owner's holder records against the
 * subnet cap (using the distributor's own `checkPlacement`), and every
 * ledger's deficits.
 *
 * @module
 */
import type {
  HolderRegistry,
  PeerId,
  ReciprocityLedger,
  TesseraId,
} from "../lib/core/mod.ts";
import { checkPlacement } from "../lib/replication/mod.ts";

/**
 * Tesseras in `registry` whose holders put more than `maxPerSubnet`
 * distinct peers in one /24 (or /48). `ipOf` gives a peer's true address
 * (the record's own is used when it returns `undefined`).
 *
 * @example
 * ```ts
 * await subnetViolations(registry, (p) => ips.get(p), 2); // ["ab…"]
 * ```
 */
export async function subnetViolations(
  registry: HolderRegistry,
  ipOf: (peer: PeerId) => string | undefined,
  maxPerSubnet: number,
): Promise<TesseraId[]> {
  const out: TesseraId[] = [];
  for (const t of await registry.list()) {
    const holders = await registry.holders(t.tesseraId);
    const violations = checkPlacement(
      t.plan,
      holders.map((h) => ({
        index: h.index,
        peer: { id: h.peerId, ip: ipOf(h.peerId) ?? h.ip },
      })),
      { maxPerSubnet, minTolerance: 0 },
    );
    if (violations.some((v) => v.kind === "subnet_cap")) out.push(t.tesseraId);
  }
  return out;
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
