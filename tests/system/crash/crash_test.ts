/**
 * The short crash run of the regular test suite: a real daemon killed -9
 * five times (receiving, putting, repairing, receiving, putting), each
 * kill followed by `tesseras verify`, the harness's own checks and a
 * restart. The long run is `deno task crash`.
 */
import assert from "node:assert/strict";
import { runCrashHarness } from "./harness.ts";

Deno.test({
  name:
    "crash: 5 kill -9 mid-receive/put/repair: verify clean, nothing half-written listed, ledger = fragments",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lines: string[] = [];
    const summary = await runCrashHarness({
      iterations: 5,
      seed: 5,
      holders: 2,
      senders: 2,
      ipBase: 180,
      log: (line) => lines.push(line),
    });
    const detail = `\n${lines.join("\n")}`;
    assert.deepEqual(summary.findings, [], detail);
    assert.equal(summary.kills, 5, detail);
    assert.equal(summary.restarts, 5, detail);
    assert.equal(summary.byScenario.receive.kills, 2);
    assert.equal(summary.byScenario.put.kills, 2);
    assert.equal(summary.byScenario.repair.kills, 1);
    assert.equal(summary.bystanderKills, 2, "warm-up and repair kill a holder");
    // Something was really happening when the daemons died.
    assert.ok(summary.pushes.accepted > 0, detail);
    assert.ok(summary.byScenario.receive.duringPush >= 1, detail);
    // The clean stop at the end leaves every directory consistent too.
    assert.equal(summary.finalStores.receiver.fragments > 0, true, detail);
    assert.equal(summary.crossLedger.length, 2);
    for (const c of summary.crossLedger) {
      assert.equal(c.holderLedger, c.holderHeld, `${c.holder} ledger`);
    }
  },
});
