import assert from "node:assert/strict";
import { Command, InvalidArgumentError } from "commander";
import { addNatOptions, parseCount } from "../../lib/node/cli/mod.ts";

Deno.test("parseCount takes non-negative integers and refuses the rest", () => {
  assert.equal(parseCount("0"), 0);
  assert.equal(parseCount("4096"), 4096);
  for (const bad of ["-1", "1.5", "x", "1e400", "9007199254740993"]) {
    assert.throws(() => parseCount(bad), InvalidArgumentError);
  }
});

Deno.test("start's NAT counts go through parseCount", () => {
  const start = addNatOptions(new Command("start")).exitOverride()
    .configureOutput({ writeErr: () => {} });
  start.parse(["--relay-reservations", "3"], { from: "user" });
  assert.equal(start.opts().relayReservations, 3);
  assert.throws(
    () => start.parse(["--relay-data-limit", "-5"], { from: "user" }),
    /non-negative integer/,
  );
});
