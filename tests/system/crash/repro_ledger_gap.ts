/**
 * Deterministic reproductions of the two ways the receiver's ledger used
 * to stop matching the fragments it holds (gaps 1 and 2 of
 * docs/reliability.md, fixed in c497f64). Real SQLite and shard files; the
 * only stand-in is a ledger (port boundary) that stops at the first
 * credit, to reproduce a process dying between the two writes of
 * `receiveFragment`. Since the fix the credit is written by
 * `FsFragmentStore.storeForPeer` in the row's transaction, so that ledger
 * method is no longer on the path: gap 1 now checks that a re-push after
 * a failed first life leaves the credit equal to what is held.
 *
 *   deno run -A tests/system/crash/repro_ledger_gap.ts
 *
 * Exits 1 if either gap is back, 0 otherwise.
 *
 * @module
 */
import { join } from "node:path";
import type {
  DhtPort,
  FragmentEnvelope,
  PeerInfo,
  ReciprocityLedger,
} from "../../../lib/core/mod.ts";
import {
  ManualClock,
  MemoryBlobStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  seededRng,
} from "../../../lib/memory/mod.ts";
import { ReplicationService } from "../../../lib/replication/mod.ts";
import {
  FsFragmentStore,
  openDatabase,
  SqliteReciprocityLedger,
} from "../../../lib/storage/mod.ts";
import { randomEnvelope } from "./sender.ts";

const SELF = "receiver";
const SENDER: PeerInfo = { id: "owner-peer", addresses: [], ip: "10.0.1.1" };

function offlineDht(): DhtPort {
  const never = () => Promise.reject(new Error("offline"));
  return {
    selfId: SELF,
    findClosestPeers: () => Promise.resolve([]),
    replicate: never,
    requestAttestation: never,
    ping: () => Promise.resolve(false),
    fetch: never,
  } as unknown as DhtPort;
}

async function node(
  dir: string,
  wrap: (l: ReciprocityLedger) => ReciprocityLedger = (l) => l,
) {
  const db = await openDatabase(join(dir, "db", "tesseras.db"));
  const fragments = new FsFragmentStore(db, { root: join(dir, "fragments") });
  const ledger = new SqliteReciprocityLedger(db);
  const service = new ReplicationService({
    dht: offlineDht(),
    fragments,
    ledger: wrap(ledger),
    blobs: new MemoryBlobStore(),
    holders: new MemoryHolderRegistry(),
    identity: new MemoryKeyring("repro").identity(SELF),
    clock: new ManualClock(1_700_000_000_000),
    rng: seededRng(1),
  });
  const credited = async () =>
    (await ledger.get(SENDER.id))?.bytesStoredForThem ?? 0;
  return { db, fragments, ledger, service, credited };
}

/** Gap 1: a crash between the fragment row and the ledger credit. */
async function crashBetweenStoreAndCredit(dir: string): Promise<boolean> {
  const envelope: FragmentEnvelope = randomEnvelope(seededRng(7));
  // The first life of the node: the process "dies" at the ledger credit.
  {
    const dead = await node(dir, (ledger) =>
      new Proxy(ledger, {
        get(target, prop) {
          if (prop === "recordStoredForThem") {
            return () => Promise.reject(new Error("process killed here"));
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      }));
    await dead.service.receiveFragment(envelope, SENDER).catch(() => {});
    dead.db.close();
  }
  // After the restart the owner, who never got an ack, pushes it again.
  const second = await node(dir);
  const ack = await second.service.receiveFragment(envelope, SENDER);
  const held = await second.fragments.totalBytes();
  const credited = await second.credited();
  second.db.close();
  console.log(
    `gap 1 (crash between fragments.store and ledger.recordStoredForThem, then a re-push):` +
      ` re-push accepted=${ack.accepted}, held ${held} bytes, ledger credits ${credited} bytes`,
  );
  return held !== credited;
}

/** Gap 2: the sweep deletes a corrupt held shard but keeps its credit. */
async function sweepDeletesWithoutRelease(dir: string): Promise<boolean> {
  const n = await node(dir);
  const envelope = randomEnvelope(seededRng(8));
  const ack = await n.service.receiveFragment(envelope, SENDER);
  const path = n.fragments.shardPath(
    envelope.fragment.tesseraId,
    envelope.fragment.index,
  );
  const bytes = await Deno.readFile(path);
  bytes[0] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const sweep = await n.service.repairSweep({ verifyHeld: true });
  const held = await n.fragments.totalBytes();
  const credited = await n.credited();
  n.db.close();
  console.log(
    `gap 2 (repairSweep drops a corrupt held shard): accepted=${ack.accepted}, dropped ${sweep.heldCorrupt.length},` +
      ` held ${held} bytes, ledger credits ${credited} bytes`,
  );
  return held !== credited;
}

if (import.meta.main) {
  const root = await Deno.makeTempDir({ prefix: "tesseras-ledger-gap-" });
  try {
    const gap1 = await crashBetweenStoreAndCredit(join(root, "a"));
    const gap2 = await sweepDeletesWithoutRelease(join(root, "b"));
    console.log(
      gap1 || gap2
        ? "ledger disagrees with the fragments held"
        : "ledger matches",
    );
    Deno.exitCode = gap1 || gap2 ? 1 : 0;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
