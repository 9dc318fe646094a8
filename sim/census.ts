/**
 * Ground truth: which shards physically exist on which nodes, kept
 * incrementally by a decorator around every node's FragmentStore, so the
 * simulator can say how many tesseras are healthy, degraded or lost at
 * any instant without asking the code under test.
 *
 * - *healthy*: every target placement exists on a node that has not left
 *   (Small: at least `smallReplicas` copies; others: every shard index);
 *   nodes that are only away count, their disks still hold the bytes;
 * - *degraded*: not healthy, but the shards that exist suffice to rebuild;
 * - *lost*: fewer than `dataShards` distinct shards exist anywhere but
 *   the owner's own disk;
 * - *unavailable* (counted apart): not lost, but too few shards are on
 *   online nodes to read it right now.
 *
 * @module
 */
import {
  type FragmentationTier,
  type FragmentId,
  type FragmentStore,
  type IoOptions,
  isWholeCopy,
  type TesseraId,
  TIER_SHAPES,
} from "../lib/core/mod.ts";
import { ForwardingStore } from "../lib/memory/mod.ts";

/** A tessera's status in the census. */
export type CensusStatus = "healthy" | "degraded" | "lost";

/** Counts by status of the tesseras being tracked. */
export interface CensusCounts {
  /** Fully replicated (on nodes online or away). */
  healthy: number;
  /** Recoverable but short of its target. */
  degraded: number;
  /** Not recoverable from the network. */
  lost: number;
  /** Degraded ones that cannot be read right now (too few shards online). */
  unavailable: number;
}

interface TesseraTruth {
  readonly id: TesseraId;
  readonly shardCount: number;
  /** Kept as whole copies (`isWholeCopy`): `target` copies of shard 0. */
  readonly wholeCopy: boolean;
  readonly need: number;
  readonly target: number;
  shardSize: number;
  readonly exist: Uint16Array;
  readonly online: Uint16Array;
  existDistinct: number;
  onlineDistinct: number;
  active: boolean;
  group: string;
  status: CensusStatus;
  unavailable: boolean;
  everLost: boolean;
  /** Its owner left for good: nobody re-seeds it from a full copy. */
  orphaned: boolean;
  /** Unrecoverable with its owner gone: counted once, it never comes back. */
  lostForGood: boolean;
}

/** Options of {@linkcode ShardCensus}. */
export interface ShardCensusOptions {
  /** Copies a Small tessera should have (r = 7). */
  readonly smallReplicas: number;
  /** Whether node `index` is online now. */
  readonly isOnline: (index: number) => boolean;
}

/**
 * The census of shards across the simulated network.
 *
 * @example
 * ```ts
 * import { MemoryFragmentStore } from "../lib/memory/mod.ts";
 * declare const tesseraId: string;
 * const census = new ShardCensus({ smallReplicas: 7, isOnline: () => true });
 * const store = census.wrap(0, new MemoryFragmentStore());
 * // … after placement:
 * census.activate(tesseraId, "fair", 24);
 * census.counts; // { healthy, degraded, lost, unavailable }
 * ```
 */
