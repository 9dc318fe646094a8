import assert from "node:assert/strict";
import { SimRng } from "../../sim/rng.ts";

Deno.test("SimRng: same seed, same stream; forks are independent and stable", () => {
  const a = new SimRng("s"), b = new SimRng("s");
  const xs = Array.from({ length: 5 }, () => a.next32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next32()));
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => new SimRng("t").next32()),
  );
  const f1 = new SimRng("s").fork("x").next32();
  const parent = new SimRng("s");
  parent.next32();
  assert.equal(parent.fork("x").next32(), f1);
  assert.equal(new SimRng(7).seed, "7");
});

Deno.test("SimRng draws stay in range and bytes fill every position", () => {
  const r = new SimRng(1);
  for (let i = 0; i < 1000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
  }
  const bytes = r.bytes(7);
  assert.equal(bytes.length, 7);
  assert.deepEqual(new SimRng(2).bytes(9), new SimRng(2).bytes(9));
  assert.equal(r.poisson(0), 0);
  assert.equal(r.exponential(0), 0);
  assert.deepEqual(r.shuffle([3]), [3]);
});

Deno.test("SimRng distributions have the right means", () => {
  const r = new SimRng("means");
  const n = 20000;
  let e = 0, p = 0, big = 0;
  for (let i = 0; i < n; i++) {
    e += r.exponential(5);
    p += r.poisson(3);
    big += r.poisson(200);
  }
  assert.ok(Math.abs(e / n - 5) < 0.15, `exponential mean ${e / n}`);
  assert.ok(Math.abs(p / n - 3) < 0.08, `poisson mean ${p / n}`);
  assert.ok(Math.abs(big / n - 200) < 1, `poisson(200) mean ${big / n}`);
});
