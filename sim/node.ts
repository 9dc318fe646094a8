/**
 * One simulated node: the real {@linkcode ReplicationService} and
 * {@linkcode RepairLoop} over the in-memory stores of `lib/memory` and the
 * simulated network's {@linkcode DhtPort}. Only the ports are simulated.
 *
 * @module
 */
import type {
  FragmentStore,
  ReplicationConfig,
  TierThresholds,
} from "../lib/core/mod.ts";
import {
  DroppingStore,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryManifestStore,
  MemoryReciprocityLedger,
} from "../lib/memory/mod.ts";
import {
  RepairLoop,
  ReplicationService,
  type SweepReport,
} from "../lib/replication/mod.ts";
import type { ShardCensus } from "./census.ts";
import type { VirtualClock } from "./clock.ts";
import type { SimNetwork } from "./network.ts";
import type { OfferLog } from "./offers.ts";
import type { SimRng } from "./rng.ts";

/** How a node behaves. */
export type NodeKind = "fair" | "refuse" | "drop";

/** Everything a {@linkcode SimNode} is built from. */
export interface SimNodeInit {
  /** Its index in the network. */
  readonly index: number;
  /** The network (gives the DHT port and identity). */
  readonly net: SimNetwork;
  /** Ground truth of shards. */
  readonly census: ShardCensus;
  /** Virtual time. */
  readonly clock: VirtualClock;
  /** The node's own random stream. */
  readonly rng: SimRng;
  /** Replication settings (already scaled). */
  readonly config: Partial<ReplicationConfig>;
  /** Tier thresholds (already scaled). */
  readonly thresholds: TierThresholds;
  /** Disk capacity in (scaled) bytes. */
  readonly capacityBytes: number;
  /** The service's `unreachableGraceMs`. */
  readonly graceMs: number;
  /** Fair, or a free rider that refuses or drops. */
  readonly kind: NodeKind;
  /** Re-hash shards held for others in each sweep (default false). */
  readonly verifyHeld?: boolean;
  /** Called with each repair sweep's report. */
  readonly onSweep?: (index: number, report: SweepReport) => void;
  /** Records what placement is offered (the subnet check's room). */
  readonly offers?: OfferLog;
}

/**
 * A node of the simulation.
 *
 * @example
 * ```ts
 * import type { ReplicationConfig, TierThresholds } from "../lib/core/mod.ts";
 * import type { ShardCensus, SimNetwork, SimRng, VirtualClock } from "./mod.ts";
 * declare const index: number;
 * declare const net: SimNetwork;
 * declare const census: ShardCensus;
 * declare const clock: VirtualClock;
 * declare const rng: SimRng;
 * declare const config: Partial<ReplicationConfig>;
 * declare const thresholds: TierThresholds;
 * declare const capacityBytes: number;
 * const node = new SimNode({ index, net, census, clock, rng, config,
 *   thresholds, capacityBytes, graceMs: 0, kind: "fair" });
 * node.startLoop();
 * ```
 */
export class SimNode {
  readonly index: number;
  readonly kind: NodeKind;
  /** The raw store (the census decorator and free-rider behaviour wrap it). */
  readonly store: MemoryFragmentStore;
  readonly ledger: MemoryReciprocityLedger;
  readonly holders: MemoryHolderRegistry;
  readonly blobs: MemoryBlobStore;
  readonly service: ReplicationService;
  /** Whether the node owns tesseras. */
  owner = false;
  readonly #clock: VirtualClock;
  readonly #rng: SimRng;
  readonly #onSweep?: (index: number, report: SweepReport) => void;
  readonly #verifyHeld: boolean;
  #loop: RepairLoop | null = null;

  /** @param init see {@linkcode SimNodeInit} */
  constructor(init: SimNodeInit) {
    this.index = init.index;
    this.kind = init.kind;
    this.#clock = init.clock;
    this.#rng = init.rng;
    this.#onSweep = init.onSweep;
    this.#verifyHeld = init.verifyHeld ?? false;
    const now = () => init.clock.now();
    // Bytes are shared, not copied: nobody mutates them (the service
    // verifies every pushed shard against its checksum before storing).
    this.store = new MemoryFragmentStore({
      verifyOnStore: false,
      copy: false,
      capacityBytes: init.capacityBytes,
    });
    this.ledger = new MemoryReciprocityLedger({ now });
    this.holders = new MemoryHolderRegistry({ now });
    this.blobs = new MemoryBlobStore({ copy: false });
    let fragments: FragmentStore = init.census.wrap(init.index, this.store);
    if (init.kind === "drop") fragments = new DroppingStore(fragments);
    const store = this.store;
    this.service = new ReplicationService({
      dht: init.offers?.wrap(init.net.dht(init.index)) ??
        init.net.dht(init.index),
      fragments,
      ledger: this.ledger,
      blobs: this.blobs,
      holders: this.holders,
      identity: init.net.identity(init.index),
      clock: init.clock,
      rng: init.rng,
      config: init.config,
      thresholds: init.thresholds,
      freeSpace: init.kind === "refuse" ? () => 0 : () => store.freeSpace(),
      unreachableGraceMs: init.graceMs,
      manifests: new MemoryManifestStore({ copy: false }),
      manifestDecoder: init.net.manifestDecoder,
      stewardRegistry: new MemoryHolderRegistry({ now }),
    });
    init.net.attach(init.index, this.service);
  }

  /** Whether the repair loop runs. */
  get running(): boolean {
    return this.#loop !== null;
  }

  /** Start the repair loop (a daemon start: first sweep within the jitter). */
  startLoop(): void {
    if (this.#loop) return;
    this.#loop = new RepairLoop(this.service, {
      clock: this.#clock,
      rng: this.#rng,
      sweep: { verifyHeld: this.#verifyHeld },
      onSweep: this.#onSweep
        ? (report) => this.#onSweep!(this.index, report)
        : undefined,
    });
    this.#loop.start();
  }

  /** Stop the repair loop (the machine went down); resolves when stopped. */
  stopLoop(): Promise<void> {
    const loop = this.#loop;
    this.#loop = null;
    return loop ? loop.stop() : Promise.resolve();
  }
}
