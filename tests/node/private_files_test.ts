import assert from "node:assert/strict";
import { join } from "node:path";
import { isTesserasError, MAX_TESSERA_SIZE } from "../../lib/core/mod.ts";
import {
  decryptBytes,
  DEFAULT_SEGMENT_BYTES,
  encryptBytes,
  encryptedSize,
  maxPlainSize,
  newContentKey,
} from "../../lib/crypto/mod.ts";
import {
  decryptingSink,
  plainSink,
  sealFile,
} from "../../lib/node/private_files.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tesseras-private-files-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const plain = new Uint8Array(3 * DEFAULT_SEGMENT_BYTES / 4).map((_, i) =>
  i * 13
);
const big = new Uint8Array(2 * DEFAULT_SEGMENT_BYTES + 17).map((_, i) => i * 7);

Deno.test("sealFile writes the ciphertext, 0600, that decrypts back through the get's sink", async () => {
  await withDir(async (dir) => {
    const source = join(dir, "in.bin");
    await Deno.writeFile(source, big);
    const key = newContentKey();
    const seen: number[] = [];
    const sealed = await sealFile(source, {
      dir: join(dir, "sealing"),
      contentKey: key,
      onProgress: (done) => seen.push(done),
    });
    const bytes = await Deno.readFile(sealed.path);
    assert.equal(bytes.length, encryptedSize(big.length));
    assert.equal(sealed.plainSize, big.length);
    assert.equal((await Deno.stat(sealed.path)).mode! & 0o777, 0o600);
    assert.deepEqual(seen, [
      DEFAULT_SEGMENT_BYTES,
      2 * DEFAULT_SEGMENT_BYTES,
      big.length,
    ]);
    // It decrypts back through the sink a get uses.
    const out = join(dir, "out.bin");
    const file = await Deno.open(out, { write: true, createNew: true });
    const sink = decryptingSink(file, key);
    await sink.write(bytes);
    await sink.finish();
    file.close();
    assert.deepEqual(await Deno.readFile(out), big);
    assert.equal(sink.size, big.length);
  });
});

Deno.test("sealFile on every segment boundary: the same format as the encrypting stream, each decrypts back", async () => {
  await withDir(async (dir) => {
    const seg = DEFAULT_SEGMENT_BYTES;
    const key = newContentKey();
    for (const n of [0, 1, seg - 1, seg, seg + 1, 2 * seg, 3 * seg + 5]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31) >> 3);
      const source = join(dir, `in-${n}.bin`);
      await Deno.writeFile(source, data);
      const sealed = await sealFile(source, {
        dir: join(dir, "sealing"),
        contentKey: key,
      });
      const bytes = await Deno.readFile(sealed.path);
      assert.equal(bytes.length, encryptedSize(n), `size of ${n}`);
      assert.deepEqual(await decryptBytes(key, bytes), data, `bytes of ${n}`);
      // A fresh salt per file: the same key and bytes seal differently.
      const again = await sealFile(source, {
        dir: join(dir, "sealing"),
        contentKey: key,
      });
      assert.notDeepEqual(await Deno.readFile(again.path), bytes);
    }
  });
});

Deno.test("sealFile refuses a file past the private limit and an aborted seal, leaving no scratch file", async () => {
  await withDir(async (dir) => {
    const sealing = join(dir, "sealing");
    const huge = join(dir, "huge.bin");
    // Sparse: refused from its size, before any byte is read.
    await Deno.writeFile(huge, new Uint8Array(0));
    await Deno.truncate(huge, maxPlainSize(MAX_TESSERA_SIZE) + 1);
    await assert.rejects(
      () => sealFile(huge, { dir: sealing, contentKey: newContentKey() }),
      (e) =>
        isTesserasError(e, "TOO_LARGE") && /split it first/.test(e.message),
    );
    const source = join(dir, "in.bin");
    await Deno.writeFile(source, big);
    const stop = new AbortController();
    await assert.rejects(
      () =>
        sealFile(source, {
          dir: sealing,
          contentKey: newContentKey(),
          signal: stop.signal,
          onProgress: () => stop.abort(new Error("the put was cancelled")),
        }),
      /the put was cancelled/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(sealing)), []);
  });
});

Deno.test("a decrypting sink starts over cleanly when the retrieval resets", async () => {
  await withDir(async (dir) => {
    const key = newContentKey();
    const sealed = await encryptBytes(key, big);
    const out = join(dir, "out.bin");
    const file = await Deno.open(out, { write: true, createNew: true });
    const sink = decryptingSink(file, key);
    // A first source delivers most of it, then fails verification.
    await sink.write(sealed.subarray(0, DEFAULT_SEGMENT_BYTES + 100));
    await sink.write(
      sealed.subarray(DEFAULT_SEGMENT_BYTES + 100, sealed.length - 50),
    );
    await sink.reset();
    assert.equal(sink.size, 0);
    // The next source sends all of it, in odd pieces.
    for (let at = 0; at < sealed.length; at += 12_345) {
      await sink.write(
        sealed.subarray(at, Math.min(sealed.length, at + 12_345)),
      );
    }
    await sink.finish();
    file.close();
    assert.deepEqual(await Deno.readFile(out), big);
  });
});

