/**
 * The signed DHT record that points at the owner's current catalogue, so
 * a phrase alone finds it: the record lives under the phrase's record key
 * (see `derive.ts`) and holders keep the newest valid one.
 *
 * Wire form, 181 bytes, big-endian:
 *
 * | bytes | field |
 * |---|---|
 * | 4 | `TSRR` |
 * | 1 | version (1) |
 * | 32 | record key = SHA-256(`tesseras/v1/catalogue-record` ‖ public key) |
 * | 32 | catalogue signing public key (Ed25519) |
 * | 8 | sequence number (grows with every update) |
 * | 8 | timestamp, ms since the epoch |
 * | 32 | tessera id of the sealed catalogue |
 * | 64 | Ed25519 signature of `tesseras/v1/record-signature` ‖ the 117 bytes above |
 *
 * The record is self-certifying: anyone can check that the key signed it
 * and that the key belongs under the record key, without the phrase.
 * {@linkcode newerRecord} refuses replays of older records.
 *
 * @module
 */
import { fromHex, type TesseraId, TesserasError, toHex } from "../core/mod.ts";
import { type Ed25519KeyPair, ed25519Sign, ed25519Verify } from "./ed25519.ts";
import { recordKeyOf } from "./derive.ts";
import { sameBytes } from "./bytes.ts";

const MAGIC = [0x54, 0x53, 0x52, 0x52]; // "TSRR"
const VERSION = 1;
/** Bytes of a catalogue record. */
export const RECORD_BYTES = 181;
const SIGNED_BYTES = 117;
const SIGNATURE_DOMAIN = new TextEncoder().encode(
  "tesseras/v1/record-signature",
);
/** Default tolerance for a record's clock ahead of ours: 10 minutes. */
export const DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000;

/** The fields the owner chooses when publishing a record. */
export interface RecordFields {
  /** Grows with every update; holders keep the highest. */
  readonly sequence: number;
  /** When it was signed, ms since the epoch. */
  readonly timestamp: number;
  /** Tessera id of the sealed catalogue. */
  readonly catalogueId: TesseraId;
}

/** A verified catalogue record. */
export interface CatalogueRecord extends RecordFields {
  /** The DHT key it lives under (32 bytes). */
  readonly recordKey: Uint8Array;
  /** The key that signed it (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Its wire bytes, as verified. */
  readonly bytes: Uint8Array;
}

/** Options of {@linkcode verifyRecord}. */
export interface VerifyRecordOptions {
  /** Refuse a record under any other key (the one it was looked up by). */
  readonly recordKey?: Uint8Array;
  /** Now, ms since the epoch (default `Date.now()`). */
  readonly now?: number;
  /** How far a timestamp may be ahead of `now` (default 10 minutes). */
  readonly maxSkewMs?: number;
}

/**
 * The wire bytes of a record of `fields` signed by `signer`.
 *
 * @example
 * ```ts
 * import { derivePhraseKeys } from "./derive.ts";
 * const { catalogueSigner } = await derivePhraseKeys(new Uint8Array(32));
 * const bytes = await signRecord(
 *   { sequence: 1, timestamp: Date.now(), catalogueId: "ab".repeat(32) },
 *   catalogueSigner,
 * );
 * bytes.length; // 181
 * ```
 */
export async function signRecord(
  fields: RecordFields,
  signer: Ed25519KeyPair,
): Promise<Uint8Array> {
  const { sequence, timestamp } = fields;
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new TesserasError("INVALID_INPUT", "sequence is not a count");
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TesserasError("INVALID_INPUT", "timestamp is not ms since epoch");
  }
  const bytes = new Uint8Array(RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC);
  bytes[4] = VERSION;
  bytes.set(await recordKeyOf(signer.publicKey), 5);
  bytes.set(signer.publicKey, 37);
  view.setBigUint64(69, BigInt(sequence));
  view.setBigUint64(77, BigInt(timestamp));
  bytes.set(idBytes(fields.catalogueId), 85);
  const signature = await ed25519Sign(signer, signedPart(bytes));
  bytes.set(signature, SIGNED_BYTES);
  return bytes;
}

