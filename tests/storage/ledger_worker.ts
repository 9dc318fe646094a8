/// <reference lib="deno.worker" />
/**
 * A second connection, in a second thread, for the ledger concurrency
 * test. Posts `{ ready: true }` once loaded; on `{ path, n, peers }` it
 * opens the database at once (racing the main thread on a fresh file),
 * records `n` rounds of increments per peer, yielding now and then so
 * the two threads interleave, and reports when it started and ended.
 */
import {
  openDatabase,
  SqliteReciprocityLedger,
} from "../../lib/storage/mod.ts";

self.onmessage = async (e: MessageEvent) => {
  const { path, n, peers } = e.data as {
    path: string;
    n: number;
    peers: string[];
  };
  try {
    const start = performance.timeOrigin + performance.now();
    const db = await openDatabase(path, { synchronous: "NORMAL" });
    try {
      const ledger = new SqliteReciprocityLedger(db);
      for (let i = 0; i < n; i++) {
        for (const p of peers) {
          await ledger.recordStoredForThem(p, 1);
          await ledger.recordTheyStoreForUs(p, 2);
        }
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      db.close();
    }
    const end = performance.timeOrigin + performance.now();
    self.postMessage({ ok: true, start, end });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err) });
  }
};

self.postMessage({ ready: true });
