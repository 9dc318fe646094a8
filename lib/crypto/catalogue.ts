/**
 * The owner's catalogue (every tessera's id, name, size, time and, for a
 * private tessera, its content key), sealed with the phrase's catalogue
 * key so that it can live on the network as an ordinary tessera.
 *
 * Sealed form: `TSRC`, a version byte (1), a 12-byte random nonce, then
 * AES-256-GCM of the catalogue's UTF-8 JSON with those 17 header bytes as
 * associated data. A fresh nonce per sealing; the key is only ever used
 * for catalogues, which are few (one per update).
 *
 * @module
 */
import {
  type FragmentPlan,
  isTesseraId,
  planFields,
  type TesseraId,
  TesserasError,
  TIER_SHAPES,
} from "../core/mod.ts";
import { gcmOpen, gcmSeal, importAesKey } from "./aes_gcm.ts";

const MAGIC = [0x54, 0x53, 0x52, 0x43]; // "TSRC"
const VERSION = 1;
const HEADER_BYTES = 17;
const MAX_NAME = 1024;
/**
 * The largest catalogue, bytes of JSON: about 160,000 tesseras at ~420
 * bytes an entry (a named private Large tessera with its plan). Under 4
 * MiB (about 10,000 tesseras) it is a Small tessera, kept whole by every
 * holder; past that, a Medium one.
 */
export const MAX_CATALOGUE_BYTES = 64 * 1024 * 1024;

/** One tessera in the catalogue. */
export interface CatalogueEntry {
  /** Tessera id (for a private tessera: of its ciphertext). */
  readonly id: TesseraId;
  /** The name given with `put --name`, if any. */
  readonly name?: string;
  /** Size in bytes of what the owner put (the plaintext). */
  readonly size: number;
  /** When it was put, ms since the epoch. */
  readonly time: number;
  /** Content key of a private tessera, 64 hex characters. */
  readonly key?: string;
  /** How it is fragmented (absent when it was not placed yet). */
  readonly plan?: FragmentPlan;
  /**
   * BLAKE3 of its shard checksums in index order, 64 hex characters: with
   * the plan, what a recovered owner needs to take the tessera back from
   * its holders' answers without downloading it.
   */
  readonly checks?: string;
}

/** The owner's list of tesseras. */
export interface Catalogue {
  /** Every tessera, in the order they were put. */
  readonly entries: readonly CatalogueEntry[];
}

/**
 * `catalogue` sealed with the 32-byte catalogue key `key`.
 *
 * @example
 * ```ts
 * const key = new Uint8Array(32);
 * const sealed = await sealCatalogue({ entries: [] }, key);
 * (await openCatalogue(sealed, key)).entries.length; // 0
 * ```
 */
export async function sealCatalogue(
  catalogue: Catalogue,
  key: Uint8Array,
): Promise<Uint8Array> {
  const entries = catalogue.entries.map(checkEntry);
  const json = new TextEncoder().encode(
    JSON.stringify({ v: VERSION, entries }),
  );
  if (json.length > MAX_CATALOGUE_BYTES) {
    throw new TesserasError(
      "TOO_LARGE",
      `the catalogue of ${entries.length} tesseras is ${json.length} bytes; the limit is ${MAX_CATALOGUE_BYTES}`,
    );
  }
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC);
  header[4] = VERSION;
  crypto.getRandomValues(header.subarray(5));
  const aes = await importAesKey(key);
  const sealed = await gcmSeal(aes, json, {
    iv: header.subarray(5),
    aad: header,
  });
  const out = new Uint8Array(HEADER_BYTES + sealed.length);
  out.set(header);
  out.set(sealed, HEADER_BYTES);
  return out;
}

