/**
 * `deno task bench`: the codec's throughput against the baselines measured
 * in the same run and process (`@subspace/reed-solomon-erasure.wasm`, the
 * Rust crate compiled to wasm, and `hash-wasm`'s BLAKE3), then end-to-end
 * figures, each in a fresh child process so its peak RSS is its own:
 * the codec's `encodeTessera` of 64 MiB and 1 GiB in memory (the reference
 * encoder the tests compare with), and the put's own streaming encode of
 * 64 MiB and 1 GiB (`putTesseraFile` up to its `onEncoded`: the file
 * copied into the blob store's staging, every shard hashed, parity
 * staged, the id hashed), from a file on disk;
 * then the cost of one storage check, chunk proofs beside the keyed
 * whole-shard proof (`bench_proofs.ts`); last (not with `--quick`), put
 * and get of the largest private tessera (1 GiB − 16,424 bytes) beside a
 * public one of the same size through real daemons (`bench_private.ts`,
 * its own process; issue 19's target: within 15 %).
 *
 * Figures are MB/s (10^6 bytes per second) of input: median of the runs,
 * with min-max. The machine is shared, so absolute numbers are noisy;
 * ratios from the same run are what to compare.
 *
 * Flags: `--runs N` (default 7), `--quick` (skip the 1 GiB cases).
 *
 * @module
 */
import { ReedSolomonErasure } from "@subspace/reed-solomon-erasure.wasm";
import { createBLAKE3 } from "hash-wasm";
import {
  blake3,
  encodeTessera,
  rsEncode,
  rsReconstruct,
} from "../lib/codec/mod.ts";
import type { DhtPort } from "../lib/core/mod.ts";
import {
  MemoryFragmentStore,
  MemoryHolderRegistry,
  MemoryKeyring,
  MemoryReciprocityLedger,
} from "../lib/memory/mod.ts";
import { ReplicationService } from "../lib/replication/mod.ts";
import { FsBlobStore } from "../lib/storage/mod.ts";
import { encodingMatrix } from "../lib/codec/gf256.ts";
import { reconstructionRows } from "../lib/codec/reed_solomon.ts";
import { gfRegion } from "../lib/codec/region.ts";
import { codecVariant } from "../lib/codec/wasm_memory.ts";
import { benchProofs } from "./bench_proofs.ts";

const MIB = 1 << 20;
const args = Deno.args;
const RUNS = Number(args[args.indexOf("--runs") + 1]) || 7;

function fill(buf: Uint8Array): Uint8Array {
  let x = 0x9e3779b9;
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return buf;
}

interface Stat {
  median: number;
  min: number;
  max: number;
}

function stat(rates: number[]): Stat {
  rates.sort((a, b) => a - b);
  return {
    median: rates[Math.floor(rates.length / 2)],
    min: rates[0],
    max: rates[rates.length - 1],
  };
}

function timeRate(bytes: number, fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/**
 * MB/s of `ours` and `base` on `bytes` of input, RUNS timed calls each
 * after a warm-up, alternating so that both see the same machine load
 * (the machine is shared). A `base` that throws is reported as `null`.
 */
function measurePair(
  bytes: number,
  ours: () => unknown,
  base: (() => unknown) | null,
): [Stat, Stat | null] {
  ours();
  let baseOk = base !== null;
  try {
    base?.();
  } catch (e) {
    console.log(`  (baseline failed: ${(e as Error).message})`);
    baseOk = false;
  }
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(timeRate(bytes, ours));
    if (baseOk) b.push(timeRate(bytes, base!));
  }
  return [stat(a), baseOk ? stat(b) : null];
}

const fmt = (s: Stat) =>
  `${s.median.toFixed(0).padStart(6)} MB/s (${s.min.toFixed(0)}-${
    s.max.toFixed(0)
  })`;

function row(name: string, ours: Stat, base: Stat | null, baseName: string) {
  const ratio = base ? `${(ours.median / base.median).toFixed(1)}×` : "n/a";
  console.log(
    `${name.padEnd(34)} ours ${fmt(ours)}   ${baseName} ${
      base ? fmt(base) : "failed".padStart(22)
    }   ratio ${ratio}`,
  );
}

