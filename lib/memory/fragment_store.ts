/**
 * An in-memory {@linkcode FragmentStore}: exact (it verifies checksums as
 * the disk store does) and cheap, for unit tests and the simulator.
 * Linked to a {@linkcode MemoryReciprocityLedger} it also offers
 * `storeForPeer` and releases credits on delete, with the same rules as
 * the SQLite store (one synchronous step stands for one transaction).
 * Each shard of more than one 8 KiB group keeps its outboard beside it
 * (docs/proofs.md), built as it is stored (or on first use when stores
 * are not verified), so chunk proofs take the same path as on disk.
 *
 * @module
 */
import {
  type FragmentId,
  type FragmentStore,
  type GroupProofData,
  type IoOptions,
  type PeerId,
  type StoreForPeerOptions,
  type StoreForPeerResult,
  type TesseraId,
  TesserasError,
  toHex,
} from "../core/mod.ts";
import {
  blake3Hex,
  bytesReadAt,
  GROUP_BYTES,
  outboardOf,
  proveGroups,
  verifyGroupProofs,
} from "../codec/mod.ts";
import type { MemoryReciprocityLedger } from "./ledger.ts";

/** Options of {@linkcode MemoryFragmentStore}. */
export interface MemoryFragmentStoreOptions {
  /**
   * Hash stored bytes and reject a checksum mismatch, as the disk store
   * does (default `true`). The simulator may turn it off when the caller
   * has verified the bytes already.
   */
  readonly verifyOnStore?: boolean;
  /**
   * Copy bytes on store and read so callers cannot alias stored data
   * (default `true`).
   */
  readonly copy?: boolean;
  /** Capacity in bytes reported by {@linkcode MemoryFragmentStore.freeSpace} (default unlimited). */
  readonly capacityBytes?: number;
  /**
   * The node's ledger: when given, the store offers `storeForPeer`
   * (shard and credit in one step) and `delete` releases the credit of
   * shards stored that way, as the SQLite store does with the ledger in
   * its database. Without it the caller credits the ledger itself.
   */
  readonly ledger?: MemoryReciprocityLedger;
}

interface Entry {
  readonly id: FragmentId;
  readonly data: Uint8Array;
  sender: PeerId | null;
  /** The shard's outboard; `null` until built (stores not verified). */
  outboard: Uint8Array | null;
  /**
   * The bytes hashed to the checksum when the outboard was built, and
   * nothing touched them since (only {@linkcode MemoryFragmentStore.corrupt}
   * does): their proofs need no check before they go out.
   */
  intact: boolean;
}

/**
 * Shards held in a map, keyed by tessera then index.
 *
 * @example
 * ```ts
 * import type { FragmentId } from "../core/mod.ts";
 * declare const fragmentId: FragmentId;
 * declare const bytes: Uint8Array;
 * const store = new MemoryFragmentStore();
 * await store.store(fragmentId, bytes);
 * const back = await store.read(fragmentId.tesseraId, fragmentId.index);
 * ```
 */
export class MemoryFragmentStore implements FragmentStore {
  readonly #byTessera = new Map<TesseraId, Map<number, Entry>>();
  readonly #verify: boolean;
  readonly #copy: boolean;
  readonly #capacity: number;
  readonly #ledger: MemoryReciprocityLedger | undefined;
  /** Bytes held per recorded sender. */
  readonly #attributed = new Map<PeerId, number>();
  #total = 0;
  /**
   * The tessera looked up last and its shards: a holder answering a
   * challenge lists a tessera's shards and then reads them, so the read
   * skips a lookup among every tessera held.
   */
  #lastId: TesseraId | null = null;
  #lastShards: Map<number, Entry> | undefined = undefined;

  /**
   * {@linkcode FragmentStore.storeForPeer}: present only when a ledger is
   * linked (`options.ledger`).
   */
  readonly storeForPeer?: (
    id: FragmentId,
    data: Uint8Array,
    options: StoreForPeerOptions,
  ) => Promise<StoreForPeerResult>;

