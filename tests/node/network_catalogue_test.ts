import assert from "node:assert/strict";
import { derivePhraseKeys, signRecord } from "../../lib/crypto/mod.ts";
import { catalogueRecordRules } from "../../lib/node/network_catalogue.ts";

const owner = await derivePhraseKeys(new Uint8Array(32).fill(3));
const other = await derivePhraseKeys(new Uint8Array(32).fill(4));
const record = (sequence: number, signer = owner.catalogueSigner) =>
  signRecord(
    { sequence, timestamp: Date.now(), catalogueId: "cd".repeat(32) },
    signer,
  );

Deno.test("the DHT keeps only valid catalogue records under their own key", async () => {
  const rules = catalogueRecordRules();
  await rules.validate(owner.recordKey, await record(1));
  const foreign = await record(2, other.catalogueSigner);
  await assert.rejects(() => rules.validate(owner.recordKey, foreign));
  const forged = await record(3);
  forged[100] ^= 1;
  await assert.rejects(() => rules.validate(owner.recordKey, forged));
  await assert.rejects(() =>
    rules.validate(owner.recordKey, new Uint8Array(10))
  );
});

Deno.test("of several records the highest valid sequence wins", async () => {
  const rules = catalogueRecordRules();
  const forged = await record(99);
  forged[120] ^= 1;
  const values = [await record(5), forged, await record(7), await record(6)];
  assert.equal(await rules.select(owner.recordKey, values), 2);
  assert.equal(await rules.select(owner.recordKey, [forged]), 0);
});
