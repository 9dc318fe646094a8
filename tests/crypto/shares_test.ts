import assert from "node:assert/strict";
import fc from "fast-check";
import {
  combineShares,
  parseShareLine,
  SHARE_WORDS,
  splitPhrase,
} from "../../lib/crypto/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";

async function refused(lines: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(() => combineShares(lines), (err) => {
    assert.ok(isTesserasError(err, "INVALID_INPUT"), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("property: any K of N shares recover the entropy, K-1 are refused", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 2, max: 7 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.integer({ min: 2, max: n }),
          fc.shuffledSubarray([...Array(n).keys()], {
            minLength: n,
            maxLength: n,
          }),
        )
      ),
      async (entropy, [n, k, order]) => {
        const lines = await splitPhrase(entropy, { shares: n, threshold: k });
        assert.equal(lines.length, n);
        const chosen = order.slice(0, k).map((i) => lines[i]);
        assert.equal(toHex(await combineShares(chosen)), toHex(entropy));
        // More than K works too.
        const more = order.slice(0, Math.min(n, k + 1)).map((i) => lines[i]);
        assert.equal(toHex(await combineShares(more)), toHex(entropy));
        await refused(
          chosen.slice(0, k - 1),
          new RegExp(`needs ${k} of its ${n}`),
        );
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("a share line is 32 BIP39 words carrying number, count and threshold", async () => {
  const entropy = new Uint8Array(32).fill(9);
  const lines = await splitPhrase(entropy, { shares: 5, threshold: 3 });
  const parsed = await Promise.all(lines.map((l) => parseShareLine(l)));
  for (const [i, share] of parsed.entries()) {
    assert.equal(lines[i].split(" ").length, SHARE_WORDS);
    assert.equal(share.number, i + 1);
    assert.equal(share.total, 5);
    assert.equal(share.threshold, 3);
    assert.equal(share.splitId, parsed[0].splitId);
  }
  // Spacing and case are normalised as for a phrase.
  const messy = `  ${lines[0].toUpperCase().replaceAll(" ", "\n ")} `;
  assert.deepEqual(await parseShareLine(messy), parsed[0]);
});

Deno.test("shares of two different splits of the same phrase are refused", async () => {
  const entropy = new Uint8Array(32).fill(1);
  const a = await splitPhrase(entropy, { shares: 3, threshold: 2 });
  const b = await splitPhrase(entropy, { shares: 3, threshold: 2 });
  await refused([a[0], b[1]], /different split/);
  const c = await splitPhrase(new Uint8Array(32), { shares: 4, threshold: 2 });
  await refused([a[0], c[1]], /different split/);
});

Deno.test("the same share twice does not count as two", async () => {
  const lines = await splitPhrase(new Uint8Array(32), {
    shares: 3,
    threshold: 2,
  });
  await refused([lines[1], lines[1]], /share 2 was given twice/);
  await refused([], /no share lines/);
});

Deno.test("a mistyped, missing or unknown word in a share is refused by line", async () => {
  const lines = await splitPhrase(new Uint8Array(32).fill(5), {
    shares: 3,
    threshold: 2,
  });
  const words = lines[1].split(" ");
  for (let i = 0; i < words.length; i++) {
    const typo = [...words];
    typo[i] = typo[i] === "abandon" ? "ability" : "abandon";
    await refused(
      [lines[0], typo.join(" ")],
      /share line 2: the share's checksum/,
    );
  }
  await refused(
    [lines[0], words.slice(1).join(" ")],
    /share line 2: a share has 32 words; got 31/,
  );
  const unknown = [...words];
  unknown[3] = "bitcoin";
  await refused(
    [unknown.join(" "), lines[1]],
    /share line 1: word 4, "bitcoin"/,
  );
  // A 24-word phrase is not a share.
  await refused([`${"abandon ".repeat(23)}art`], /32 words; got 24/);
});

Deno.test("split parameters out of range are refused", async () => {
  const e = new Uint8Array(32);
  for (const [shares, threshold] of [[3, 1], [2, 3], [256, 2], [3, 2.5]]) {
    await assert.rejects(
      () => splitPhrase(e, { shares, threshold }),
      (err) => isTesserasError(err, "INVALID_INPUT"),
    );
  }
  await assert.rejects(
    () => splitPhrase(new Uint8Array(16), { shares: 2, threshold: 2 }),
    /32 bytes/,
  );
});
