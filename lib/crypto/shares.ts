/**
 * Shamir shares of the recovery phrase for heirs, each one line of 32
 * words from the phrase's own BIP39 list.
 *
 * The 32 bytes of phrase entropy are split with `shamir-secret-sharing`
 * (audited; GF(2^8), one random x coordinate per share). Each share line
 * spells 44 bytes, 11 bits per word, big-endian:
 *
 * | bytes | field |
 * |---|---|
 * | 1 | format version (1) |
 * | 3 | split id: random, the same on every share of one split |
 * | 1 | threshold K (2-255) |
 * | 1 | share number n (1-N), for the person holding it |
 * | 1 | share count N |
 * | 33 | the Shamir share (32 bytes of y, then x) |
 * | 4 | checksum: SHA-256 of `tesseras/v1/share` and the 40 bytes above |
 *
 * The checksum catches a mistyped or swapped word; the split id catches
 * shares of two different splits; K refuses a recovery from too few
 * shares, which Shamir's arithmetic would otherwise turn into a wrong
 * phrase without a word of warning.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";
import { combine, split } from "shamir-secret-sharing";
import { sha256 } from "./hash.ts";
import { sameBytes } from "./bytes.ts";
import {
  ENTROPY_BYTES,
  normaliseWords,
  wordAt,
  wordIndices,
} from "./phrase.ts";

/** Words in one share line. */
export const SHARE_WORDS = 32;
const SHARE_VERSION = 1;
const SHARE_BYTES = 44;
const BODY_BYTES = 40;
const CHECKSUM_DOMAIN = new TextEncoder().encode("tesseras/v1/share");

/** One decoded share line. */
export interface PhraseShare {
  /** Random id shared by the lines of one split (0 - 2^24-1). */
  readonly splitId: number;
  /** Shares needed to recover. */
  readonly threshold: number;
  /** This share's number, 1-based. */
  readonly number: number;
  /** Shares made by the split. */
  readonly total: number;
  /** The Shamir share: 32 bytes of y then the x coordinate. */
  readonly share: Uint8Array;
}

/** Options of {@linkcode splitPhrase}. */
export interface SplitOptions {
  /** Shares to make, N (2-255). */
  readonly shares: number;
  /** Shares needed to recover, K (2-N). */
  readonly threshold: number;
}

/**
 * Split a phrase's 32 bytes of `entropy` into `shares` lines of words,
 * any `threshold` of which recover it.
 *
 * @example
 * ```ts
 * const lines = await splitPhrase(new Uint8Array(32), { shares: 3, threshold: 2 });
 * lines.length; // 3
 * lines[0].split(" ").length; // 32
 * ```
 */
export async function splitPhrase(
  entropy: Uint8Array,
  options: SplitOptions,
): Promise<string[]> {
  checkSplit(entropy, options);
  const { shares: total, threshold } = options;
  const parts = await split(entropy, total, threshold);
  const splitId = crypto.getRandomValues(new Uint8Array(3));
  const lines: string[] = [];
  for (const [i, share] of parts.entries()) {
    const body = new Uint8Array(BODY_BYTES);
    body.set([SHARE_VERSION, ...splitId, threshold, i + 1, total]);
    body.set(share, 7);
    const bytes = new Uint8Array(SHARE_BYTES);
    bytes.set(body);
    bytes.set(await checksumOf(body), BODY_BYTES);
    lines.push(bytesToWords(bytes).map(wordAt).join(" "));
  }
  return lines;
}

/**
 * Decode one share line; `INVALID_INPUT` (naming `label`, e.g. "share
 * line 2") for a wrong word count, an unknown word or a failing checksum.
 *
 * @example
 * ```ts
 * const [line] = await splitPhrase(new Uint8Array(32), { shares: 2, threshold: 2 });
 * (await parseShareLine(line)).number; // 1
 * ```
 */