  /**
   * An empty store.
   *
   * @param options see {@linkcode MemoryFragmentStoreOptions}
   */
  constructor(options: MemoryFragmentStoreOptions = {}) {
    this.#verify = options.verifyOnStore ?? true;
    this.#copy = options.copy ?? true;
    this.#capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY;
    this.#ledger = options.ledger;
    if (this.#ledger) {
      this.storeForPeer = (id, data, o) => {
        try {
          return Promise.resolve(this.#put(id, data, o, o.sender));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    }
  }

  /** Store a shard; a second store of the same shard is a no-op. */
  store(
    id: FragmentId,
    data: Uint8Array,
    options: IoOptions = {},
  ): Promise<void> {
    try {
      this.#put(id, data, options, undefined);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #shardsOf(tesseraId: TesseraId): Map<number, Entry> | undefined {
    if (tesseraId === this.#lastId) return this.#lastShards;
    const shards = this.#byTessera.get(tesseraId);
    this.#lastId = tesseraId;
    this.#lastShards = shards;
    return shards;
  }

  /** Store (and credit `sender`, when linked) in one synchronous step. */
  #put(
    id: FragmentId,
    data: Uint8Array,
    options: IoOptions,
    sender: PeerId | undefined,
  ): StoreForPeerResult {
    options.signal?.throwIfAborted();
    const shards = this.#byTessera.get(id.tesseraId);
    const held = shards?.get(id.index);
    if (held) return { stored: false, credited: this.#claim(held, sender) };
    // One pass gives the checksum and the outboard.
    const built = this.#verify ? outboardOf(data) : null;
    if (built && toHex(built.root) !== id.checksum) {
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `shard ${id.index} of ${id.tesseraId} does not hash to its checksum: refused`,
      );
    }
    const entry: Entry = {
      // Frozen, so lists can hand out the record itself, not a copy.
      id: Object.freeze({ ...id }),
      data: this.#copy ? data.slice() : data,
      sender: sender ?? null,
      outboard: built?.outboard ?? null,
      intact: built !== null,
    };
    if (shards) shards.set(id.index, entry);
    else {
      this.#byTessera.set(id.tesseraId, new Map([[id.index, entry]]));
      this.#lastId = null;
    }
    this.#total += data.length;
    if (sender === undefined || !this.#ledger) {
      return { stored: true, credited: 0 };
    }
    this.#attribute(sender, data.length);
    this.#ledger.recordStoredForThem(sender, data.length);
    return { stored: true, credited: data.length };
  }

  /** A held shard without a sender re-pushed by `sender`: as in SQLite. */
  #claim(entry: Entry, sender: PeerId | undefined): number {
    if (sender === undefined || !this.#ledger || entry.sender !== null) {
      return 0;
    }
    entry.sender = sender;
    const size = entry.data.length;
    this.#attribute(sender, size);
    const credit = this.#ledger.peek(sender)?.bytesStoredForThem ?? 0;
    const due = Math.min(
      size,
      Math.max(0, (this.#attributed.get(sender) ?? 0) - credit),
    );
    if (due > 0) this.#ledger.recordStoredForThem(sender, due);
    return due;
  }

  #attribute(sender: PeerId, bytes: number): void {
    const n = (this.#attributed.get(sender) ?? 0) + bytes;
    if (n === 0) this.#attributed.delete(sender);
    else this.#attributed.set(sender, n);
  }

  /** Forget one entry's bytes; release its sender's credit when linked. */
  #drop(entry: Entry): void {
    this.#total -= entry.data.length;
    if (entry.sender === null || !this.#ledger) return;
    const size = entry.data.length;
    this.#attribute(entry.sender, -size);
    const credit = this.#ledger.peek(entry.sender)?.bytesStoredForThem ?? 0;
    const release = Math.min(size, Math.max(0, credit));
    if (release > 0) this.#ledger.recordStoredForThem(entry.sender, -release);
  }

  /** The shard's bytes, or `null`. */
  read(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    options.signal?.throwIfAborted();
    const entry = this.#shardsOf(tesseraId)?.get(index);
    if (!entry) return Promise.resolve(null);
    return Promise.resolve(this.#copy ? entry.data.slice() : entry.data);
  }

  /** Remove one shard, or every shard of the tessera. */
  delete(
    tesseraId: TesseraId,
    index?: number,
    options: IoOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const shards = this.#byTessera.get(tesseraId);
    if (!shards) return Promise.resolve();
    this.#lastId = null;
    if (index === undefined) {
      for (const e of shards.values()) this.#drop(e);
      this.#byTessera.delete(tesseraId);
    } else {
      const e = shards.get(index);
      if (e) {
        this.#drop(e);
        shards.delete(index);
        if (shards.size === 0) this.#byTessera.delete(tesseraId);
      }
    }
    return Promise.resolve();
  }

  /** Shards held, ordered by tessera id then index. */
  list(tesseraId?: TesseraId, options: IoOptions = {}): Promise<FragmentId[]> {
    options.signal?.throwIfAborted();
    const out: FragmentId[] = [];
    if (tesseraId !== undefined) {
      // Holders answer a challenge per tessera: no key list, no sort of one.
      const shards = this.#shardsOf(tesseraId);
      if (shards) listShards(shards, out);
      return Promise.resolve(out);
    }
    for (const t of [...this.#byTessera.keys()].sort()) {
      listShards(this.#byTessera.get(t)!, out);
    }
    return Promise.resolve(out);
  }

  /** The tesseras of which a shard is held, in no particular order. */
  tesserasHeld(options: IoOptions = {}): Promise<TesseraId[]> {
    options.signal?.throwIfAborted();
    return Promise.resolve([...this.#byTessera.keys()]);
  }

  /** Whether the stored bytes still hash to the stored checksum (`false` when absent). */
  verify(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<boolean> {
    options.signal?.throwIfAborted();
    const entry = this.#byTessera.get(tesseraId)?.get(index);
    if (!entry) return Promise.resolve(false);
    return Promise.resolve(blake3Hex(entry.data) === entry.id.checksum);
  }

  /**
   * Chunk proofs of `groups` of a held shard (or of those `groups(size)`
   * picks), checked against its checksum, with its size; `null` when not
   * held. A damaged outboard is rebuilt; rejects `CHECKSUM_MISMATCH` when
   * the bytes themselves no longer hash to the checksum.
   */
  async proveGroups(
    tesseraId: TesseraId,
    index: number,
    groups: readonly number[] | ((size: number) => readonly number[]),
    options: IoOptions = {},
  ): Promise<
    {
      size: number;
      proofs: GroupProofData[];
      cvs?: readonly (Uint8Array | string)[];
    } | null
  > {
    options.signal?.throwIfAborted();
    const entry = this.#shardsOf(tesseraId)?.get(index);
    if (!entry) return null;
    const size = entry.data.length;
    const picked = typeof groups === "function" ? groups(size) : groups;
    entry.outboard ??= this.#rebuild(entry);
    // Intact bytes of one group (the simulator's shards): the proof is
    // the shard as it lies, and its group chains to the checksum itself.
    if (entry.intact && size <= GROUP_BYTES && isOnlyGroup(picked)) {
      const bytes = this.#copy ? entry.data.slice() : entry.data;
      return {
        size,
        proofs: [{ group: 0, bytes, siblings: NO_SIBLINGS }],
        cvs: [entry.id.checksum],
      };
    }
    for (let attempt = 0;; attempt++) {
      const proofs = await proveGroups({
        size,
        shard: bytesReadAt(entry.data),
        outboard: bytesReadAt(entry.outboard),
      }, picked);
      // Bytes in memory do not rot as a disk does: proofs of bytes that
      // hashed to the checksum and were not touched since are checked at
      // the requester, not here as well.
      if (entry.intact) return { size, proofs };
      try {
        const cvs = verifyGroupProofs(proofs, {
          size,
          checksum: entry.id.checksum,
          groups: picked,
        });
        return { size, proofs, cvs };
      } catch (err) {
        if (attempt > 0) throw err;
        // A damaged outboard is replaced; damaged bytes throw here.
        entry.outboard = this.#rebuild(entry);
      }
    }
  }

  /**
   * The outboard kept with a held shard (built on first use when stores
   * are not verified), `null` when not held; rejects `CHECKSUM_MISMATCH`
   * when it has to be built and the bytes no longer hash to the checksum.
   */
  readOutboard(
    tesseraId: TesseraId,
    index: number,
    options: IoOptions = {},
  ): Promise<Uint8Array | null> {
    options.signal?.throwIfAborted();
    const entry = this.#shardsOf(tesseraId)?.get(index);
    if (!entry) return Promise.resolve(null);
    try {
      entry.outboard ??= this.#rebuild(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve(
      this.#copy ? entry.outboard.slice() : entry.outboard,
    );
  }

  /** The entry's outboard from its bytes; refuses damaged bytes. */
  #rebuild(entry: Entry): Uint8Array {
    const { root, outboard } = outboardOf(entry.data);
    if (toHex(root) !== entry.id.checksum) {
      throw new TesserasError(
        "CHECKSUM_MISMATCH",
        `shard ${entry.id.index} of ${entry.id.tesseraId} no longer hashes to its checksum: damaged`,
      );
    }
    entry.intact = true;
    return outboard;
  }

  /** Total bytes of all shards held. */
  totalBytes(options: IoOptions = {}): Promise<number> {
    options.signal?.throwIfAborted();
    return Promise.resolve(this.#total);
  }

  /** Capacity minus bytes held (unlimited by default). */
  freeSpace(): number {
    return this.#capacity - this.#total;
  }

  /**
   * Fault injection: flip one byte of a stored shard without touching its
   * checksum, as silent disk corruption would. Returns `false` when absent.
   */
  corrupt(tesseraId: TesseraId, index: number, offset = 0): boolean {
    const entry = this.#byTessera.get(tesseraId)?.get(index);
    if (!entry || entry.data.length === 0) return false;
    entry.data[offset % entry.data.length] ^= 0xff;
    entry.intact = false;
    return true;
  }

  /**
   * Fault injection: forget everything, as a wiped disk would (a linked
   * ledger releases the credits, as deletes would).
   */
  clear(): void {
    for (const shards of this.#byTessera.values()) {
      for (const e of shards.values()) this.#drop(e);
    }
    this.#byTessera.clear();
    this.#lastId = null;
    this.#total = 0;
  }
}

const NO_SIBLINGS = new Uint8Array(0);

/** Whether `picked` asks for group 0 alone. */
function isOnlyGroup(picked: readonly number[]): boolean {
  return picked.length === 1 && picked[0] === 0;
}

/** Copies of the ids of `shards`, by index, appended to `out`. */
function listShards(shards: Map<number, Entry>, out: FragmentId[]): void {
  if (shards.size === 1) {
    for (const e of shards.values()) out.push(e.id);
    return;
  }
  const indices = [...shards.keys()].sort((a, b) => a - b);
  for (const i of indices) out.push(shards.get(i)!.id);
}
