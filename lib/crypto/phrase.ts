/**
 * The recovery phrase: 24 words of the BIP39 English list that encode 256
 * bits of entropy and an 8-bit checksum (`@scure/bip39`). Everything the
 * person owns is derived from the entropy (see `derive.ts`); the phrase is
 * only its spelling. Parsing is forgiving about spacing and case, strict
 * about everything else, and says which word is wrong.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { entropyToMnemonic, mnemonicToEntropy } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";

/** Words in a recovery phrase. */
export const PHRASE_WORDS = 24;
/** Bytes of entropy a recovery phrase encodes. */
export const ENTROPY_BYTES = 32;

/**
 * A new random recovery phrase and its entropy.
 *
 * @example
 * ```ts
 * const { phrase, entropy } = generatePhrase();
 * phrase.split(" ").length; // 24
 * entropy.length; // 32
 * ```
 */
export function generatePhrase(): { phrase: string; entropy: Uint8Array } {
  const entropy = crypto.getRandomValues(new Uint8Array(ENTROPY_BYTES));
  return { phrase: phraseOf(entropy), entropy };
}

/**
 * The 24-word phrase spelling 32 bytes of `entropy`.
 *
 * @example
 * ```ts
 * phraseOf(new Uint8Array(32)).split(" ")[0]; // "abandon"
 * ```
 */
export function phraseOf(entropy: Uint8Array): string {
  if (entropy.length !== ENTROPY_BYTES) {
    throw new TesserasError(
      "INVALID_INPUT",
      `a recovery phrase encodes ${ENTROPY_BYTES} bytes, got ${entropy.length}`,
    );
  }
  return entropyToMnemonic(entropy, wordlist);
}

/**
 * The words of `text`: Unicode-normalised (NFKD, as BIP39 asks), lower
 * case, split on any run of whitespace.
 *
 * @example
 * ```ts
 * normaliseWords("  Abandon\tABOUT\n"); // ["abandon", "about"]
 * ```
 */
export function normaliseWords(text: string): string[] {
  return text.normalize("NFKD").toLowerCase().split(/\s+/u).filter((w) =>
    w !== ""
  );
}

/**
 * The index of every word of `words` in the BIP39 English list; an
 * unknown word raises `INVALID_INPUT` naming it, its position and the
 * list words that start like it (BIP39 words differ in their first four
 * letters).
 *
 * @example
 * ```ts
 * wordIndices(["abandon", "zoo"], "phrase"); // [0, 2047]
 * ```
 */
export function wordIndices(words: string[], what: string): number[] {
  return words.map((word, i) => {
    const index = wordIndex(word);
    if (index >= 0) return index;
    const near = wordlist.filter((w) => w.startsWith(word.slice(0, 3)))
      .slice(0, 4);
    const hint = near.length > 0 ? `; did you mean ${near.join(", ")}?` : "";
    throw new TesserasError(
      "INVALID_INPUT",
      `${what}: word ${
        i + 1
      }, "${word}", is not in the BIP39 English word list${hint}`,
    );
  });
}

/**
 * The BIP39 English word at `index` (0-2047).
 *
 * @example
 * ```ts
 * wordAt(2047); // "zoo"
 * ```
 */
export function wordAt(index: number): string {
  const word = wordlist[index];
  if (word === undefined) {
    throw new TesserasError("INTERNAL", `no BIP39 word at ${index}`);
  }
  return word;
}

/**
 * The 32 bytes of entropy a typed recovery phrase spells. Wrong word
 * counts, unknown words and a failing checksum raise `INVALID_INPUT` with
 * what to fix.
 *
 * @example
 * ```ts
 * const { phrase, entropy } = generatePhrase();
 * parsePhrase(` ${phrase.toUpperCase()}\n`); // equal to entropy
 * ```
 */
export function parsePhrase(text: string): Uint8Array {
  const words = normaliseWords(text);
  if (words.length !== PHRASE_WORDS) {
    throw new TesserasError(
      "INVALID_INPUT",
      `a recovery phrase has ${PHRASE_WORDS} words; got ${words.length}`,
    );
  }
  wordIndices(words, "recovery phrase");
  try {
    return mnemonicToEntropy(words.join(" "), wordlist);
  } catch (cause) {
    throw new TesserasError(
      "INVALID_INPUT",
      "the recovery phrase's checksum does not match: a word is mistyped or two words are swapped; check it against the paper copy",
      { cause },
    );
  }
}

function wordIndex(word: string): number {
  // Binary search: the English list is sorted.
  let lo = 0;
  let hi = wordlist.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = wordlist[mid];
    if (at === word) return mid;
    if (at < word) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