export async function parseShareLine(
  line: string,
  label = "share line",
): Promise<PhraseShare> {
  const words = normaliseWords(line);
  if (words.length !== SHARE_WORDS) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${label}: a share has ${SHARE_WORDS} words; got ${words.length}`,
    );
  }
  const bytes = wordsToBytes(wordIndices(words, label));
  const body = bytes.subarray(0, BODY_BYTES);
  const sum = await checksumOf(body);
  if (!sameBytes(sum, bytes.subarray(BODY_BYTES))) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${label}: the share's checksum does not match: a word is mistyped or two words are swapped`,
    );
  }
  if (body[0] !== SHARE_VERSION) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${label}: share format ${
        body[0]
      } is not known to this version of tesseras`,
    );
  }
  return {
    splitId: (body[1] << 16) | (body[2] << 8) | body[3],
    threshold: body[4],
    number: body[5],
    total: body[6],
    share: body.slice(7, BODY_BYTES),
  };
}

/**
 * The phrase entropy recovered from share `lines` (at least the split's
 * threshold of them, all of one split, each once).
 *
 * @example
 * ```ts
 * const lines = await splitPhrase(new Uint8Array(32), { shares: 3, threshold: 2 });
 * await combineShares([lines[2], lines[0]]); // 32 zero bytes
 * ```
 */
export async function combineShares(lines: string[]): Promise<Uint8Array> {
  const shares: PhraseShare[] = [];
  for (const [i, line] of lines.entries()) {
    shares.push(await parseShareLine(line, `share line ${i + 1}`));
  }
  checkOneSplit(shares);
  const secret = await combine(shares.map((s) => s.share));
  if (secret.length !== ENTROPY_BYTES) {
    throw new TesserasError("INTERNAL", "recovered secret has a wrong size");
  }
  return secret;
}

function checkSplit(entropy: Uint8Array, options: SplitOptions): void {
  const { shares, threshold } = options;
  if (entropy.length !== ENTROPY_BYTES) {
    throw new TesserasError(
      "INVALID_INPUT",
      `phrase entropy has ${ENTROPY_BYTES} bytes, got ${entropy.length}`,
    );
  }
  const whole = (n: number) => Number.isInteger(n) && n >= 2 && n <= 255;
  if (!whole(shares) || !whole(threshold) || threshold > shares) {
    throw new TesserasError(
      "INVALID_INPUT",
      `shares and threshold must be whole numbers with 2 <= threshold <= shares <= 255; got ${shares} shares, threshold ${threshold}`,
    );
  }
}

function checkOneSplit(shares: PhraseShare[]): void {
  if (shares.length === 0) {
    throw new TesserasError("INVALID_INPUT", "no share lines were given");
  }
  const first = shares[0];
  for (const s of shares) {
    if (
      s.splitId !== first.splitId || s.threshold !== first.threshold ||
      s.total !== first.total
    ) {
      throw new TesserasError(
        "INVALID_INPUT",
        `share ${s.number} comes from a different split than share ${first.number}: use shares made together by one \`recovery-phrase --shares\``,
      );
    }
  }
  const seen = new Set<number>();
  for (const s of shares) {
    const x = s.share[ENTROPY_BYTES];
    if (seen.has(x)) {
      throw new TesserasError(
        "INVALID_INPUT",
        `share ${s.number} was given twice`,
      );
    }
    seen.add(x);
  }
  if (shares.length < first.threshold) {
    throw new TesserasError(
      "INVALID_INPUT",
      `${shares.length} share(s) given; this split needs ${first.threshold} of its ${first.total}`,
    );
  }
}

async function checksumOf(body: Uint8Array): Promise<Uint8Array> {
  return (await sha256(CHECKSUM_DOMAIN, body)).subarray(0, 4);
}

function bytesToWords(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 11) {
      bits -= 11;
      out.push((acc >>> bits) & 0x7ff);
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function wordsToBytes(indices: number[]): Uint8Array {
  const out = new Uint8Array(SHARE_BYTES);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const w of indices) {
    acc = (acc << 11) | w;
    bits += 11;
    while (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >>> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}
