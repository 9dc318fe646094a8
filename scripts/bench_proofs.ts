/**
 * The cost of one storage check, chunk proofs beside the whole-shard keyed
 * proof they replace, measured in the same run: for the largest Large
 * shard (22 MiB, on disk, as a daemon holds it) and a 400 B shard (in
 * memory, as the simulator holds it). Per check: bytes the holder reads,
 * bytes on the wire, and wall time on each side (page cache warm; the
 * machine is shared, so compare within a run). Then the one-time cost of
 * an outboard and the speed of verified streaming next to plain BLAKE3.
 *
 * Run alone with `deno run -A scripts/bench_proofs.ts [--runs N]`;
 * `deno task bench` runs it after the codec figures.
 *
 * @module
 */
import {
  blake3,
  bytesReadAt,
  countingReadAt,
  fileReadAt,
  outboardOf,
  outboardOfFile,
  proveGroups,
  type ReadAt,
  sampleGroups,
  ShardVerifier,
  verifyGroupProofs,
} from "../lib/codec/mod.ts";
import { attestationProof } from "../lib/replication/attest_crypto.ts";

/** Wall ms of `fn`, median of `runs` after one warm-up. */
async function medianMs(runs: number, fn: () => unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** `n` random bytes (getRandomValues takes at most 64 KiB a call). */
function fill(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) {
    crypto.getRandomValues(out.subarray(at, at + 65536));
  }
  return out;
}

/** Where a case's shard lives and how the old proof reads it whole. */
interface Holding {
  readonly shard: ReadAt;
  readonly outboard: ReadAt;
  readWhole(): Promise<Uint8Array>;
}

interface CheckCost {
  holderRead: number;
  wire: number;
  holderMs: number;
  requesterMs: number;
  requesterRead: number;
}

const nonceOf = (i: number) => {
  const n = new Uint8Array(32);
  new DataView(n.buffer).setUint32(0, i, true);
  return n;
};

/** One chunk-proof check: sample, prove, verify. */
async function chunkCheck(
  size: number,
  checksum: Uint8Array,
  holding: Holding,
  runs: number,
): Promise<CheckCost> {
  let i = 0;
  const seedOf = () => ({
    nonce: nonceOf(i++),
    holder: "12D3KooWHolder",
    tessera: "ab".repeat(32),
    index: 7,
  });
  const shard = countingReadAt(holding.shard);
  const outboard = countingReadAt(holding.outboard);
  const source = { size, shard, outboard };
  // Bytes of one check, then times over fresh nonces.
  const groups = sampleGroups(seedOf(), size);
  const proofs = await proveGroups(source, groups);
  const holderRead = shard.bytesRead + outboard.bytesRead;
  // Per group on the wire: its bytes, its siblings, its index (4 bytes).
  const wire = proofs.reduce(
    (n, p) => n + p.bytes.length + p.siblings.length + 4,
    0,
  );
  const answers: {
    groups: number[];
    proofs: Awaited<ReturnType<typeof proveGroups>>;
  }[] = [];
  const holderMs = await medianMs(runs, async () => {
    const g = sampleGroups(seedOf(), size);
    answers.push({ groups: g, proofs: await proveGroups(source, g) });
  });
  const requesterMs = await medianMs(runs, () => {
    const a = answers.pop() ?? { groups, proofs };
    verifyGroupProofs(a.proofs, { size, checksum, groups: a.groups });
  });
  return { holderRead, wire, holderMs, requesterMs, requesterRead: 0 };
}

/**
 * One whole-shard keyed check as today: the holder reads its shard and
 * hashes it under the nonce; the owner needs the same bytes from its own
 * copy (today it re-encodes the tessera from its blob; counted here as
 * reading just this shard, which flatters the old proof).
 */
