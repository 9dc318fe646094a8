import assert from "node:assert/strict";
import { isTesserasError, MAX_HOLDER_RECORDS } from "../../lib/core/mod.ts";
import {
  holderCid,
  Libp2pDhtPort,
  type TesserasNode,
} from "../../lib/net/mod.ts";
import { startNode, stopAll, waitFor } from "./helpers.ts";

Deno.test("holderCid: CIDv1 raw over a SHA-256 of the domain-separated id", async () => {
  const id = "ab".repeat(32);
  const cid = await holderCid(id);
  assert.equal(cid.version, 1);
  assert.equal(cid.code, 0x55);
  assert.equal(cid.multihash.code, 0x12);
  const input = new Uint8Array([
    ...new TextEncoder().encode("tesseras/holders/1\n"),
    ...Array(32).fill(0xab),
  ]);
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  assert.deepEqual(cid.multihash.digest, expected);
  assert.equal((await holderCid(id)).toString(), cid.toString());
  assert.notEqual(
    (await holderCid("cd".repeat(32))).toString(),
    cid.toString(),
  );
  await assert.rejects(
    () => holderCid("../x"),
    (e) => isTesserasError(e, "INVALID_ID"),
  );
});

Deno.test("five nodes: two holders announce a tessera; a third finds both through kad-dht provider records", async () => {
  const nodes: TesserasNode[] = [];
  try {
    for (let i = 0; i < 5; i++) nodes.push(await startNode(150 + i));
    const hub = nodes[0];
    await Promise.all(
      nodes.slice(1).map((n) => n.connect(hub.multiaddrs()[0])),
    );
    await waitFor(() => hub.routingTableSize() === 4, "hub routing table");
    await waitFor(
      () => nodes.every((n) => n.routingTableSize() >= 2),
      "routing tables",
      15_000,
    );
    const id = "3c".repeat(32);
    const [a, b] = [new Libp2pDhtPort(nodes[1]), new Libp2pDhtPort(nodes[2])];
    await a.announceHolder(id);
    await b.announceHolder(id);
    const seeker = new Libp2pDhtPort(nodes[4]);
    let found: string[] = [];
    await waitFor(
      async () => {
        found = (await seeker.findHolders(id)).map((p) => p.id).sort();
        return found.length === 2;
      },
      "both holders found",
      15_000,
    );
    assert.deepEqual(found, [nodes[1].peerId, nodes[2].peerId].sort());
    // A holder does not find itself; limit caps the answer.
    assert.deepEqual((await a.findHolders(id)).map((p) => p.id), [
      nodes[2].peerId,
    ]);
    assert.equal((await seeker.findHolders(id, { limit: 1 })).length, 1);
    // Another tessera has no holders.
    assert.deepEqual(await seeker.findHolders("4d".repeat(32)), []);
    assert.ok(MAX_HOLDER_RECORDS >= 72);
  } finally {
    await stopAll(nodes);
  }
});