/**
 * The record in `bytes` once its form, key binding, signature and clock
 * check out. `INVALID_INPUT` for malformed bytes or a timestamp from the
 * future; `UNAUTHORIZED` for a forged or altered record, or one under
 * another key than `options.recordKey`.
 *
 * @example
 * ```ts
 * import { derivePhraseKeys } from "./derive.ts";
 * const { catalogueSigner, recordKey } = await derivePhraseKeys(new Uint8Array(32));
 * const bytes = await signRecord(
 *   { sequence: 1, timestamp: Date.now(), catalogueId: "ab".repeat(32) },
 *   catalogueSigner,
 * );
 * (await verifyRecord(bytes, { recordKey })).sequence; // 1
 * ```
 */
export async function verifyRecord(
  bytes: Uint8Array,
  options: VerifyRecordOptions = {},
): Promise<CatalogueRecord> {
  const record = parseRecord(bytes);
  const unauthorized = (why: string) =>
    new TesserasError("UNAUTHORIZED", `catalogue record refused: ${why}`);
  const expected = await recordKeyOf(record.publicKey);
  if (!sameBytes(expected, record.recordKey)) {
    throw unauthorized("its key does not belong to its signer");
  }
  if (options.recordKey && !sameBytes(options.recordKey, record.recordKey)) {
    throw unauthorized("it lives under another record key");
  }
  const signature = bytes.subarray(SIGNED_BYTES);
  const data = signedPart(bytes);
  if (!(await ed25519Verify(record.publicKey, { data, signature }))) {
    throw unauthorized("the signature does not verify (forged or altered)");
  }
  const now = options.now ?? Date.now();
  if (record.timestamp > now + (options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    throw new TesserasError(
      "INVALID_INPUT",
      "catalogue record refused: its timestamp is in the future",
    );
  }
  return record;
}

/**
 * Which of the record kept so far and an `incoming` one (both verified,
 * under one key) to keep: the higher sequence number. The same record
 * again is kept; an older one, or another record with the same sequence
 * number, raises `INVALID_INPUT` (a replay or a fork).
 *
 * @example
 * ```ts
 * // kept = newerRecord(kept, await verifyRecord(bytes, { recordKey }));
 * ```
 */
export function newerRecord(
  current: CatalogueRecord | null,
  incoming: CatalogueRecord,
): CatalogueRecord {
  if (current === null || incoming.sequence > current.sequence) {
    return incoming;
  }
  if (sameBytes(current.bytes, incoming.bytes)) return current;
  throw new TesserasError(
    "INVALID_INPUT",
    incoming.sequence < current.sequence
      ? `catalogue record refused: sequence ${incoming.sequence} is older than the kept ${current.sequence}`
      : `catalogue record refused: another record already has sequence ${incoming.sequence}`,
  );
}

function parseRecord(bytes: Uint8Array): CatalogueRecord {
  if (
    bytes.length !== RECORD_BYTES || !MAGIC.every((b, i) => bytes[i] === b)
  ) {
    throw new TesserasError(
      "INVALID_INPUT",
      "these bytes are no catalogue record",
    );
  }
  if (bytes[4] !== VERSION) {
    throw new TesserasError(
      "INVALID_INPUT",
      `catalogue record format ${
        bytes[4]
      } is not known to this version of tesseras`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const sequence = view.getBigUint64(69);
  const timestamp = view.getBigUint64(77);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (sequence > max || timestamp > max) {
    throw new TesserasError("INVALID_INPUT", "catalogue record out of range");
  }
  return {
    recordKey: bytes.slice(5, 37),
    publicKey: bytes.slice(37, 69),
    sequence: Number(sequence),
    timestamp: Number(timestamp),
    catalogueId: toHex(bytes.subarray(85, SIGNED_BYTES)),
    bytes: bytes.slice(),
  };
}

function signedPart(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNATURE_DOMAIN.length + SIGNED_BYTES);
  out.set(SIGNATURE_DOMAIN);
  out.set(bytes.subarray(0, SIGNED_BYTES), SIGNATURE_DOMAIN.length);
  return out;
}

function idBytes(id: TesseraId): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new TesserasError("INVALID_ID", `"${id}" is not a tessera id`);
  }
  return fromHex(id);
}
