/**
 * `/tesseras/replicate/1.0.0`: the owner pushes one shard in a
 * `FragmentEnvelope`; the receiver answers with a `ReplicateAck`.
 *
 * The wire layer checks the shape of the envelope (ids, plan arithmetic,
 * sizes) before the replication service sees it; the service checks
 * checksums, reciprocity and quotas.
 *
 * @module
 */
import {
  type ErrorCode,
  type FragmentEnvelope,
  type FragmentPlan,
  type InboundHandlers,
  isTesseraId,
  isTesserasError,
  MAX_TESSERA_SIZE,
  planFields,
  type ReplicateAck,
  type SpooledShard,
  TesserasError,
  TIER_SHAPES,
  toHex,
} from "../../core/mod.ts";
import { OutboardBuilder } from "../../codec/mod.ts";
import { manifestFromFields, manifestSizeProblem } from "./wire_manifest.ts";
import type { Libp2p } from "@libp2p/interface";
import { Uint8ArrayList } from "uint8arraylist";
import type { NetMetrics } from "../metrics.ts";
import type { PeerRateLimiter } from "../token_bucket.ts";
import {
  bytesFieldKey,
  ConcurrencyGate,
  type InboundSpec,
  plainBytes,
  requestResponse,
  type StreamedRequest,
  wireErrorCode,
  wireErrorMessage,
  withBytesField,
} from "./exchange.ts";
import type { FrameStream } from "./frame_stream.ts";
import {
  MAX_SHARD_BYTES,
  MAX_SHARD_COUNT,
  type ProtocolLimits,
  REPLICATE_PROTOCOL,
} from "./limits.ts";
import { WireFragmentEnvelope, WireReplicateAck } from "./pb/replicate.ts";

function invalid(message: string): TesserasError {
  return new TesserasError("INVALID_INPUT", message);
}

function checkCount(value: number, what: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw invalid(`${what} ${value} is out of range 0..${max}`);
  }
}

/**
 * Throws `INVALID_ID`, `INVALID_INPUT` or `TOO_LARGE` unless the envelope is
 * well formed: valid ids, a plan whose shard counts match its tier and
 * whose shard size is `ceil(size / dataShards)`, `index < shardCount`, and
 * `data.length === fragmentSize === plan.shardSize`.
 *
 * @example
 * ```ts
 * import type { FragmentEnvelope } from "../../core/mod.ts";
 * declare const envelope: FragmentEnvelope;
 * validateEnvelope(envelope); // throws on a forged plan
 * ```
 */
export function validateEnvelope(envelope: FragmentEnvelope): void {
  const { fragment, plan } = envelope;
  if (!isTesseraId(fragment.tesseraId)) {
    throw new TesserasError(
      "INVALID_ID",
      "fragment has an invalid tessera id: expected 64 lowercase hex characters",
    );
  }
  if (!isTesseraId(fragment.checksum)) {
    throw invalid("fragment checksum must be 64 lowercase hex characters");
  }
  validatePlan(plan);
  checkCount(fragment.shardCount, "fragment shard count", MAX_SHARD_COUNT);
  if (fragment.shardCount !== plan.shardCount) {
    throw invalid(
      `fragment says ${fragment.shardCount} shards but the plan says ${plan.shardCount}`,
    );
  }
  checkCount(fragment.index, "shard index", MAX_SHARD_COUNT);
  if (fragment.index >= plan.shardCount) {
    throw invalid(
      `shard index ${fragment.index} is not below the shard count ${plan.shardCount}`,
    );
  }
  if (envelope.originalSize !== plan.size) {
    throw invalid(
      `original size ${envelope.originalSize} differs from the plan's ${plan.size}`,
    );
  }
  checkCount(envelope.fragmentSize, "fragment size", MAX_SHARD_BYTES);
  if (envelope.fragmentSize !== plan.shardSize) {
    throw invalid(
      `fragment size ${envelope.fragmentSize} differs from the plan's shard size ${plan.shardSize}`,
    );
  }
  const carried = envelope.spooled?.size ??
    (envelope.parts ? envelope.fragmentSize : envelope.data.length);
  if (carried !== envelope.fragmentSize) {
    throw invalid(
      `fragment carries ${carried} bytes but declares ${envelope.fragmentSize}`,
    );
  }
  const why = envelope.manifest && manifestSizeProblem(envelope.manifest);
  if (why) throw invalid(why);
}

