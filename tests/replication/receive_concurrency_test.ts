/**
 * A holder stores several shards of one sender at once (the write, fsync
 * and commit of one do not hold up the next), and its deficit check still
 * counts the shards being stored: two pushed at once that fit the
 * tolerance only one at a time are not both taken. The store is the real
 * memory store linked to its ledger; only its `storeForPeer` is held at a
 * gate so the test sees what runs at once. The DHT (port) is a stand-in.
 */
import assert from "node:assert/strict";
import type {
  FragmentStore,
  PeerInfo,
  StoreForPeerOptions,
} from "../../lib/core/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryReciprocityLedger,
  seededRng,
} from "../../lib/memory/mod.ts";
import { ReplicationService } from "../../lib/replication/mod.ts";
import {
  envelopeFor,
  offlineDht,
  TEST_THRESHOLDS,
  testBytes,
} from "./test_network.ts";

const SELF = "holder";
const OWNER: PeerInfo = { id: "owner", addresses: [], ip: "10.0.1.1" };

/** The memory store, its `storeForPeer` waiting at a gate the test opens. */
class GatedStore {
  readonly inner: MemoryFragmentStore;
  active = 0;
  maxActive = 0;
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => this.#open = resolve);
  #started: (() => void)[] = [];

  constructor(ledger: MemoryReciprocityLedger) {
    this.inner = new MemoryFragmentStore({ ledger });
  }

  /** The port the service sees. */
  port(): FragmentStore {
    const inner = this.inner;
    const storeForPeer = async (
      id: Parameters<NonNullable<FragmentStore["storeForPeer"]>>[0],
      data: Uint8Array,
      options: StoreForPeerOptions,
    ) => {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      for (const s of this.#started.splice(0)) s();
      try {
        await this.#gate;
        return await inner.storeForPeer!(id, data, options);
      } finally {
        this.active--;
      }
    };
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "storeForPeer") return storeForPeer;
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }

  /** Resolves once `n` stores wait at the gate. */
  async waiting(n: number): Promise<void> {
    while (this.active < n) {
      await new Promise<void>((resolve) => this.#started.push(resolve));
    }
  }

  open(): void {
    this.#open();
  }
}

function holder(tolerance: number) {
  const ledger = new MemoryReciprocityLedger();
  const store = new GatedStore(ledger);
  const service = new ReplicationService({
    dht: offlineDht(SELF),
    fragments: store.port(),
    ledger,
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry(),
    identity: new MemoryKeyring("held").identity(SELF),
    clock: new ManualClock(1_700_000_000_000),
    rng: seededRng(3),
    thresholds: TEST_THRESHOLDS,
    config: { deficitToleranceBytes: tolerance },
  });
  return { ledger, store, service };
}

const data = testBytes(40_000, 11);

Deno.test("receive: two shards of one sender are stored at once, each credited once", async () => {
  const { ledger, store, service } = holder(16 * 2 ** 20);
  const a = envelopeFor(data, 0);
  const b = envelopeFor(data, 1);
  const acks = Promise.all([
    service.receiveFragment(a, OWNER),
    service.receiveFragment(b, OWNER),
  ]);
  // Both reach the store before either is let through.
  await store.waiting(2);
  store.open();
  const [ackA, ackB] = await acks;
  assert.equal(ackA.accepted, true);
  assert.equal(ackB.accepted, true);
  assert.equal(store.maxActive, 2);
  assert.equal(
    (await ledger.get(OWNER.id))?.bytesStoredForThem,
    a.data.length + b.data.length,
  );
});

Deno.test("receive: a shard being stored counts against its sender's deficit: of two that fit only one at a time, one is refused", async () => {
  const a = envelopeFor(data, 0);
  const b = envelopeFor(data, 1);
  // Room for one shard and a half.
  const { ledger, store, service } = holder(Math.floor(a.data.length * 1.5));
  const first = service.receiveFragment(a, OWNER);
  await store.waiting(1);
  // The first is not credited yet, but reserved: the second does not fit.
  const second = await service.receiveFragment(b, OWNER);
  assert.equal(second.accepted, false);
  assert.equal(second.errorCode, "DEFICIT_EXCEEDED");
  store.open();
  assert.equal((await first).accepted, true);
  assert.equal(
    (await ledger.get(OWNER.id))?.bytesStoredForThem,
    a.data.length,
  );
  // Once stored, the reservation is gone and the credit alone counts:
  // with the owner storing as much for us, the second fits (a reservation
  // left behind would still refuse it).
  await ledger.recordTheyStoreForUs(OWNER.id, a.data.length);
  const ack = await service.receiveFragment(b, OWNER);
  assert.equal(ack.accepted, true);
  assert.equal(store.active, 0);
});
