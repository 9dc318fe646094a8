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
