import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bytesReadAt,
  ChunkTree,
  countingReadAt,
  createBlake3,
  fileReadAt,
  GROUP_BYTES,
  type GroupProof,
  outboardOf,
  outboardOfFile,
  ProofError,
  type ProofFault,
  proofGroupCv,
  proveGroups,
  sampleGroups,
  shardProofsDigest,
  verifyGroupProofs,
} from "../../lib/codec/mod.ts";
import { fromHex, isTesserasError, toHex } from "../../lib/core/mod.ts";
import { flipped, independentHex, shardBytes } from "./proof_fixtures.ts";

/** A shard in memory, its independent checksum and a prover over it. */
async function fixture(size: number, seed = size + 1) {
  const data = shardBytes(size, seed);
  const { outboard } = outboardOf(data);
  const checksum = fromHex(await independentHex(data));
  const source = {
    size,
    shard: bytesReadAt(data),
    outboard: bytesReadAt(outboard),
  };
  return { data, outboard, checksum, source };
}

function rejects(fault: ProofFault, fn: () => void): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof ProofError, String(e));
    assert.equal(e.code, "ATTESTATION_FAILED");
    assert.equal(e.fault, fault, e.message);
    return true;
  });
}

const SIZES = [
  0,
  1,
  400,
  1024,
  GROUP_BYTES - 1,
  GROUP_BYTES,
  GROUP_BYTES + 1,
  3 * GROUP_BYTES,
  5 * GROUP_BYTES - 1,
  12 * GROUP_BYTES + 1,
  37 * GROUP_BYTES + 999,
];

Deno.test("every group of every edge size proves against the hash-wasm root", async () => {
  for (const size of SIZES) {
    const { checksum, source } = await fixture(size);
    const groups = Array.from(
      { length: new ChunkTree(size).groups },
      (_, g) => g,
    );
    const proofs = await proveGroups(source, groups);
    verifyGroupProofs(proofs, { size, checksum, groups });
  }
});

Deno.test("a tampered chunk of a group or a tampered sibling at any level is a mismatch", async () => {
  const size = 37 * GROUP_BYTES + 999;
  const { checksum, source } = await fixture(size);
  const tree = new ChunkTree(size);
  for (const g of [0, 1, 16, 31, 32, 36, 37]) {
    const [proof] = await proveGroups(source, [g]);
    const target = { size, checksum, groups: [g] };
    for (let at = 0; at < proof.bytes.length; at += 1024) {
      rejects(
        "mismatch",
        () =>
          verifyGroupProofs(
            [{ ...proof, bytes: flipped(proof.bytes, at) }],
            target,
          ),
      );
    }
    const levels = tree.path(g).length;
    assert.equal(proof.siblings.length, 32 * levels);
    for (let level = 0; level < levels; level++) {
      const siblings = flipped(proof.siblings, 32 * level + 31);
      rejects(
        "mismatch",
        () => verifyGroupProofs([{ ...proof, siblings }], target),
      );
    }
  }
});

Deno.test("wrong position, count, length and depth are each refused by name", async () => {
  const size = 12 * GROUP_BYTES + 1;
  const { checksum, source } = await fixture(size);
  const proofs = await proveGroups(source, [2, 5, 12]);
  const target = { size, checksum, groups: [2, 5, 12] };
  verifyGroupProofs(proofs, target);
  const [a, b, c] = proofs;
  rejects("count", () => verifyGroupProofs([a, b], target));
  rejects("count", () => verifyGroupProofs([a, b, c, c], target));
  rejects("position", () => verifyGroupProofs([a, c, b], target));
  // A real proof of group 6 answered where 5 was asked.
  const [six] = await proveGroups(source, [6]);
  rejects("position", () => verifyGroupProofs([a, six, c], target));
  // Group 5's proof relabelled as 6: the chunk counters no longer match.
  rejects(
    "mismatch",
    () =>
      verifyGroupProofs([{ ...b, group: 6 }], { size, checksum, groups: [6] }),
  );
  rejects(
    "position",
    () =>
      verifyGroupProofs([{ ...b, group: 13 }], {
        size,
        checksum,
        groups: [13],
      }),
  );
  rejects(
    "length",
    () =>
      verifyGroupProofs([a, { ...b, bytes: b.bytes.subarray(1) }, c], target),
  );
  rejects(
    "length",
    () => verifyGroupProofs([a, b, { ...c, bytes: new Uint8Array(2) }], target),
  );
  const short = b.siblings.subarray(32);
  rejects(
    "depth",
    () => verifyGroupProofs([a, { ...b, siblings: short }, c], target),
  );
  const long = new Uint8Array([...b.siblings, ...new Uint8Array(32)]);
  rejects(
    "depth",
    () => verifyGroupProofs([a, { ...b, siblings: long }, c], target),
  );
  const ragged = b.siblings.subarray(1);
  rejects(
    "depth",
    () => verifyGroupProofs([a, { ...b, siblings: ragged }, c], target),
  );
  // The right proofs against another shard's checksum.
  rejects(
    "mismatch",
    () =>
      verifyGroupProofs(proofs, { ...target, checksum: flipped(checksum, 3) }),
  );
});