function validatePlan(plan: FragmentPlan): void {
  if (!Number.isSafeInteger(plan.size) || plan.size < 0) {
    throw invalid(`invalid tessera size ${plan.size}`);
  }
  if (plan.size > MAX_TESSERA_SIZE) {
    throw new TesserasError(
      "TOO_LARGE",
      `tessera size ${plan.size} exceeds the ${MAX_TESSERA_SIZE}-byte limit`,
    );
  }
  const shape = Object.hasOwn(TIER_SHAPES, plan.tier)
    ? TIER_SHAPES[plan.tier]
    : undefined;
  if (shape === undefined) {
    throw invalid(
      `unknown tier ${JSON.stringify(String(plan.tier).slice(0, 20))}`,
    );
  }
  if (
    plan.dataShards !== shape.dataShards ||
    plan.parityShards !== shape.parityShards ||
    plan.shardCount !== shape.dataShards + shape.parityShards
  ) {
    throw invalid(
      `plan ${plan.dataShards}+${plan.parityShards}=${plan.shardCount} does not match the ${plan.tier} tier (${shape.dataShards}+${shape.parityShards})`,
    );
  }
  const expected = Math.ceil(plan.size / plan.dataShards);
  if (plan.shardSize !== expected) {
    throw invalid(
      `plan shard size ${plan.shardSize} should be ceil(${plan.size} / ${plan.dataShards}) = ${expected}`,
    );
  }
}

/**
 * Wire form of an envelope: the fields, then the shard's bytes as they
 * lie (see {@linkcode withBytesField}; the manifest, fields 6 and 7, is
 * in the head).
 */
export function envelopeToWire(envelope: FragmentEnvelope): Uint8ArrayList {
  return withBytesField(envelopeHead(envelope), 5, envelope.data);
}

/** Bytes read from disk per piece of a streamed shard. */
const SEND_PIECE_BYTES = 1 << 20;

/**
 * The request to send for `envelope`: its wire form, or for an envelope
 * with `parts`, the same bytes produced as they go out (the head, the
 * shard's key and length, then the shard read 1 MiB at a time, the next
 * piece read while the last is sent).
 */
function envelopeRequest(
  envelope: FragmentEnvelope,
): Uint8ArrayList | StreamedRequest {
  const source = envelope.parts;
  const size = envelope.fragmentSize;
  if (source === undefined || size === 0) return envelopeToWire(envelope);
  const head = envelopeHead(envelope);
  const key = bytesFieldKey(5, size);
  const read = async (at: number, signal: AbortSignal) => {
    const length = Math.min(SEND_PIECE_BYTES, size - at);
    const bytes = await source.read(at, length, { signal });
    if (bytes.length !== length) {
      throw new TesserasError(
        "STORAGE_ERROR",
        `read ${bytes.length} bytes of shard ${envelope.fragment.index} at ${at}, not ${length}`,
      );
    }
    return bytes;
  };
  return {
    length: head.length + key.length + size,
    async *parts(signal) {
      yield head;
      yield key;
      let next: Promise<Uint8Array> | null = read(0, signal);
      for (let at = 0; next !== null;) {
        const piece: Uint8Array = await next;
        at += piece.length;
        next = at < size ? read(at, signal) : null;
        // A read left behind when the send fails must not go unhandled.
        next?.catch(() => {});
        yield piece;
      }
    },
  };
}

/** The envelope's fields but the shard's bytes. */
function envelopeHead(envelope: FragmentEnvelope): Uint8Array {
  const { fragment, plan } = envelope;
  return WireFragmentEnvelope.encode({
    fragment: {
      tesseraId: fragment.tesseraId,
      index: fragment.index,
      shardCount: fragment.shardCount,
      checksum: fragment.checksum,
    },
    plan: planFields(plan),
    originalSize: envelope.originalSize,
    fragmentSize: envelope.fragmentSize,
    data: new Uint8Array(0),
    // Fields 6 and 7 go in the head: protobuf reads fields in any order.
    manifest: plainBytes(envelope.manifest?.bytes ?? new Uint8Array(0)),
    manifestSignature: plainBytes(
      envelope.manifest?.signature ?? new Uint8Array(0),
    ),
  });
}

/**
 * Decode and validate an envelope frame; throws `TesserasError` on
 * malformed protobuf or a failed check.
 */
export function envelopeFromWire(
  frame: Uint8Array | Uint8ArrayList,
): FragmentEnvelope {
  const envelope = decodeEnvelope(frame);
  validateEnvelope(envelope);
  return envelope;
}

