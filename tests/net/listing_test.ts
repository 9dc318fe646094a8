/**
 * The attest request's listing flag (field 4) on the wire: framed only
 * when set, skipped by a decoder that predates it, carried to the
 * holder's handler; a listing answer (empty proofs) is accepted only for a
 * listing, and a forged or malformed one is refused with a clear error.
 */
import assert from "node:assert/strict";
import { Uint8ArrayList } from "uint8arraylist";
import {
  type Attestation,
  attestationSigningBytes,
  type AttestRequest,
  type FragmentEnvelope,
  type InboundHandlers,
  isTesserasError,
  type NodeIdentity,
  type PeerInfo,
  type ShardRef,
} from "../../lib/core/mod.ts";
import { Libp2pDhtPort, type TesserasNode } from "../../lib/net/mod.ts";
import {
  decodeChallenge,
  encodeChallenge,
} from "../../lib/net/protocol/challenge.ts";
import { validateAttestRequest } from "../../lib/net/protocol/attest.ts";
import { WireAttestRequest } from "../../lib/net/protocol/pb/attest.ts";
import { WireProveRequest } from "../../lib/net/protocol/pb/prove.ts";
import {
  hexDigest,
  smallEnvelope,
  startNode,
  stopAll,
  StubHandlers,
} from "./helpers.ts";

const TESSERA = "ab".repeat(32);

Deno.test("the listing flag is framed only when set, and an older decoder skips it", () => {
  const nonce = new Uint8Array(32).fill(1);
  const base = { tesseraId: TESSERA, nonce, indices: [2, 5] };
  const plain = encodeChallenge(WireAttestRequest, base);
  // Without the flag the frame is the one before field 4 existed.
  assert.deepEqual(plain, WireProveRequest.encode(base));
  const listing = encodeChallenge(WireAttestRequest, {
    ...base,
    listing: true,
  });
  assert.deepEqual(listing.subarray(plain.length), Uint8Array.of(32, 1));
  const decode = (frame: Uint8Array) =>
    decodeChallenge(WireAttestRequest, new Uint8ArrayList(frame), {
      what: "attest",
      check: validateAttestRequest,
    });
  assert.equal(decode(listing).listing, true);
  assert.equal("listing" in decode(plain), false);
  // A decoder with fields 1-3 only (a holder before the flag) reads the
  // same request: it answers with proofs, which a listing's reader takes.
  const old = WireProveRequest.decode(listing);
  assert.deepEqual(
    { tesseraId: old.tesseraId, nonce: old.nonce, indices: old.indices },
    base,
  );
});

/**
 * The holder's handlers (the stub's), except that it lists what it holds
 * (empty proofs, signed) to every attest request, then `tamper`s.
 */
class Lister implements InboundHandlers {
  readonly requests: AttestRequest[] = [];
  readonly #stub: StubHandlers;
  tamper: (a: Attestation) => Promise<Attestation> = (a) => Promise.resolve(a);

  constructor(readonly identity: NodeIdentity) {
    this.#stub = new StubHandlers(identity);
  }

  onReplicate(envelope: FragmentEnvelope, from: PeerInfo) {
    return this.#stub.onReplicate(envelope, from);
  }

  onFetch(shard: ShardRef, from: PeerInfo) {
    return this.#stub.onFetch(shard, from);
  }

  async onAttest(request: AttestRequest, from: PeerInfo) {
    this.requests.push(request);
    const real = await this.#stub.onAttest(request, from);
    const unsigned = {
      tesseraId: real.tesseraId,
      holder: real.holder,
      nonce: real.nonce,
      entries: real.entries.map((e) => ({ ...e, proof: "" })),
      timestamp: real.timestamp,
    };
    const signature = await this.identity.sign(
      attestationSigningBytes(unsigned),
    );
    return await this.tamper({ ...unsigned, signature });
  }
}

async function withLister(
  fn: (t: {
    server: TesserasNode;
    client: TesserasNode;
    lister: Lister;
    dht: Libp2pDhtPort;
    tesseraId: string;
    checksum: string;
  }) => Promise<void>,
): Promise<void> {
  const server = await startNode(61);
  const lister = new Lister(server.identity);
  server.setInboundHandlers(lister);
  const client = await startNode(62);
  try {
    await client.connect(server.multiaddrs()[0]);
    const dht = new Libp2pDhtPort(client);
    const data = crypto.getRandomValues(new Uint8Array(4096));
    const envelope = await smallEnvelope(data);
    await dht.replicate(server.peerId, envelope);
    await fn({
      server,
      client,
      lister,
      dht,
      tesseraId: envelope.fragment.tesseraId,
      checksum: await hexDigest(data),
    });
  } finally {
    await stopAll([server, client]);
  }
}