Deno.test("property: any group of any shard proves; any flipped bit fails", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 300_000 }),
      fc.nat(),
      fc.nat(),
      async (size, pick, bit) => {
        const { checksum, source } = await fixture(size, pick + 1);
        const tree = new ChunkTree(size);
        const g = pick % tree.groups;
        const [proof] = await proveGroups(source, [g]);
        const target = { size, checksum, groups: [g] };
        verifyGroupProofs([proof], target);
        const total = (proof.bytes.length + proof.siblings.length) * 8;
        if (total === 0) return;
        const at = bit % total;
        const byte = at >> 3;
        const tamper = (x: Uint8Array, i: number) => {
          const y = x.slice();
          y[i] ^= 1 << (at & 7);
          return y;
        };
        const bad: GroupProof = byte < proof.bytes.length
          ? { ...proof, bytes: tamper(proof.bytes, byte) }
          : {
            ...proof,
            siblings: tamper(proof.siblings, byte - proof.bytes.length),
          };
        rejects("mismatch", () => verifyGroupProofs([bad], target));
      },
    ),
    { numRuns: 80 },
  );
});

Deno.test("a replayed answer fails: another nonce, holder, tessera or shard index", async () => {
  const size = 200 * GROUP_BYTES;
  const { checksum, source } = await fixture(size);
  const seed = {
    nonce: new Uint8Array(32).fill(7),
    holder: "12D3KooWHolderA",
    tessera: "ab".repeat(32),
    index: 4,
  };
  const asked = sampleGroups(seed, size);
  const answer = await proveGroups(source, asked);
  verifyGroupProofs(answer, { size, checksum, groups: asked });
  const others = [
    { ...seed, nonce: new Uint8Array(32).fill(8) },
    { ...seed, holder: "12D3KooWHolderB" },
    { ...seed, tessera: "cd".repeat(32) },
    { ...seed, index: 5 },
  ];
  for (const other of others) {
    const groups = sampleGroups(other, size);
    assert.notDeepEqual(groups, asked);
    rejects(
      "position",
      () => verifyGroupProofs(answer, { size, checksum, groups }),
    );
  }
});