/** Decode an envelope's fields (not validated). */
function decodeEnvelope(
  frame: Uint8Array | Uint8ArrayList,
  spooled?: SpooledShard,
): FragmentEnvelope {
  let wire: WireFragmentEnvelope;
  try {
    wire = WireFragmentEnvelope.decode(frame);
  } catch (cause) {
    throw new TesserasError("INVALID_INPUT", "malformed replicate frame", {
      cause,
    });
  }
  if (wire.fragment === undefined || wire.plan === undefined) {
    throw invalid("replicate frame lacks its fragment id or plan");
  }
  const manifest = manifestFromFields(wire);
  const envelope: FragmentEnvelope = {
    fragment: { ...wire.fragment },
    plan: {
      ...wire.plan,
      tier: wire.plan.tier as FragmentPlan["tier"],
    },
    originalSize: wire.originalSize,
    fragmentSize: wire.fragmentSize,
    data: plainBytes(wire.data),
    ...(spooled !== undefined ? { spooled } : {}),
    ...(manifest !== undefined ? { manifest } : {}),
  };
  if (spooled !== undefined && wire.data.length > 0) {
    throw invalid("replicate frame carries the shard's bytes twice");
  }
  return envelope;
}

/** Shards at least this large are written to disk as they arrive. */
const SPOOL_MIN_BYTES = 64 * 1024;

/** Protobuf field number of the envelope's shard bytes. */
const DATA_FIELD = 5;

/** Where {@linkcode readEnvelope} writes a large shard. */
export interface SpoolPort {
  /** A temp file to write to, or `null`: keep the shard in memory. */
  spoolTarget?(options?: { signal?: AbortSignal }): Promise<string | null>;
  /** Removes a temp file that was not handed over. */
  discardSpool?(path: string): Promise<void>;
}

/**
 * Read and validate an envelope frame as it arrives. The shard's bytes
 * (field 5), when large and `spool` offers a file, are written to that
 * file and hashed (BLAKE3 tree and outboard) on the way, never held
 * whole: the envelope then carries them as `spooled` and whoever gets it
 * owns the file. Every other field is gathered and decoded as
 * {@linkcode envelopeFromWire} does, in any order (older senders put the
 * manifest after the shard). On any failure the file is discarded.
 */
export async function readEnvelope(
  frame: FrameStream,
  spool: SpoolPort | undefined,
  signal: AbortSignal,
): Promise<FragmentEnvelope> {
  await frame.begin(signal);
  const rest = new Uint8ArrayList();
  let spooled: SpooledShard | undefined;
  try {
    while (frame.left > 0) {
      const key = await frame.varint(signal);
      const field = Math.floor(key.value / 8);
      const wireType = key.value % 8;
      if (wireType !== 2) {
        rest.append(key.raw, await fixedField(frame, wireType, signal));
        continue;
      }
      const length = await frame.varint(signal);
      if (
        field === DATA_FIELD && spooled === undefined &&
        length.value >= SPOOL_MIN_BYTES && spool?.spoolTarget
      ) {
        const path = await spool.spoolTarget({ signal });
        if (path !== null) {
          spooled = await spoolShard(frame, { path, size: length.value }, {
            spool,
            signal,
          });
          continue;
        }
      }
      rest.append(key.raw, length.raw, await frame.take(length.value, signal));
    }
    const envelope = decodeEnvelope(rest, spooled);
    validateEnvelope(envelope);
    return envelope;
  } catch (err) {
    if (spooled !== undefined) await spool?.discardSpool?.(spooled.path);
    // Malformed part-way: answered once the frame is whole (a truncated
    // frame's end rejects here instead), as when frames were read whole.
    if (isTesserasError(err)) await frame.drain(signal);
    throw err;
  }
}

/** The bytes of a field of wire type 0 (varint), 1 (64-bit) or 5 (32-bit). */
async function fixedField(
  frame: FrameStream,
  wireType: number,
  signal: AbortSignal,
): Promise<Uint8Array | Uint8ArrayList> {
  if (wireType === 0) return (await frame.varint(signal)).raw;
  if (wireType === 1) return await frame.take(8, signal);
  if (wireType === 5) return await frame.take(4, signal);
  throw invalid(`malformed replicate frame (wire type ${wireType})`);
}

/** Write `size` bytes of the frame to `path`, hashing them on the way. */
async function spoolShard(
  frame: FrameStream,
  target: { path: string; size: number },
  how: { spool: SpoolPort; signal: AbortSignal },
): Promise<SpooledShard> {
  const { path, size } = target;
  const { signal } = how;
  try {
    using file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: true,
    }).catch(diskFailure);
    const builder = new OutboardBuilder();
    for await (const piece of frame.pieces(size, signal)) {
      builder.update(piece);
      for (let at = 0; at < piece.length;) {
        at += await file.write(piece.subarray(at)).catch(diskFailure);
      }
    }
    const built = builder.finish();
    return {
      path,
      size,
      checksum: toHex(built.root),
      outboard: built.outboard,
    };
  } catch (err) {
    await how.spool.discardSpool?.(path);
    throw err;
  }
}

/**
 * A failed write of a spooled shard as a refusal: `INSUFFICIENT_SPACE`
 * for a full disk (the sender places the shard elsewhere), else
 * `STORAGE_ERROR`; nothing is kept either way.
 */
