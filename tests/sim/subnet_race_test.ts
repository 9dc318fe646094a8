import assert from "node:assert/strict";
import { TesserasError } from "../../lib/core/mod.ts";
import { checkPlacement } from "../../lib/replication/mod.ts";
import { MiniNetwork, testBytes } from "../replication/test_network.ts";

// The race behind `sim --stack libp2p` failing `subnet-cap` now and then:
// a peer fails one push while another push to it is still in flight; if
// the failed peer stops counting against its subnet's cap at once, a
// fresh peer of the same subnet takes its shards, and then the push in
// flight is accepted: three peers of one /24 hold shards (cap 2).
Deno.test("a peer that fails one push while another is in flight keeps counting against its subnet's cap", async () => {
  const net = new MiniNetwork();
  const owner = net.add("owner", "10.99.0.1");
  // One /24 of three peers and four /24s of one: with the cap at 2, six
  // peers take the 24 shards (four each, eight in the three-peer /24,
  // as many as it may lose), and that /24's third peer waits as the spare.
  for (const h of [1, 2, 3]) net.add(`a${h}`, `10.0.1.${h}`);
  for (const s of [2, 3, 4, 5]) net.add(`b${s}`, `10.0.${s}.1`);
  const data = testBytes(5000, 5);
  const first = await placementPeers(net, data);
  assert.equal(first.length, 6);
  const slow = first.find((p) => p.startsWith("a"))!;
  let calls = 0;
  net.node(slow).replicateBehaviour = async (_envelope, serve) => {
    // Its first push fails late; its second, already in flight by then,
    // is accepted later still.
    const call = ++calls;
    await new Promise((r) => setTimeout(r, call === 1 ? 30 : 90));
    if (call === 1) throw new TesserasError("UNREACHABLE", "stream reset");
    return await serve();
  };
  const report = await owner.service.putTessera(data);
  assert.ok(calls >= 2, `the slow peer got ${calls} pushes`);
  const holders = await owner.holders.holders(report.tesseraId);
  const violations = checkPlacement(
    report.plan,
    holders.map((h) => ({
      index: h.index,
      peer: { id: h.peerId, ip: net.node(h.peerId).info.ip },
    })),
    { maxPerSubnet: 2, minTolerance: 0 },
  );
  assert.deepEqual(violations.filter((v) => v.kind === "subnet_cap"), []);
  assert.deepEqual(report.unplaced, []);
});

/** The peers a placement of `data` picks, in slot order (on a copy of `net`). */
async function placementPeers(net: MiniNetwork, data: Uint8Array) {
  const probe = new MiniNetwork();
  for (const [id, node] of net.nodes) probe.add(id, node.info.ip);
  const report = await probe.node("owner").service.putTessera(data);
  return [...new Set(report.placed.map((p) => p.peerId))];
}