async function throughput(): Promise<void> {
  const subspace = await ReedSolomonErasure.fromCurrentDirectory();
  const size = 64 * MIB;
  const data = fill(new Uint8Array(size));
  console.log(
    `codec kernels: ${codecVariant}; ${RUNS} runs each, 64 MiB inputs\n`,
  );
  for (const [k, m] of [[16, 8], [48, 24]]) {
    const shard = Math.ceil(size / k);
    const contiguous = new Uint8Array(shard * (k + m));
    contiguous.set(data);
    const subspaceEncode = () => {
      if (subspace.encode(contiguous, k, m) !== 0) throw new Error("encode");
    };
    row(
      `RS encode ${k}+${m}`,
      ...measurePair(
        size,
        () => rsEncode(data, { dataShards: k, parityShards: m }),
        subspaceEncode,
      ),
      "@subspace",
    );
    // The same work as @subspace's in-place encode: parity into
    // preallocated shards (no fresh result arrays to fault in).
    const views = Array.from(
      { length: k + m },
      (_, i) => contiguous.slice(i * shard, (i + 1) * shard),
    );
    const parityRows = encodingMatrix(k, m).slice(k);
    row(
      `RS encode ${k}+${m} in place`,
      ...measurePair(
        size,
        () => gfRegion(parityRows, views.slice(0, k), views.slice(k)),
        subspaceEncode,
      ),
      "@subspace",
    );

    // Worst case: `m` data shards lost, all of them rebuilt.
    const shards: (Uint8Array | null)[] = rsEncode(data, {
      dataShards: k,
      parityShards: m,
    });
    for (let i = 0; i < m; i++) shards[i] = null;
    const avail = shards.map((s) => s !== null);
    subspace.encode(contiguous, k, m);
    const damaged = contiguous.slice();
    row(
      `RS reconstruct ${k}+${m} (${m} data lost)`,
      ...measurePair(
        size,
        () => rsReconstruct(shards, { dataShards: k, parityShards: m }),
        () => {
          const rc = subspace.reconstruct(damaged, k, m, avail);
          if (rc !== 0) throw new Error(`@subspace reconstruct returned ${rc}`);
        },
      ),
      "@subspace",
    );
    // The same work as @subspace's in-place reconstruct: rebuild into
    // preallocated buffers.
    const present = shards.flatMap((s, i) => s ? [i] : []);
    const missing = shards.flatMap((s, i) => s ? [] : [i]);
    const { used, rows } = reconstructionRows(present, missing, k, m);
    const survivors = used.map((i) => shards[i]!);
    const rebuilt = missing.map(() => new Uint8Array(shard));
    row(
      `RS reconstruct ${k}+${m} in place`,
      ...measurePair(size, () => gfRegion(rows, survivors, rebuilt), () => {
        const rc = subspace.reconstruct(damaged, k, m, avail);
        if (rc !== 0) throw new Error(`@subspace reconstruct returned ${rc}`);
      }),
      "@subspace",
    );
  }
  const hw = await createBLAKE3();
  row(
    "BLAKE3",
    ...measurePair(
      size,
      () => blake3(data),
      () => hw.init().update(data).digest("binary"),
    ),
    "hash-wasm",
  );
}

function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = status.match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : Deno.memoryUsage().rss / MIB;
}

/** A transport for a node with no peers: the bench places nothing. */
function lonelyDht(): DhtPort {
  const none = () => Promise.reject(new Error("the bench places nothing"));
  return {
    selfId: "bench",
    findClosestPeers: () => Promise.resolve([]),
    replicate: none,
    requestAttestation: none,
    ping: none,
    fetch: none,
  };
}

/**
 * Seconds the put's streaming encode of `input` takes: a real
 * `putTesseraFile` on a file blob store under `dir`, timed to its
 * `onEncoded` (every shard hashed, parity staged, the id known), which
 * then stops the put before placement (no peers to place on).
 */
async function putEncodeSeconds(dir: string, input: string): Promise<number> {
  const keyring = new MemoryKeyring("bench");
  const service = new ReplicationService({
    dht: lonelyDht(),
    fragments: new MemoryFragmentStore(),
    ledger: new MemoryReciprocityLedger(),
    blobs: new FsBlobStore({ root: `${dir}/blobs` }),
    holders: new MemoryHolderRegistry(),
    identity: keyring.identity("bench"),
  });
  const stop = new Error("encoded");
  const t0 = performance.now();
  let seconds = NaN;
  await service.putTesseraFile(input, {
    onEncoded: () => {
      seconds = (performance.now() - t0) / 1000;
      return Promise.reject(stop);
    },
  }).then(
    () => Promise.reject(new Error("the put did not stop at onEncoded")),
    (e) => e === stop ? undefined : Promise.reject(e),
  );
  return seconds;
}

/** One end-to-end case, run in this (child) process. */
async function child(kind: string, mib: number): Promise<void> {
  const size = mib * MIB;
  const dir = await Deno.makeTempDir({ prefix: "tesseras_bench_" });
  try {
    let seconds: number;
    if (kind === "memory") {
      const data = fill(new Uint8Array(size));
      const t0 = performance.now();
      const { fragments } = encodeTessera(data);
      seconds = (performance.now() - t0) / 1000;
      if (fragments.length === 0) throw new Error("no fragments");
    } else {
      const input = `${dir}/input.bin`;
      {
        using f = await Deno.open(input, { write: true, create: true });
        const piece = fill(new Uint8Array(16 * MIB));
        for (let o = 0; o < size; o += piece.length) {
          await f.write(piece.subarray(0, Math.min(piece.length, size - o)));
        }
      }
      seconds = await putEncodeSeconds(dir, input);
    }
    console.log(JSON.stringify({ seconds, peakRssMiB: peakRssMiB() }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function endToEnd(): Promise<void> {
  console.log("\nend to end (each in a fresh process):");
  const sizes = args.includes("--quick") ? [64] : [64, 1024];
  for (const kind of ["memory", "file"]) {
    for (const mib of sizes) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          // Reading the kernel's peak RSS (/proc/self/status VmHWM) needs
          // full permissions in Deno.
          "--allow-all",
          import.meta.filename!,
          "--child",
          kind,
          String(mib),
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const text = new TextDecoder().decode(out.stdout).trim();
      const label = kind === "memory"
        ? `encodeTessera ${mib} MiB (in memory)`
        : `put's encode ${mib} MiB (file → staged shards)`;
      if (!out.success) {
        console.log(`${label.padEnd(46)} failed`);
        continue;
      }
      const r = JSON.parse(text.split("\n").pop()!);
      console.log(
        `${label.padEnd(46)} ${r.seconds.toFixed(2)} s  ${
          (mib * MIB / 1e6 / r.seconds).toFixed(0)
        } MB/s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
}

if (import.meta.main) {
  const c = args.indexOf("--child");
  if (c >= 0) {
    await child(args[c + 1], Number(args[c + 2]));
  } else {
    await throughput();
    await endToEnd();
    await benchProofs({ runs: RUNS });
    if (!args.includes("--quick")) {
      console.log("\nprivate beside public, real daemons (bench_private.ts)");
      await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./bench_private.ts", import.meta.url).pathname,
        ],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
    }
  }
}