Deno.test("a listing crosses the wire: the holder sees the flag, the answer is checked and signed", async () => {
  await withLister(
    async ({ server, client, lister, dht, tesseraId, checksum }) => {
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      const a = await dht.requestAttestation(server.peerId, {
        tesseraId,
        nonce,
        indices: [],
        listing: true,
      });
      assert.equal(lister.requests.at(-1)!.listing, true);
      assert.deepEqual(a.entries, [{ index: 0, checksum, proof: "" }]);
      assert.deepEqual(a.nonce, nonce);
      assert.equal(
        await client.identity.verify(server.peerId, {
          data: attestationSigningBytes(a),
          signature: a.signature,
        }),
        true,
      );
      // A proof request carries no flag.
      await assert.rejects(
        dht.requestAttestation(server.peerId, {
          tesseraId,
          nonce,
          indices: [],
        }),
      );
      assert.equal("listing" in lister.requests.at(-1)!, false);
    },
  );
});

Deno.test("a listing answered where a proof was asked is refused", async () => {
  await withLister(async ({ server, dht, tesseraId }) => {
    for (const indices of [[], [0]]) {
      await assert.rejects(
        dht.requestAttestation(server.peerId, {
          tesseraId,
          nonce: crypto.getRandomValues(new Uint8Array(32)),
          indices,
        }),
        (e) =>
          isTesserasError(e, "ATTESTATION_FAILED") &&
          /carries no proof: a listing where a proof was asked/.test(
            e.message,
          ),
      );
    }
  });
});

Deno.test("a forged or malformed listing is refused with a clear error", async () => {
  await withLister(async ({ server, client, lister, dht, tesseraId }) => {
    const other = await startNode(63);
    try {
      const resign = (
        change: (a: Attestation) => Omit<Attestation, "signature">,
        signer = server.identity,
      ) =>
      async (a: Attestation) => {
        const unsigned = change(a);
        return {
          ...unsigned,
          signature: await signer.sign(attestationSigningBytes(unsigned)),
        };
      };
      const cases: [
        string,
        (a: Attestation) => Promise<Attestation>,
        RegExp,
      ][] = [
        [
          "signed by another key",
          resign((a) => a, other.identity),
          /bad signature/,
        ],
        ["checksum changed after signing", (a) =>
          Promise.resolve({
            ...a,
            entries: [{ ...a.entries[0], checksum: "cd".repeat(32) }],
          }), /bad signature/],
        [
          "a malformed checksum, signed",
          resign((a) => ({
            ...a,
            entries: [{ ...a.entries[0], checksum: "not hex" }],
          })),
          /malformed checksum/,
        ],
        [
          "a malformed proof, signed",
          resign((a) => ({
            ...a,
            entries: [{ ...a.entries[0], proof: "xyz" }],
          })),
          /malformed proof/,
        ],
        [
          "a shard listed twice, signed",
          resign((a) => ({ ...a, entries: [a.entries[0], a.entries[0]] })),
          /lists a shard twice/,
        ],
      ];
      for (const [name, tamper, reason] of cases) {
        lister.tamper = tamper;
        await assert.rejects(
          dht.requestAttestation(server.peerId, {
            tesseraId,
            nonce: crypto.getRandomValues(new Uint8Array(32)),
            indices: [],
            listing: true,
          }),
          (e) =>
            isTesserasError(e, "ATTESTATION_FAILED") && reason.test(e.message),
          name,
        );
      }
      assert.equal(client.counters().attest.outboundErrors, cases.length);
    } finally {
      await other.stop();
    }
  });
});

Deno.test("a prove request cannot be a listing", async () => {
  await withLister(async ({ server, dht, tesseraId }) => {
    await assert.rejects(
      dht.requestProof(server.peerId, {
        tesseraId,
        nonce: new Uint8Array(32),
        indices: [0],
        listing: true,
      }),
      (e) => isTesserasError(e, "INVALID_INPUT") && /listing/.test(e.message),
    );
  });
});
