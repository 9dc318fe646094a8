import assert from "node:assert/strict";
import {
  derivePhraseKeys,
  newerRecord,
  RECORD_BYTES,
  signRecord,
  verifyRecord,
} from "../../lib/crypto/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";

const NOW = 1_795_000_000_000;
const owner = await derivePhraseKeys(new Uint8Array(32).fill(1));
const stranger = await derivePhraseKeys(new Uint8Array(32).fill(2));
const fields = (sequence: number, timestamp = NOW) => ({
  sequence,
  timestamp,
  catalogueId: "9a".repeat(32),
});

Deno.test("a signed record verifies under its phrase's record key", async () => {
  const bytes = await signRecord(fields(7), owner.catalogueSigner);
  assert.equal(bytes.length, RECORD_BYTES);
  const record = await verifyRecord(bytes, {
    recordKey: owner.recordKey,
    now: NOW,
  });
  assert.equal(record.sequence, 7);
  assert.equal(record.timestamp, NOW);
  assert.equal(record.catalogueId, "9a".repeat(32));
  assert.equal(toHex(record.recordKey), toHex(owner.recordKey));
  assert.deepEqual(record.bytes, bytes);
});

Deno.test("any altered byte of a record is refused", async () => {
  const bytes = await signRecord(fields(7), owner.catalogueSigner);
  for (let at = 0; at < RECORD_BYTES; at++) {
    const bad = bytes.slice();
    bad[at] ^= 1;
    await assert.rejects(
      () => verifyRecord(bad, { recordKey: owner.recordKey, now: NOW }),
      (err) =>
        isTesserasError(err, "UNAUTHORIZED") ||
        isTesserasError(err, "INVALID_INPUT"),
      `byte ${at}`,
    );
  }
});

Deno.test("a stranger cannot write under the owner's record key", async () => {
  // Signed by the stranger with the owner's key pasted in: the signature
  // fails; left as the stranger's: it lives under another key.
  const theirs = await signRecord(fields(99), stranger.catalogueSigner);
  await assert.rejects(
    () => verifyRecord(theirs, { recordKey: owner.recordKey, now: NOW }),
    /under another record key/,
  );
  const forged = theirs.slice();
  forged.set(owner.recordKey, 5);
  await assert.rejects(
    () => verifyRecord(forged, { now: NOW }),
    /does not belong to its signer/,
  );
  forged.set(owner.catalogueSigner.publicKey, 37);
  await assert.rejects(
    () => verifyRecord(forged, { now: NOW }),
    (err) =>
      isTesserasError(err, "UNAUTHORIZED") && /signature/.test(err.message),
  );
});

Deno.test("only newer records replace the kept one; replays and forks are refused", async () => {
  const verify = async (sequence: number, timestamp = NOW) =>
    await verifyRecord(
      await signRecord(fields(sequence, timestamp), owner.catalogueSigner),
      { recordKey: owner.recordKey, now: NOW },
    );
  const r5 = await verify(5);
  const r6 = await verify(6);
  assert.equal(newerRecord(null, r5), r5);
  assert.equal(newerRecord(r5, r6), r6);
  assert.equal(newerRecord(r6, r6), r6);
  assert.throws(
    () => newerRecord(r6, r5),
    /sequence 5 is older than the kept 6/,
  );
  const fork = await verify(6, NOW - 1);
  assert.throws(
    () => newerRecord(r6, fork),
    /another record already has sequence 6/,
  );
});

Deno.test("a record from the future or malformed bytes are refused", async () => {
  const future = await signRecord(
    fields(1, NOW + 11 * 60_000),
    owner.catalogueSigner,
  );
  await assert.rejects(
    () => verifyRecord(future, { now: NOW }),
    /in the future/,
  );
  assert.equal(
    (await verifyRecord(future, { now: NOW, maxSkewMs: 12 * 60_000 })).sequence,
    1,
  );
  await assert.rejects(
    () => verifyRecord(new Uint8Array(180), { now: NOW }),
    /no catalogue record/,
  );
  await assert.rejects(
    () =>
      signRecord({ ...fields(1), catalogueId: "nope" }, owner.catalogueSigner),
    (err) => isTesserasError(err, "INVALID_ID"),
  );
  await assert.rejects(
    () => signRecord(fields(-1), owner.catalogueSigner),
    /sequence/,
  );
});
