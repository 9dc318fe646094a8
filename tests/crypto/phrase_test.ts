import assert from "node:assert/strict";
import { generatePhrase, parsePhrase, phraseOf } from "../../lib/crypto/mod.ts";
import { isTesserasError, toHex } from "../../lib/core/mod.ts";

// Trezor's published BIP39 vectors (256-bit entropy, English).
const VECTORS: [number, string][] = [
  [0x00, `${"abandon ".repeat(23)}art`],
  [
    0x7f,
    "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title",
  ],
  [0xff, `${"zoo ".repeat(23)}vote`],
];

function refused(text: string, pattern: RegExp): void {
  assert.throws(() => parsePhrase(text), (err) => {
    assert.ok(isTesserasError(err, "INVALID_INPUT"), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("phrases match the BIP39 reference vectors both ways", () => {
  for (const [fill, phrase] of VECTORS) {
    const entropy = new Uint8Array(32).fill(fill);
    assert.equal(phraseOf(entropy), phrase);
    assert.equal(toHex(parsePhrase(phrase)), toHex(entropy));
  }
});

Deno.test("a generated phrase has 24 words and parses back to its entropy", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const { phrase, entropy } = generatePhrase();
    assert.equal(phrase.split(" ").length, 24);
    assert.deepEqual(parsePhrase(phrase), entropy);
    seen.add(phrase);
  }
  assert.equal(seen.size, 20);
});

Deno.test("spacing, line breaks and case do not matter", () => {
  const [, phrase] = VECTORS[1];
  const messy = `\n  ${phrase.toUpperCase().split(" ").join("\t \n")}  \r\n`;
  assert.equal(toHex(parsePhrase(messy)), "7f".repeat(32));
});

Deno.test("a wrong word count is refused with the counts", () => {
  const [, phrase] = VECTORS[0];
  refused(phrase.split(" ").slice(0, 23).join(" "), /24 words; got 23/);
  refused(`${phrase} abandon`, /24 words; got 25/);
  refused("", /got 0/);
  // A 12-word BIP39 phrase is valid BIP39 but not ours.
  refused(`${"abandon ".repeat(11)}about`, /got 12/);
});

Deno.test("an unknown word is named with its position and near words", () => {
  const words = VECTORS[1][1].split(" ");
  words[4] = "wavy";
  refused(words.join(" "), /word 5, "wavy", is not in the BIP39.*wave/);
  words[4] = "qqqq";
  refused(words.join(" "), /word 5, "qqqq"/);
});

Deno.test("a bad checksum word or two swapped words are refused", () => {
  const words = VECTORS[1][1].split(" ");
  const last = [...words];
  last[23] = "zoo";
  refused(last.join(" "), /checksum does not match/);
  const swapped = [...words];
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  refused(swapped.join(" "), /checksum/);
  // One changed word anywhere: every position, the checksum catches it
  // unless the change lands on another valid phrase (1 in 256): count.
  let caught = 0;
  for (let i = 0; i < 24; i++) {
    const typo = [...words];
    typo[i] = typo[i] === "abandon" ? "ability" : "abandon";
    try {
      parsePhrase(typo.join(" "));
    } catch (err) {
      if (isTesserasError(err, "INVALID_INPUT")) caught++;
    }
  }
  assert.ok(caught >= 22, `caught ${caught} of 24 single-word typos`);
});
