/**
 * Fair limits for the circuit relay v2 server: who may reserve a slot and
 * how many relayed connections each peer may have an hour.
 *
 * Every relayed connection may carry at most `dataLimitBytes` (the relay
 * resets it beyond), so a relayed connection is charged that much, up
 * front, to both its ends. A peer may spend `budgetBytesPerHour` an hour,
 * plus its reciprocity credit: the bytes it stores for us (the ledger's
 * `bytes_they_store_for_us`), so a peer that keeps our shards may relay as
 * much again. The charge is an upper bound of what the relay carried, so
 * the budget can only be undercounted in the relay's favour.
 *
 * @module
 */

/** The relay server's limits (all have documented defaults). */
export interface RelayLimits {
  /** Most reservations held at once (default 32). */
  readonly maxReservations: number;
  /** How long a reservation lasts before the holder refreshes it, ms (1 h). */
  readonly reservationTtlMs: number;
  /** Most bytes one relayed connection carries, both ways (32 MiB). */
  readonly dataLimitBytes: number;
  /** Longest a relayed connection stays open, ms (10 min). */
  readonly durationLimitMs: number;
  /** Relayed bytes each peer may use an hour beyond its credit (4 GiB). */
  readonly budgetBytesPerHour: number;
}

/**
 * The default limits: the data limit fits the largest shard of every tier
 * (a Large tessera's shard is at most 1 GiB / 48 ≈ 22 MiB); the budget is
 * 128 such connections an hour per peer (each charged in full, though most
 * carry a few KiB of audits).
 */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxReservations: 32,
  reservationTtlMs: 60 * 60 * 1000,
  dataLimitBytes: 32 * 1024 * 1024,
  durationLimitMs: 10 * 60 * 1000,
  budgetBytesPerHour: 4 * 1024 * 1024 * 1024,
};

/**
 * Limits with the given fields replaced.
 *
 * @example
 * ```ts
 * relayLimits({ maxReservations: 8 }).dataLimitBytes; // 67108864
 * ```
 */
export function relayLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  return { ...DEFAULT_RELAY_LIMITS, ...overrides };
}

/** A peer's reciprocity credit in bytes (what it stores for us). */
export type RelayCredit = (peerId: string) => number | Promise<number>;

/** Options of {@linkcode RelayBudget}. */
export interface RelayBudgetOptions {
  /** Reciprocity credit per peer (default: none). */
  readonly credit?: RelayCredit;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Per-peer hourly budget of relayed connections.
 *
 * @example
 * ```ts
 * const budget = new RelayBudget(relayLimits({ budgetBytesPerHour: 128 << 20 }));
 * await budget.admit("peerA", "peerB"); // true: 64 MiB charged to each
 * await budget.admit("peerA", "peerC"); // true: peerA has spent 128 MiB
 * await budget.admit("peerA", "peerD"); // false until the hour turns
 * ```
 */
export class RelayBudget {
  readonly #limits: RelayLimits;
  readonly #credit: RelayCredit | undefined;
  readonly #now: () => number;
  #hour = -1;
  #spent = new Map<string, number>();
  #refused = 0;
  #admitted = 0;

  /** @param limits the relay's limits; @param options credit and clock */
  constructor(limits: RelayLimits, options: RelayBudgetOptions = {}) {
    this.#limits = limits;
    this.#credit = options.credit;
    this.#now = options.now ?? Date.now;
  }

  /** Relayed connections admitted and refused since start. */
  get counts(): { admitted: number; refused: number } {
    return { admitted: this.#admitted, refused: this.#refused };
  }

  /**
   * Whether a relayed connection from `source` to `destination` fits both
   * peers' budgets; when it does, both are charged.
   */
  async admit(source: string, destination: string): Promise<boolean> {
    this.#rollHour();
    const charge = this.#limits.dataLimitBytes;
    const [a, b] = await Promise.all([
      this.#allowance(source),
      this.#allowance(destination),
    ]);
    const fits = this.#spentBy(source) + charge <= a &&
      this.#spentBy(destination) + charge <= b;
    if (!fits) {
      this.#refused++;
      return false;
    }
    this.#spent.set(source, this.#spentBy(source) + charge);
    this.#spent.set(destination, this.#spentBy(destination) + charge);
    this.#admitted++;
    return true;
  }

  async #allowance(peer: string): Promise<number> {
    let credit = 0;
    try {
      credit = Math.max(0, Number(await this.#credit?.(peer)) || 0);
    } catch {
      // A ledger that cannot answer gives no credit; the base budget stays.
    }
    return this.#limits.budgetBytesPerHour + credit;
  }

  #spentBy(peer: string): number {
    return this.#spent.get(peer) ?? 0;
  }

  #rollHour(): void {
    const hour = Math.floor(this.#now() / HOUR_MS);
    if (hour === this.#hour) return;
    this.#hour = hour;
    this.#spent = new Map();
  }
}
