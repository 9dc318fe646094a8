import assert from "node:assert/strict";
import {
  assertTesseraId,
  assertTesseraSize,
  isTesseraId,
  isTesserasError,
  MAX_TESSERA_SIZE,
  replicationConfig,
} from "../../lib/core/mod.ts";

Deno.test("isTesseraId accepts 64 lowercase hex only", () => {
  assert.equal(isTesseraId("ab".repeat(32)), true);
  assert.equal(isTesseraId("AB".repeat(32)), false);
  assert.equal(isTesseraId("ab".repeat(31)), false);
  assert.equal(isTesseraId("../".padEnd(64, "a")), false);
  assert.equal(isTesseraId(42), false);
});

Deno.test("assertTesseraId throws INVALID_ID for hostile ids", () => {
  for (const bad of ["", "..", "a/b", "00".repeat(32) + "\n", "/etc/passwd"]) {
    assert.throws(
      () => assertTesseraId(bad),
      (e) => isTesserasError(e, "INVALID_ID"),
    );
  }
});

Deno.test("assertTesseraSize enforces the 1 GiB limit", () => {
  assert.equal(MAX_TESSERA_SIZE, 1_073_741_824);
  assertTesseraSize(MAX_TESSERA_SIZE);
  assert.throws(
    () => assertTesseraSize(MAX_TESSERA_SIZE + 1),
    (e) => isTesserasError(e, "TOO_LARGE"),
  );
  assert.throws(
    () => assertTesseraSize(-1),
    (e) => isTesserasError(e, "INVALID_INPUT"),
  );
});

Deno.test("replication config defaults follow the spec", () => {
  const cfg = replicationConfig();
  assert.equal(cfg.repairIntervalMs, 86_400_000);
  assert.equal(cfg.repairJitterMs, 7_200_000);
  assert.equal(cfg.concurrentTransfers, 4);
  assert.equal(cfg.minFreeSpaceBytes, 1_000_000_000);
  assert.equal(cfg.deficitToleranceBytes, 268_435_456);
  assert.equal(cfg.perPeerStorageLimitBytes, 1_000_000_000);
  assert.equal(cfg.maxPerSubnet, 2);
  assert.equal(replicationConfig({ maxPerSubnet: 3 }).maxPerSubnet, 3);
});
