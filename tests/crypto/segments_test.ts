import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decryptBytes,
  decryptingStream,
  DEFAULT_SEGMENT_BYTES,
  encryptBytes,
  encryptedSize,
  encryptingStream,
  looksPrivate,
  maxPlainSize,
  newContentKey,
  newSegmentSealer,
  SEGMENT_HEADER_BYTES,
} from "../../lib/crypto/mod.ts";
import { concatBytes as join } from "../../lib/crypto/bytes.ts";
import {
  type ErrorCode,
  isTesserasError,
  MAX_TESSERA_SIZE,
} from "../../lib/core/mod.ts";

const SEG = DEFAULT_SEGMENT_BYTES;
const SEALED_SEG = SEG + 16;
const KEY = new Uint8Array(32).fill(0x11);
const SIZES = [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 5];

function plaintext(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The sealed segments (tag included) of a ciphertext, header apart. */
function cut(
  sealed: Uint8Array,
): { header: Uint8Array; segments: Uint8Array[] } {
  const header = sealed.subarray(0, SEGMENT_HEADER_BYTES);
  const segments: Uint8Array[] = [];
  for (let at = SEGMENT_HEADER_BYTES; at < sealed.length; at += SEALED_SEG) {
    segments.push(
      sealed.subarray(at, Math.min(sealed.length, at + SEALED_SEG)),
    );
  }
  return { header, segments };
}

async function refused(
  sealed: Uint8Array,
  code: ErrorCode,
  pattern: RegExp,
  key: Uint8Array = KEY,
): Promise<void> {
  await assert.rejects(() => decryptBytes(key, sealed), (err) => {
    assert.ok(isTesserasError(err, code), `${code}: ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("every segment boundary round-trips and has the predicted size", async () => {
  for (const size of SIZES) {
    const plain = plaintext(size);
    const sealed = await encryptBytes(KEY, plain);
    assert.equal(sealed.length, encryptedSize(size), `size ${size}`);
    assert.deepEqual(await decryptBytes(KEY, sealed), plain, `size ${size}`);
  }
  // Larger segments too.
  const big = plaintext(3 * (1 << 20) + 7);
  const sealed = await encryptBytes(KEY, big, { segmentBytes: 1 << 20 });
  assert.equal(
    sealed.length,
    encryptedSize(big.length, { segmentBytes: 1 << 20 }),
  );
  assert.deepEqual(await decryptBytes(KEY, sealed), big);
});

Deno.test("property: any chunking of input and ciphertext gives the same plaintext", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 4 * SEG + 3 }),
      fc.array(fc.integer({ min: 1, max: SEG + 100 }), {
        minLength: 1,
        maxLength: 8,
      }),
      async (size, cuts) => {
        const plain = plaintext(size, size + 7);
        const pieces = (bytes: Uint8Array) => {
          const out: Uint8Array[] = [];
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length];
            out.push(bytes.slice(at, at + n));
            at += n;
          }
          return out;
        };
        const sealedParts = await Array.fromAsync(
          ReadableStream.from(pieces(plain)).pipeThrough(encryptingStream(KEY)),
        );
        const sealed = join(sealedParts);
        assert.equal(sealed.length, encryptedSize(size));
        const back = join(
          await Array.fromAsync(
            ReadableStream.from(pieces(sealed)).pipeThrough(
              decryptingStream(KEY),
            ),
          ),
        );
        assert.deepEqual(back, plain);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("the ciphertext shows no run of the plaintext and differs every time", async () => {
  const marker = new TextEncoder().encode("TESSERAS-PLAINTEXT-MARKER");
  const plain = join(Array.from({ length: 5000 }, () => marker));
  const a = await encryptBytes(KEY, plain);
  const b = await encryptBytes(KEY, plain);
  const text = (x: Uint8Array) => new TextDecoder("latin1").decode(x);
  assert.equal(text(a).includes("PLAINTEXT"), false);
  assert.notDeepEqual(a.subarray(8, 24), b.subarray(8, 24)); // salts
  assert.notDeepEqual(
    a.subarray(SEGMENT_HEADER_BYTES, 80),
    b.subarray(SEGMENT_HEADER_BYTES, 80),
  );
});

Deno.test("a wrong key is refused by name before any plaintext", async () => {
  for (const size of [0, SEG + 1]) {
    const sealed = await encryptBytes(KEY, plaintext(size));
    await refused(
      sealed,
      "UNAUTHORIZED",
      /this key does not open/,
      newContentKey(),
    );
  }
});

Deno.test("truncation at every segment boundary and inside segments is refused", async () => {
  for (const size of SIZES) {
    const sealed = await encryptBytes(KEY, plaintext(size));
    const { segments } = cut(sealed);
    const cuts = new Set<number>([
      0,
      1,
      SEGMENT_HEADER_BYTES - 1,
      SEGMENT_HEADER_BYTES,
      sealed.length - 1,
    ]);
    for (let i = 1; i < segments.length; i++) {
      cuts.add(SEGMENT_HEADER_BYTES + i * SEALED_SEG);
    }
    for (let i = 0; i < segments.length; i++) {
      cuts.add(SEGMENT_HEADER_BYTES + i * SEALED_SEG + 10);
    }
    for (const at of cuts) {
      if (at >= sealed.length) continue;
      await assert.rejects(
        () => decryptBytes(KEY, sealed.subarray(0, at)),
        (err) =>
          isTesserasError(err, "CHECKSUM_MISMATCH") ||
          isTesserasError(err, "INVALID_INPUT"),
        `size ${size} cut at ${at}`,
      );
    }
  }
});

Deno.test("reordered, duplicated, dropped or extra segments are refused", async () => {
  const sealed = await encryptBytes(KEY, plaintext(3 * SEG + 5));
  const { header, segments } = cut(sealed);
  assert.equal(segments.length, 4);
  const [s0, s1, s2, s3] = segments;
  const cases: [string, Uint8Array[]][] = [
    ["swap 0,1", [s1, s0, s2, s3]],
    ["swap 1,2", [s0, s2, s1, s3]],
    ["duplicate 1", [s0, s1, s1, s2, s3]],
    ["drop 1", [s0, s2, s3]],
    ["drop last", [s0, s1, s2]],
    ["last moved up", [s0, s1, s3]],
    ["last twice", [s0, s1, s2, s3, s3]],
    ["garbage after", [s0, s1, s2, s3, new Uint8Array(20)]],
  ];
  for (const [name, parts] of cases) {
    await assert.rejects(
      () => decryptBytes(KEY, join([header, ...parts])),
      (err) => isTesserasError(err, "CHECKSUM_MISMATCH"),
      name,
    );
  }
});

Deno.test("a segment of another file under the same key is refused", async () => {
  // Per-file salts give per-file segment keys, so even a key reused by
  // mistake does not let one file's segments pass for another's.
  const a = cut(await encryptBytes(KEY, plaintext(2 * SEG, 1)));
  const b = cut(await encryptBytes(KEY, plaintext(2 * SEG, 2)));
  await refused(
    join([a.header, b.segments[0], a.segments[1]]),
    "CHECKSUM_MISMATCH",
    /segment 0/,
  );
  await refused(
    join([a.header, ...b.segments]),
    "CHECKSUM_MISMATCH",
    /segment 0/,
  );
});

Deno.test("a flipped bit anywhere is refused", async () => {
  const sealed = await encryptBytes(KEY, plaintext(SEG + 1));
  const positions = [
    0,
    4,
    5,
    6,
    8,
    23,
    24,
    39, // header fields
    SEGMENT_HEADER_BYTES,
    SEGMENT_HEADER_BYTES + SEG,
    SEGMENT_HEADER_BYTES + SEALED_SEG - 1,
    SEGMENT_HEADER_BYTES + SEALED_SEG,
    sealed.length - 1,
  ];
  for (const at of positions) {
    const bad = sealed.slice();
    bad[at] ^= 0x01;
    await assert.rejects(
      () => decryptBytes(KEY, bad),
      (err) =>
        err instanceof Error && isTesserasError(err) && err.code !== "INTERNAL",
      `byte ${at}`,
    );
  }
});

Deno.test("a non-private tessera is refused as such", async () => {
  await refused(
    new TextEncoder().encode("x".repeat(100)),
    "INVALID_INPUT",
    /no private tessera/,
  );
  const sealed = await encryptBytes(KEY, plaintext(10));
  const v2 = sealed.slice();
  v2[4] = 2;
  await refused(v2, "INVALID_INPUT", /format 2/);
});

Deno.test("ciphertext flows out before the input ends (streaming)", async () => {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const out = readable.pipeThrough(encryptingStream(KEY)).getReader();
  const writer = writable.getWriter();
  const header = await out.read();
  assert.equal(header.value?.length, SEGMENT_HEADER_BYTES);
  void writer.write(plaintext(6 * SEG + 1));
  // With four segments in flight at most, three of the six whole ones are
  // out while the writer is still open: memory stays bounded.
  for (let i = 0; i < 3; i++) {
    assert.equal((await out.read()).value?.length, SEALED_SEG);
  }
  void writer.close();
  for (let i = 0; i < 3; i++) {
    assert.equal((await out.read()).value?.length, SEALED_SEG);
  }
  assert.equal((await out.read()).value?.length, 1 + 16);
  assert.equal((await out.read()).done, true);
});

Deno.test("the largest private plaintext still fits the tessera limit", () => {
  const max = maxPlainSize(MAX_TESSERA_SIZE);
  assert.ok(encryptedSize(max) <= MAX_TESSERA_SIZE);
  assert.ok(encryptedSize(max + 1) > MAX_TESSERA_SIZE);
  assert.equal(maxPlainSize(encryptedSize(SEG)), SEG);
  assert.equal(maxPlainSize(encryptedSize(SEG + 1)), SEG + 1);
  assert.throws(() => encryptedSize(1, { segmentBytes: 1000 }), /power of two/);
});

Deno.test("looksPrivate tells a private tessera's head from other bytes", async () => {
  const sealed = await encryptBytes(KEY, plaintext(3));
  assert.equal(looksPrivate(sealed), true);
  assert.equal(looksPrivate(sealed.subarray(0, 7)), false);
  for (const at of [0, 4, 5, 6, 7]) {
    const bad = sealed.slice(0, 8);
    bad[at] ^= 0x80;
    assert.equal(looksPrivate(bad), false, `byte ${at}`);
  }
  assert.equal(looksPrivate(plaintext(100)), false);
});

Deno.test("a segment sealer called segment by segment writes what the stream reads, and refuses segments no reader would accept", async () => {
  const data = plaintext(2 * SEG + 9, 7);
  const sealer = await newSegmentSealer(KEY);
  assert.equal(sealer.segmentBytes, SEG);
  // Started together, handed on in call order.
  const parts = await Promise.all([
    sealer.seal(data.subarray(0, SEG), false),
    sealer.seal(data.subarray(SEG, 2 * SEG), false),
    sealer.seal(data.subarray(2 * SEG), true),
  ]);
  const sealed = join([sealer.header, ...parts]);
  assert.equal(sealed.length, encryptedSize(data.length));
  assert.deepEqual(await decryptBytes(KEY, sealed), data);
  // After the last segment, nothing more.
  await assert.rejects(
    () => sealer.seal(new Uint8Array(SEG), false),
    (e) => isTesserasError(e, "INTERNAL"),
  );
  const misuse = await newSegmentSealer(KEY);
  for (
    const [bytes, last] of [
      [SEG - 1, false],
      [SEG + 1, false],
      [SEG + 1, true],
    ] as const
  ) {
    await assert.rejects(
      () => misuse.seal(new Uint8Array(bytes), last),
      (e) => isTesserasError(e, "INTERNAL"),
      `${bytes} bytes, last ${last}`,
    );
  }
  // An empty last segment only for an empty file.
  await misuse.seal(new Uint8Array(SEG), false);
  await assert.rejects(
    () => misuse.seal(new Uint8Array(0), true),
    (e) => isTesserasError(e, "INTERNAL"),
  );
  const empty = await newSegmentSealer(KEY);
  const none = join([empty.header, await empty.seal(new Uint8Array(0), true)]);
  assert.equal((await decryptBytes(KEY, none)).length, 0);
});