Deno.test("a 22 MiB Large shard on disk: 20 samples read and send under 1 %", async () => {
  const size = Math.ceil(2 ** 30 / 48);
  const data = shardBytes(size, 21);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/000.shard`, data);
    const { root, outboard } = await outboardOfFile(`${dir}/000.shard`);
    await Deno.writeFile(`${dir}/000.obao`, outboard);
    assert.deepEqual(root, fromHex(await independentHex(data)));
    using shardFile = await Deno.open(`${dir}/000.shard`);
    using outboardFile = await Deno.open(`${dir}/000.obao`);
    const shard = countingReadAt(fileReadAt(shardFile));
    const ob = countingReadAt(fileReadAt(outboardFile));
    const seed = {
      nonce: new Uint8Array(32).fill(1),
      holder: "h",
      tessera: "t",
      index: 0,
    };
    const groups = sampleGroups(seed, size);
    assert.equal(groups.length, 20);
    const proofs = await proveGroups({ size, shard, outboard: ob }, groups);
    verifyGroupProofs(proofs, { size, checksum: root, groups });
    const read = shard.bytesRead + ob.bytesRead;
    const sent = proofs.reduce(
      (n, p) => n + p.bytes.length + p.siblings.length + 4,
      0,
    );
    assert.ok(read / size < 0.01, `read ${read}`);
    assert.ok(sent / size < 0.01, `sent ${sent}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a holder whose shard or outboard is truncated cannot prove its groups", async () => {
  const size = 10 * GROUP_BYTES;
  const { data, outboard } = await fixture(size);
  const half = {
    size,
    shard: bytesReadAt(data.subarray(0, size / 2)),
    outboard: bytesReadAt(outboard),
  };
  await assert.rejects(
    proveGroups(half, [9]),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
  const noOutboard = {
    size,
    shard: bytesReadAt(data),
    outboard: bytesReadAt(new Uint8Array(0)),
  };
  await assert.rejects(
    proveGroups(noOutboard, [0]),
    (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
  );
  await assert.rejects(
    proveGroups({
      size,
      shard: bytesReadAt(data),
      outboard: bytesReadAt(outboard),
    }, [10]),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("tier sizes: largest Small copy, smallest Large and largest Medium shards", async () => {
  const sizes = [
    4 * 2 ** 20 - 1, // a Small tessera's whole-file copy
    Math.ceil(2 ** 28 / 48), // the smallest Large shard
    Math.ceil((2 ** 28 - 1) / 16), // the largest Medium shard
  ];
  for (const size of sizes) {
    const { checksum, source } = await fixture(size);
    const seed = {
      nonce: new Uint8Array(32).fill(size & 0xff),
      holder: "h",
      tessera: "t",
      index: 1,
    };
    const last = new ChunkTree(size).groups - 1;
    const groups = [...new Set([0, ...sampleGroups(seed, size), last])].sort((
      a,
      b,
    ) => a - b);
    const proofs = await proveGroups(source, groups);
    verifyGroupProofs(proofs, { size, checksum, groups });
  }
});

/** The digest's layout, fed field by field to a streaming hasher. */
function referenceDigest(
  shard: { size: number; groups: readonly GroupProof[] },
  cvs: readonly Uint8Array[],
): string {
  const h = createBlake3().update(
    new TextEncoder().encode("tesseras/chunk-proofs/v2\n"),
  );
  const head = new DataView(new ArrayBuffer(12));
  head.setFloat64(0, shard.size, true);
  head.setUint32(8, shard.groups.length, true);
  h.update(new Uint8Array(head.buffer));
  shard.groups.forEach((g, i) => {
    const f = new DataView(new ArrayBuffer(8));
    f.setUint32(0, g.group, true);
    f.setUint32(4, g.siblings.length, true);
    h.update(new Uint8Array(f.buffer)).update(cvs[i]).update(g.siblings);
  });
  return toHex(h.digest());
}

Deno.test("shardProofsDigest is BLAKE3 over the domain, the size, the group count and each group's index, chaining value and siblings", async () => {
  const empty = { index: 0, checksum: "00".repeat(32), size: 0, groups: [] };
  assert.equal(shardProofsDigest(empty), referenceDigest(empty, []));
  // One group: its chaining value is the shard's plain BLAKE3 (checked
  // with an independent implementation), which a holder may pass as hex.
  const small = await fixture(400);
  const one = await proveGroups(small.source, [0]);
  const oneShard = { index: 1, checksum: toHex(small.checksum), size: 400 };
  const digest = shardProofsDigest({ ...oneShard, groups: one });
  assert.equal(
    digest,
    referenceDigest({ size: 400, groups: one }, [small.checksum]),
  );
  assert.equal(
    shardProofsDigest({ ...oneShard, groups: one }, [toHex(small.checksum)]),
    digest,
  );
  assert.equal(
    proofGroupCv(one[0], 400).join(),
    small.checksum.join(),
  );
  // Several groups: the values the requester's check walks up.
  const size = 5 * GROUP_BYTES + 100;
  const big = await fixture(size);
  const groups = [1, 5];
  const proofs = await proveGroups(big.source, groups);
  const cvs = verifyGroupProofs(proofs, {
    size,
    checksum: big.checksum,
    groups,
  });
  const shard = {
    index: 2,
    checksum: toHex(big.checksum),
    size,
    groups: proofs,
  };
  assert.equal(shardProofsDigest(shard), referenceDigest(shard, cvs));
  assert.equal(shardProofsDigest(shard, cvs), shardProofsDigest(shard));
  // Each field is bound: a byte of a group, its index, a sibling, the size.
  const other = new Set([
    shardProofsDigest({
      ...shard,
      groups: [{ ...proofs[0], bytes: flipped(proofs[0].bytes, 9) }, proofs[1]],
    }),
    shardProofsDigest({
      ...shard,
      groups: [{ ...proofs[0], group: 2 }, proofs[1]],
    }),
    shardProofsDigest({
      ...shard,
      groups: [proofs[0], {
        ...proofs[1],
        siblings: flipped(proofs[1].siblings, 0),
      }],
    }),
    shardProofsDigest({ ...shard, size: size + 1 }),
    shardProofsDigest(shard),
  ]);
  assert.equal(other.size, 5);
  // Groups that cannot be a shard's still digest (and fail the check).
  const odd = {
    group: -1,
    bytes: new Uint8Array(70_000),
    siblings: new Uint8Array(0),
  };
  assert.equal(shardProofsDigest({ ...shard, groups: [odd] }).length, 64);
  assert.throws(
    () => shardProofsDigest(shard, [new Uint8Array(31), cvs[1]]),
    RangeError,
  );
});
