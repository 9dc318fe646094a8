/**
 * The process the kill -9 test kills: stores shards pushed by three
 * peers (`storeForPeer`) and deletes one now and then, forever, printing
 * `ready` once the database is open. Run as
 * `deno run -A crash_child.ts DATA_DIR SEED`.
 *
 * @module
 */
import { FsFragmentStore, openDatabase } from "../../lib/storage/mod.ts";
import { shard } from "./helpers.ts";

const [dir, seedArg] = Deno.args;
const db = await openDatabase(`${dir}/db/tesseras.db`); // synchronous FULL
const store = new FsFragmentStore(db, { root: `${dir}/f` });
const senders = ["12D3KooWSenderA", "12D3KooWSenderB", "12D3KooWSenderC"];
let x = Number(seedArg) >>> 0 || 1;
const next = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};
await Deno.stdout.write(new TextEncoder().encode("ready\n"));
for (let i = 0;; i++) {
  const s = shard(1 + next() % 65536, { seed: next(), index: next() % 24 });
  // Several stores in flight at once, as a daemon receiving from peers.
  await Promise.all([
    store.storeForPeer(s.id, s.data, { sender: senders[i % 3] }),
    (async () => {
      if (i % 4 !== 3) return;
      const held = await store.list();
      const victim = held[next() % held.length];
      if (victim) await store.delete(victim.tesseraId, victim.index);
    })(),
  ]);
}