export class ShardCensus {
  /** Live counts over active tesseras. */
  /** Per tessera, the nodes whose stewards keep a copy of it. */
  readonly #keptBy = new Map<TesseraId, Set<number>>();
  /** The same, by node: what each node's last report said it keeps. */
  readonly #keptOf = new Map<number, Set<TesseraId>>();
  readonly counts: CensusCounts = {
    healthy: 0,
    degraded: 0,
    lost: 0,
    unavailable: 0,
  };
  /** Bytes of all shards on nodes that still exist. */
  storedBytes = 0;
  /**
   * Of `storedBytes`, copies beyond the target (a second copy of a shard,
   * an eighth of a Small tessera): what repair placed while the holder it
   * replaced was only away, and nothing removes when that holder returns.
   */
  surplusBytes = 0;
  /**
   * Tesseras unrecoverable from the holders whose owner has left for good
   * too: nobody has the bytes, so they never come back.
   */
  lostForGood = 0;
  /** Tesseras that were lost at some point (even if re-seeded later). */
  lostEver = 0;
  /** Tesseras of each group that were lost at some point. */
  readonly lostEverByGroup = new Map<string, number>();
  /** Called with the id whenever an active tessera changes status or availability. */
  onChange: ((id: TesseraId) => void) | null = null;
  /**
   * Called with the id whenever an active tessera's shards change at all
   * (stored, deleted, a holder away, back or gone), status or not.
   */
  onShards: ((id: TesseraId) => void) | null = null;
  readonly #smallReplicas: number;
  readonly #isOnline: (index: number) => boolean;
  readonly #tesseras = new Map<TesseraId, TesseraTruth>();
  readonly #holdings = new Map<number, Map<TesseraId, Set<number>>>();
  readonly #redundancySums = new Map<
    string,
    { sum: number; samples: number }
  >();

  /** @param options see {@linkcode ShardCensusOptions} */
  constructor(options: ShardCensusOptions) {
    this.#smallReplicas = options.smallReplicas;
    this.#isOnline = options.isOnline;
  }

  /**
   * Copies of shards on nodes that still exist, by shard size in bytes
   * (what the holders prove in every sweep: a benchmark measures the
   * cost of the proofs at these sizes).
   */
  shardSizes(): Map<number, number> {
    const copies = new Map<number, number>();
    for (const t of this.#tesseras.values()) {
      let n = 0;
      for (const c of t.exist) n += c;
      if (n > 0) copies.set(t.shardSize, (copies.get(t.shardSize) ?? 0) + n);
    }
    return copies;
  }