function diskFailure(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  if (/os error 28\b|No space left on device/i.test(message)) {
    throw new TesserasError(
      "INSUFFICIENT_SPACE",
      "our disk is full: place this shard elsewhere",
      { cause: err },
    );
  }
  throw new TesserasError(
    "STORAGE_ERROR",
    "could not write the shard to disk; retry later",
    { cause: err },
  );
}

function ackToWire(ack: ReplicateAck): Uint8Array {
  return WireReplicateAck.encode({
    accepted: ack.accepted,
    heldIndices: [...ack.heldIndices],
    errorCode: ack.errorCode ?? "",
    reason: ack.reason ?? "",
  });
}

function errorAck(code: ErrorCode, message: string): Uint8Array {
  return ackToWire({
    accepted: false,
    heldIndices: [],
    errorCode: code,
    reason: message,
  });
}

/** Decode an ack and check its indices against the envelope we sent. */
function ackFromWire(
  frame: Uint8ArrayList,
  envelope: FragmentEnvelope,
  peer: string,
): ReplicateAck {
  let wire: WireReplicateAck;
  try {
    wire = WireReplicateAck.decode(frame, {
      limits: { heldIndices: MAX_SHARD_COUNT },
    });
  } catch (cause) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `malformed replicate ack from ${peer}`,
      { cause },
    );
  }
  const shardCount = envelope.plan.shardCount;
  if (wire.heldIndices.some((i) => i < 0 || i >= shardCount)) {
    throw new TesserasError(
      "PROTOCOL_ERROR",
      `replicate ack from ${peer} lists indices outside 0..${shardCount - 1}`,
    );
  }
  const ack: ReplicateAck = {
    accepted: wire.accepted,
    heldIndices: [...new Set(wire.heldIndices)].sort((a, b) => a - b),
  };
  if (wire.accepted) return ack;
  return {
    ...ack,
    errorCode: wire.errorCode === ""
      ? "PROTOCOL_ERROR"
      : wireErrorCode(wire.errorCode),
    reason: wireErrorMessage(wire.reason),
  };
}

/** What the replicate handler needs from the node. */
export interface ReplicateServerContext {
  /** Where decoded envelopes go; undefined while the node is wiring up. */
  handlers(): InboundHandlers | undefined;
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
  /** Per-peer throttle; undefined disables it. */
  readonly rateLimiter?: PeerRateLimiter;
}

/** The server side of `/tesseras/replicate/1.0.0`. */
export function replicateSpec(
  ctx: ReplicateServerContext,
): InboundSpec<FragmentEnvelope> {
  return {
    name: "replicate",
    limits: ctx.limits,
    gate: new ConcurrencyGate(ctx.limits.maxConcurrent),
    admit(from) {
      if (ctx.rateLimiter === undefined || ctx.rateLimiter.take(from.id)) {
        return null;
      }
      return new TesserasError(
        "RATE_LIMITED",
        "too many replicate requests from this peer; slow down and retry later",
      );
    },
    parse: envelopeFromWire,
    // Shards go to disk as they arrive, not buffered whole.
    read: (frame, signal) => readEnvelope(frame, ctx.handlers(), signal),
    async handle(envelope, from, signal) {
      const handlers = ctx.handlers();
      if (handlers === undefined) {
        throw new TesserasError("NOT_RUNNING", "node is starting; retry later");
      }
      const ack = await handlers.onReplicate(envelope, from, { signal });
      return ackToWire(ack);
    },
    errorReply: errorAck,
  };
}

/** Options of {@linkcode sendReplicate}. */
export interface SendReplicateOptions {
  /** Limits of this protocol. */
  readonly limits: ProtocolLimits;
  /** Counters. */
  readonly metrics: NetMetrics;
  /** Cancellation. */
  readonly signal?: AbortSignal;
}

/**
 * Push `envelope` to `peer` and return its ack. A refusal (deficit, rate
 * limit, bad input) is an ack with `accepted: false` and an `errorCode`;
 * transport failures reject with `TesserasError`.
 */
export async function sendReplicate(
  libp2p: Libp2p,
  peer: string,
  envelope: FragmentEnvelope,
  options: SendReplicateOptions,
): Promise<ReplicateAck> {
  // The same check the receiver runs where it parses the frame: a forged
  // envelope of ours fails here, before it costs a stream.
  validateEnvelope(envelope);
  const frame = await requestResponse(
    libp2p,
    peer,
    REPLICATE_PROTOCOL,
    envelopeRequest(envelope),
    { ...options, name: "replicate" },
  );
  try {
    return ackFromWire(frame, envelope, peer);
  } catch (err) {
    options.metrics.count("replicate", "outboundErrors");
    throw err;
  }
}