Deno.test("a decrypting sink refuses a truncated tessera at the end and a wrong key at once", async () => {
  await withDir(async (dir) => {
    const key = newContentKey();
    const sealed = await encryptBytes(key, big);
    const file = await Deno.open(join(dir, "a"), {
      write: true,
      createNew: true,
    });
    const cut = decryptingSink(file, key);
    await cut.write(sealed.subarray(0, sealed.length - 1));
    await assert.rejects(
      () => cut.finish(),
      (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
    );
    const wrong = decryptingSink(file, newContentKey());
    await assert.rejects(async () => {
      await wrong.write(sealed);
      await wrong.finish();
    }, (e) => isTesserasError(e, "UNAUTHORIZED"));
    file.close();
  });
});

Deno.test("a plain sink refuses a private tessera even when its head comes in pieces", async () => {
  await withDir(async (dir) => {
    const sealed = await encryptBytes(newContentKey(), plain);
    const file = await Deno.open(join(dir, "p"), {
      write: true,
      createNew: true,
    });
    const sink = plainSink(file, { refusePrivate: true, id: "ab".repeat(32) });
    await sink.write(sealed.subarray(0, 3));
    await assert.rejects(
      () => sink.write(sealed.subarray(3, 100)),
      (e) => isTesserasError(e, "UNAUTHORIZED") && /is private/.test(e.message),
    );
    // The owner's own public bytes pass whatever they start with.
    const owner = plainSink(file, { refusePrivate: false });
    await owner.reset();
    await owner.write(sealed);
    await owner.finish();
    file.close();
    assert.deepEqual(await Deno.readFile(join(dir, "p")), sealed);
    assert.equal(owner.size, sealed.length);
  });
});

/** `sealed` through a decrypting sink into a file, in pieces of `piece`. */
async function throughSink(
  dir: string,
  key: Uint8Array,
  sealed: Uint8Array,
  piece: number,
): Promise<Uint8Array> {
  const path = join(dir, `sink-${crypto.randomUUID()}`);
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    const sink = decryptingSink(file, key);
    for (let at = 0; at < sealed.length; at += piece) {
      await sink.write(
        sealed.subarray(at, Math.min(sealed.length, at + piece)),
      );
    }
    await sink.finish();
  } finally {
    file.close();
  }
  return await Deno.readFile(path);
}

Deno.test("a decrypting sink on every segment boundary, in any pieces: round trips, and every tampering refused", async () => {
  await withDir(async (dir) => {
    const seg = DEFAULT_SEGMENT_BYTES;
    const key = newContentKey();
    for (const n of [0, 1, seg - 1, seg, seg + 1, 2 * seg, 3 * seg + 5]) {
      const data = new Uint8Array(n).map((_, i) => (i * 7) ^ (i >> 9));
      const sealed = await encryptBytes(key, data);
      for (const piece of [40, 65_536, seg + 16, 3 * seg]) {
        assert.deepEqual(
          await throughSink(dir, key, sealed, piece),
          data,
          `${n} bytes in pieces of ${piece}`,
        );
      }
      const refused = async (bytes: Uint8Array, code: string, what: string) =>
        await assert.rejects(
          () => throughSink(dir, key, bytes, 65_536),
          (e) => isTesserasError(e, code as "CHECKSUM_MISMATCH"),
          `${n} bytes: ${what}`,
        );
      // Cut at every segment boundary, inside a segment, inside the header.
      const ends = [39, 40, sealed.length - 1];
      for (let at = 40 + seg + 16; at < sealed.length; at += seg + 16) {
        ends.push(at, at - 7);
      }
      for (const end of ends) {
        await refused(
          sealed.subarray(0, end),
          "CHECKSUM_MISMATCH",
          `cut ${end}`,
        );
      }
      const flipped = sealed.slice();
      flipped[sealed.length - 1] ^= 1; // the last tag
      await refused(flipped, "CHECKSUM_MISMATCH", "a flipped bit");
      await assert.rejects(
        () => throughSink(dir, newContentKey(), sealed, 65_536),
        (e) => isTesserasError(e, "UNAUTHORIZED"),
      );
    }
    // Segments swapped, duplicated, dropped.
    const sealed = await encryptBytes(key, new Uint8Array(3 * seg + 5));
    const at = (i: number) => 40 + i * (seg + 16);
    const s = [0, 1, 2, 3].map((i) => sealed.subarray(at(i), at(i + 1)));
    const head = sealed.subarray(0, 40);
    for (
      const [what, parts] of [
        ["swap 0,1", [s[1], s[0], s[2], s[3]]],
        ["duplicate 1", [s[0], s[1], s[1], s[2], s[3]]],
        ["drop 2", [s[0], s[1], s[3]]],
        ["last twice", [s[0], s[1], s[2], s[3], s[3]]],
      ] as const
    ) {
      const bytes = new Uint8Array(
        [head, ...parts].reduce((n, p) => n + p.length, 0),
      );
      let o = 0;
      for (const p of [head, ...parts]) {
        bytes.set(p, o);
        o += p.length;
      }
      await assert.rejects(
        () => throughSink(dir, key, bytes, 65_536),
        (e) => isTesserasError(e, "CHECKSUM_MISMATCH"),
        what,
      );
    }
  });
});