  /** Tesseras counted (activated). */
  get size(): number {
    let n = 0;
    for (const t of this.#tesseras.values()) if (t.active) n++;
    return n;
  }

  /**
   * Wrap node `index`'s store so that every store and delete updates the
   * census. Everything else passes through.
   */
  wrap(index: number, inner: FragmentStore): FragmentStore {
    return new CensusStore(this, index, inner);
  }

  /**
   * Start counting a tessera (after its first placement), in a `group`
   * (e.g. `fair` or `freeRider`) for redundancy comparisons.
   */
  activate(id: TesseraId, group: string, shardCount: number): void {
    const t = this.#tesseras.get(id) ??
      this.#entry({ tesseraId: id, shardCount, index: 0, checksum: "" }, 0);
    if (t.active) return;
    t.active = true;
    t.group = group;
    t.status = this.#statusOf(t);
    t.unavailable = this.#unavailableOf(t);
    this.counts[t.status]++;
    if (t.unavailable) this.counts.unavailable++;
    if (t.status === "lost" && !t.everLost) this.#markLost(t);
    this.#checkLostForGood(t);
    this.onChange?.(t.id);
    this.onShards?.(t.id);
  }

  /**
   * The owner of `id` left for good: from now on, unrecoverable means lost
   * for good.
   */
  orphan(id: TesseraId): void {
    const t = this.#tesseras.get(id);
    if (!t || t.orphaned) return;
    t.orphaned = true;
    this.#checkLostForGood(t);
  }

  /**
   * Node `index`'s stewards keep shards of exactly `ids` now (its sweep
   * report, steward_copy.ts): `dataShards` verified shards each, off the
   * fragment store. While a present node keeps a copy, an orphan too
   * short on its holders is not lost for good: that steward can rebuild it.
   */
  keeps(index: number, ids: readonly TesseraId[]): void {
    const want = new Set(ids);
    // Every node reports at every sweep: only this node's last report is
    // walked, not every kept tessera of the network.
    for (const id of this.#keptOf.get(index) ?? []) {
      const nodes = this.#keptBy.get(id)!;
      if (want.has(id)) continue;
      nodes.delete(index);
      if (nodes.size > 0) continue;
      this.#keptBy.delete(id);
      const t = this.#tesseras.get(id);
      if (t) this.#checkLostForGood(t);
    }
    for (const id of want) {
      let nodes = this.#keptBy.get(id);
      if (!nodes) this.#keptBy.set(id, nodes = new Set());
      nodes.add(index);
    }
    if (want.size > 0) this.#keptOf.set(index, want);
    else this.#keptOf.delete(index);
  }

  #checkLostForGood(t: TesseraTruth): void {
    if (t.lostForGood || !t.active || !t.orphaned || t.status !== "lost") {
      return;
    }
    if (this.#keptBy.has(t.id)) return;
    t.lostForGood = true;
    this.lostForGood++;
  }

  /**
   * What `nodes` hold of each active tessera, in id order: per shard
   * index, the copies that index should keep apart from them to count as
   * restored (1; Small: its copies now, at most the target).
   */
  heldBy(nodes: readonly number[]): Map<TesseraId, Map<number, number>> {
    const out = new Map<TesseraId, Map<number, number>>();
    for (const n of nodes) {
      for (const [id, indices] of this.#holdings.get(n) ?? []) {
        const t = this.#tesseras.get(id);
        if (!t?.active) continue;
        let took = out.get(id);
        if (!took) out.set(id, took = new Map());
        for (const i of indices) {
          took.set(i, t.wholeCopy ? Math.min(t.exist[i], t.target) : 1);
        }
      }
    }
    return new Map([...out].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Whether each shard index in `took` (see {@linkcode ShardCensus.heldBy})
   * has its copies again apart from those on the nodes of `nodes` that
   * are offline now: they came back, or the shards were placed again.
   */
  restoredWithout(
    id: TesseraId,
    took: ReadonlyMap<number, number>,
    nodes: readonly number[],
  ): boolean {
    const t = this.#tesseras.get(id);
    if (!t) return false;
    const down = new Map<number, number>();
    for (const n of nodes) {
      if (this.#isOnline(n)) continue;
      for (const i of this.#holdings.get(n)?.get(id) ?? []) {
        down.set(i, (down.get(i) ?? 0) + 1);
      }
    }
    for (const [i, need] of took) {
      if (t.exist[i] - (down.get(i) ?? 0) < need) return false;
    }
    return true;
  }

  #markLost(t: TesseraTruth): void {
    t.everLost = true;
    this.lostEver++;
    this.lostEverByGroup.set(
      t.group,
      (this.lostEverByGroup.get(t.group) ?? 0) + 1,
    );
  }

  /** Whether the census knows the tessera (some shard was ever stored). */
  has(id: TesseraId): boolean {
    return this.#tesseras.has(id);
  }

  /** Status of one tessera, or `undefined` when unknown or inactive. */
  status(id: TesseraId): CensusStatus | undefined {
    const t = this.#tesseras.get(id);
    return t?.active ? t.status : undefined;
  }

  /**
   * Fraction of the target redundancy that exists, 1 = fully replicated:
   * Small `min(copies, r) / r`, others distinct shards / shard count.
   */
  redundancy(id: TesseraId): number {
    const t = this.#tesseras.get(id);
    if (!t) return 0;
    return t.wholeCopy
      ? Math.min(t.exist[0], t.target) / t.target
      : t.existDistinct / t.shardCount;
  }

  /** Mean {@linkcode ShardCensus.redundancy} of active tesseras in `group` (NaN when none). */
  meanRedundancy(group: string): number {
    let sum = 0, n = 0;
    for (const t of this.#tesseras.values()) {
      if (!t.active || t.group !== group) continue;
      sum += this.redundancy(t.id);
      n++;
    }
    return n === 0 ? Number.NaN : sum / n;
  }

  /**
   * Record each group's {@linkcode ShardCensus.meanRedundancy} now, for
   * {@linkcode ShardCensus.redundancyOverTime} (call once per sample).
   */
  sampleRedundancy(): void {
    const groups = new Set<string>();
    for (const t of this.#tesseras.values()) if (t.active) groups.add(t.group);
    for (const group of groups) {
      const acc = this.#redundancySums.get(group) ?? { sum: 0, samples: 0 };
      acc.sum += this.meanRedundancy(group);
      acc.samples++;
      this.#redundancySums.set(group, acc);
    }
  }

  /**
   * Mean of `group`'s redundancy over the samples taken while it had
   * tesseras (NaN when none): how much of the run its tesseras spent
   * short of their copies, not just where they stand at the end.
   */
  redundancyOverTime(group: string): number {
    const acc = this.#redundancySums.get(group);
    return acc ? acc.sum / acc.samples : Number.NaN;
  }

  /** Whether an active tessera is healthy and readable now. */
  isGood(id: TesseraId): boolean {
    const t = this.#tesseras.get(id);
    return t !== undefined && t.active && t.status === "healthy" &&
      !t.unavailable;
  }

  /** Active tesseras that are not healthy or not readable now, in id order. */
  bad(): TesseraId[] {
    const out: TesseraId[] = [];
    for (const t of this.#tesseras.values()) {
      if (t.active && (t.status !== "healthy" || t.unavailable)) out.push(t.id);
    }
    return out.sort();
  }

  /** Active tesseras by shape: `[holders, needed, count]` per shard count. */
  shapes(): [number, number, number][] {
    const by = new Map<number, [number, number, number]>();
    for (const t of this.#tesseras.values()) {
      if (!t.active) continue;
      const e = by.get(t.shardCount) ?? [t.target, t.need, 0];
      e[2]++;
      by.set(t.shardCount, e);
    }
    return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  }

  /** Active tessera ids with their status, in id order. */
  list(): { id: TesseraId; status: CensusStatus; group: string }[] {
    return [...this.#tesseras.values()].filter((t) => t.active)
      .map((t) => ({ id: t.id, status: t.status, group: t.group }))
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  /** Node `index` came up or went down: its shards' online counts change. */
  setOnline(index: number, online: boolean): void {
    const held = this.#holdings.get(index);
    if (!held) return;
    const d = online ? 1 : -1;
    for (const [id, indices] of held) {
      const t = this.#tesseras.get(id)!;
      for (const i of indices) this.#bumpOnline(t, i, d);
      this.#refresh(t);
    }
  }

  /** Node `index` left for good: everything it held is gone. */
  nodeGone(index: number, wasOnline: boolean): void {
    this.keeps(index, []);
    const held = this.#holdings.get(index);
    if (!held) return;
    this.#holdings.delete(index);
    for (const [id, indices] of held) {
      const t = this.#tesseras.get(id)!;
      for (const i of indices) {
        this.#bumpExist(t, i, -1);
        if (wasOnline) this.#bumpOnline(t, i, -1);
      }
      this.#refresh(t);
    }
  }

  /** Internal (from the store decorator): node `index` now holds a shard. */
  stored(index: number, id: FragmentId, size: number): void {
    let t = this.#tesseras.get(id.tesseraId);
    if (!t) t = this.#entry(id, size);
    if (t.shardSize === 0) t.shardSize = size;
    let held = this.#holdings.get(index);
    if (!held) this.#holdings.set(index, held = new Map());
    let set = held.get(id.tesseraId);
    if (!set) held.set(id.tesseraId, set = new Set());
    if (set.has(id.index)) return;
    set.add(id.index);
    this.#bumpExist(t, id.index, 1);
    if (this.#isOnline(index)) this.#bumpOnline(t, id.index, 1);
    this.#refresh(t);
  }

  /** Internal (from the store decorator): node `index` dropped shards. */
  deleted(index: number, tesseraId: TesseraId, shard?: number): void {
    const set = this.#holdings.get(index)?.get(tesseraId);
    const t = this.#tesseras.get(tesseraId);
    if (!set || !t) return;
    const online = this.#isOnline(index);
    for (const i of shard === undefined ? [...set] : [shard]) {
      if (!set.delete(i)) continue;
      this.#bumpExist(t, i, -1);
      if (online) this.#bumpOnline(t, i, -1);
    }
    if (set.size === 0) this.#holdings.get(index)!.delete(tesseraId);
    this.#refresh(t);
  }

  #entry(id: FragmentId, size: number): TesseraTruth {
    // A shard tells its count, not its tier: the tier of that shape.
    const tiers = Object.keys(TIER_SHAPES) as FragmentationTier[];
    const tier =
      tiers.find((k) =>
        TIER_SHAPES[k].dataShards + TIER_SHAPES[k].parityShards ===
          id.shardCount
      ) ?? "large";
    const wholeCopy = isWholeCopy({ tier, shardCount: id.shardCount });
    const t: TesseraTruth = {
      id: id.tesseraId,
      shardCount: id.shardCount,
      wholeCopy,
      need: TIER_SHAPES[tier].dataShards,
      target: wholeCopy ? this.#smallReplicas : id.shardCount,
      shardSize: size,
      exist: new Uint16Array(id.shardCount),
      online: new Uint16Array(id.shardCount),
      existDistinct: 0,
      onlineDistinct: 0,
      active: false,
      group: "",
      status: "lost",
      unavailable: false,
      everLost: false,
      orphaned: false,
      lostForGood: false,
    };
    this.#tesseras.set(id.tesseraId, t);
    return t;
  }

  #bumpExist(t: TesseraTruth, i: number, d: number): void {
    const before = t.exist[i];
    t.exist[i] = before + d;
    if (before === 0 && d > 0) t.existDistinct++;
    if (before === 1 && d < 0) t.existDistinct--;
    this.storedBytes += d * t.shardSize;
    const cap = t.wholeCopy ? t.target : 1;
    const extra = Math.max(0, before + d - cap) - Math.max(0, before - cap);
    this.surplusBytes += extra * t.shardSize;
  }

  #bumpOnline(t: TesseraTruth, i: number, d: number): void {
    const before = t.online[i];
    t.online[i] = before + d;
    if (before === 0 && d > 0) t.onlineDistinct++;
    if (before === 1 && d < 0) t.onlineDistinct--;
  }

  #statusOf(t: TesseraTruth): CensusStatus {
    if (t.wholeCopy) {
      if (t.exist[0] === 0) return "lost";
      return t.exist[0] >= t.target ? "healthy" : "degraded";
    }
    if (t.existDistinct < t.need) return "lost";
    return t.existDistinct === t.shardCount ? "healthy" : "degraded";
  }

  #unavailableOf(t: TesseraTruth): boolean {
    return t.status !== "lost" && t.onlineDistinct < t.need;
  }

  #refresh(t: TesseraTruth): void {
    if (!t.active) return;
    const status = this.#statusOf(t);
    const unavailable = this.#unavailableOf(t);
    if (status !== t.status || unavailable !== t.unavailable) {
      this.counts[t.status]--;
      this.counts[status]++;
      if (t.unavailable) this.counts.unavailable--;
      if (unavailable) this.counts.unavailable++;
      t.status = status;
      t.unavailable = unavailable;
      if (status === "lost" && !t.everLost) this.#markLost(t);
      this.#checkLostForGood(t);
      this.onChange?.(t.id);
    }
    this.onShards?.(t.id);
  }
}

/** The decorator: the real store underneath, the census told of changes. */
class CensusStore extends ForwardingStore {
  constructor(
    readonly census: ShardCensus,
    readonly index: number,
    inner: FragmentStore,
  ) {
    super(inner);
  }

  override async store(
    id: FragmentId,
    data: Uint8Array,
    options?: IoOptions,
  ): Promise<void> {
    await this.inner.store(id, data, options);
    this.census.stored(this.index, id, data.length);
  }

  override async delete(
    tesseraId: TesseraId,
    index?: number,
    options?: IoOptions,
  ): Promise<void> {
    await this.inner.delete(tesseraId, index, options);
    this.census.deleted(this.index, tesseraId, index);
  }
}