/**
 * The catalogue sealed in `bytes`. `INVALID_INPUT` when the bytes are no
 * sealed catalogue, `CHECKSUM_MISMATCH` when `key` does not open them
 * (another phrase's catalogue, or altered bytes).
 *
 * @example
 * ```ts
 * const key = new Uint8Array(32);
 * const entry = { id: "ab".repeat(32), name: "letters", size: 5, time: 1 };
 * const sealed = await sealCatalogue({ entries: [entry] }, key);
 * (await openCatalogue(sealed, key)).entries[0].name; // "letters"
 * ```
 */
export async function openCatalogue(
  bytes: Uint8Array,
  key: Uint8Array,
): Promise<Catalogue> {
  const header = bytes.subarray(0, HEADER_BYTES);
  if (
    bytes.length < HEADER_BYTES || !MAGIC.every((b, i) => header[i] === b)
  ) {
    throw new TesserasError("INVALID_INPUT", "these bytes are no catalogue");
  }
  if (header[4] !== VERSION) {
    throw new TesserasError(
      "INVALID_INPUT",
      `catalogue format ${header[4]} is not known to this version of tesseras`,
    );
  }
  const aes = await importAesKey(key);
  const plain = await gcmOpen(
    aes,
    bytes.subarray(HEADER_BYTES),
    {
      iv: header.subarray(5),
      aad: header,
      failure:
        "the catalogue does not open with this phrase's key (another phrase, or altered bytes)",
    },
  );
  return parseCatalogueJson(new TextDecoder().decode(plain));
}

function parseCatalogueJson(text: string): Catalogue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", "catalogue is not JSON", {
      cause,
    });
  }
  const doc = parsed as { v?: unknown; entries?: unknown };
  if (doc?.v !== VERSION || !Array.isArray(doc.entries)) {
    throw new TesserasError("INVALID_INPUT", "catalogue JSON has no entries");
  }
  return { entries: doc.entries.map(checkEntry) };
}

function checkEntry(value: unknown): CatalogueEntry {
  const e = value as Record<string, unknown>;
  const bad = (why: string) =>
    new TesserasError("INVALID_INPUT", `catalogue entry: ${why}`);
  if (typeof e !== "object" || e === null) throw bad("not an object");
  if (!isTesseraId(e.id)) throw bad("id is not a tessera id");
  if (!Number.isSafeInteger(e.size) || (e.size as number) < 0) {
    throw bad("size is not a byte count");
  }
  if (!Number.isSafeInteger(e.time)) throw bad("time is not ms since epoch");
  if (
    e.name !== undefined &&
    (typeof e.name !== "string" || e.name.length > MAX_NAME)
  ) throw bad(`name is not a string of at most ${MAX_NAME} characters`);
  if (
    e.key !== undefined &&
    (typeof e.key !== "string" || !/^[0-9a-f]{64}$/.test(e.key))
  ) throw bad("key is not 64 lowercase hex characters");
  if (
    e.checks !== undefined &&
    (typeof e.checks !== "string" || !/^[0-9a-f]{64}$/.test(e.checks))
  ) throw bad("checks is not 64 lowercase hex characters");
  if (e.plan !== undefined && !isPlan(e.plan)) throw bad("plan is no plan");
  return {
    id: e.id,
    ...(e.name === undefined ? {} : { name: e.name as string }),
    size: e.size as number,
    time: e.time as number,
    ...(e.key === undefined ? {} : { key: e.key as string }),
    ...(e.plan === undefined
      ? {}
      : { plan: planFields(e.plan as FragmentPlan) }),
    ...(e.checks === undefined ? {} : { checks: e.checks as string }),
  };
}

function isPlan(value: unknown): boolean {
  const p = value as Record<string, unknown>;
  if (typeof p !== "object" || p === null) return false;
  const shape = TIER_SHAPES[p.tier as FragmentPlan["tier"]];
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return Object.hasOwn(TIER_SHAPES, p.tier as string) &&
    p.dataShards === shape.dataShards &&
    p.parityShards === shape.parityShards &&
    p.shardCount === shape.dataShards + shape.parityShards &&
    count(p.size) && count(p.shardSize);
}