async function keyedCheck(
  size: number,
  holding: Holding,
  runs: number,
): Promise<CheckCost> {
  const nonce = nonceOf(1);
  const holderMs = await medianMs(runs, async () => {
    attestationProof(nonce, await holding.readWhole());
  });
  const requesterMs = holderMs;
  return {
    holderRead: size,
    wire: 32,
    holderMs,
    requesterMs,
    requesterRead: size,
  };
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function printRow(name: string, size: number, c: CheckCost): void {
  const pct = (n: number) => `${((100 * n) / size).toFixed(2)} %`;
  console.log(
    `  ${name.padEnd(24)} holder reads ${bytes(c.holderRead).padStart(10)} (${
      pct(c.holderRead).padStart(8)
    })  wire ${bytes(c.wire).padStart(10)} (${
      pct(c.wire).padStart(8)
    })  holder ${c.holderMs.toFixed(3).padStart(8)} ms  requester ${
      c.requesterMs.toFixed(3).padStart(8)
    } ms, reads ${bytes(c.requesterRead)} of its own`,
  );
}

async function largeCase(runs: number): Promise<void> {
  const size = Math.ceil(2 ** 30 / 48);
  const data = fill(size);
  const dir = await Deno.makeTempDir({ prefix: "tesseras_bench_proofs_" });
  try {
    const shardPath = `${dir}/000.shard`;
    await Deno.writeFile(shardPath, data);
    let built = await outboardOfFile(shardPath);
    const buildMs = await medianMs(Math.min(runs, 3), async () => {
      built = await outboardOfFile(shardPath);
    });
    await Deno.writeFile(`${dir}/000.obao`, built.outboard);
    using shardFile = await Deno.open(shardPath);
    using outboardFile = await Deno.open(`${dir}/000.obao`);
    const holding: Holding = {
      shard: fileReadAt(shardFile),
      outboard: fileReadAt(outboardFile),
      readWhole: () => Deno.readFile(shardPath),
    };
    console.log(
      `\nstorage check of a ${
        bytes(size)
      } Large shard (files on disk), ${runs} runs:`,
    );
    printRow(
      "whole-shard keyed proof",
      size,
      await keyedCheck(size, holding, runs),
    );
    printRow(
      "chunk proofs, 20 groups",
      size,
      await chunkCheck(size, built.root, holding, runs),
    );
    console.log(
      `  outboard: ${bytes(built.outboard.length)} (${
        ((100 * built.outboard.length) / size).toFixed(2)
      } % of the shard), built from the file in ${buildMs.toFixed(1)} ms (${
        (size / 1e3 / buildMs).toFixed(0)
      } MB/s)`,
    );
    const verifyMs = await medianMs(runs, () => {
      const v = new ShardVerifier({ size, checksum: built.root });
      v.push(built.outboard);
      for (let at = 0; at < size; at += 1 << 16) {
        v.push(data.subarray(at, at + (1 << 16)));
      }
      v.finish();
    });
    const plainMs = await medianMs(runs, () => blake3(data));
    console.log(
      `  verified fetch stream (64 KiB pieces): ${
        (size / 1e3 / verifyMs).toFixed(0)
      } MB/s; plain BLAKE3 of the shard: ${
        (size / 1e3 / plainMs).toFixed(0)
      } MB/s`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function smallCase(runs: number): Promise<void> {
  const size = 400;
  const data = fill(size);
  const { root, outboard } = outboardOf(data);
  const holding: Holding = {
    shard: bytesReadAt(data),
    outboard: bytesReadAt(outboard),
    readWhole: () => Promise.resolve(data),
  };
  console.log(
    `\nstorage check of a 400 B simulated shard (in memory), ${
      runs * 20
    } runs:`,
  );
  printRow(
    "whole-shard keyed proof",
    size,
    await keyedCheck(size, holding, runs * 20),
  );
  printRow(
    "chunk proofs (1 group)",
    size,
    await chunkCheck(size, root, holding, runs * 20),
  );
}

/**
 * Print the storage-check figures (see the module doc).
 *
 * @example
 * ```ts
 * await benchProofs({ runs: 5 });
 * ```
 */
export async function benchProofs(
  options: { runs?: number } = {},
): Promise<void> {
  const runs = options.runs ?? 7;
  await largeCase(runs);
  await smallCase(runs);
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--runs");
  await benchProofs({ runs: i >= 0 ? Number(Deno.args[i + 1]) : undefined });
}
