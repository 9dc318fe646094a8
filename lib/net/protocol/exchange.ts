/**
 * One request, one response over a libp2p stream, both length-prefixed with
 * explicit limits: the server side (`serveInbound`) that never lets hostile
 * input escape as anything but an error reply or a reset stream, and the
 * client side (`requestResponse`) that turns every failure into a
 * `TesserasError`.
 *
 * @module
 */
import {
  type ErrorCode,
  isTesserasError,
  type PeerInfo,
  TesserasError,
} from "../../core/mod.ts";
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { lpStream } from "@libp2p/utils";
import { getLogger } from "@logtape/logtape";
import { Uint8ArrayList } from "uint8arraylist";
import type { CountedProtocol, NetMetrics } from "../metrics.ts";
import { toPeerInfo } from "../peer_info.ts";
import { FrameStream } from "./frame_stream.ts";
import type { ProtocolLimits } from "./limits.ts";

const log = getLogger(["tesseras", "net"]);

/** Every code of the core's `ErrorCode`, to map codes read off the wire. */
const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "CHECKSUM_MISMATCH",
  "DEFICIT_EXCEEDED",
  "TOO_LARGE",
  "NOT_FOUND",
  "INSUFFICIENT_SHARDS",
  "INVALID_ID",
  "INVALID_INPUT",
  "INSUFFICIENT_SPACE",
  "PEER_LIMIT_EXCEEDED",
  "RATE_LIMITED",
  "UNAUTHORIZED",
  "TIMEOUT",
  "UNREACHABLE",
  "PROTOCOL_ERROR",
  "ATTESTATION_FAILED",
  "ALREADY_RUNNING",
  "NOT_RUNNING",
  "STORAGE_ERROR",
  "INTERNAL",
]);

/** Longest error message we send or accept, characters. */
const MAX_ERROR_MESSAGE = 500;

/**
 * A code read off the wire as an `ErrorCode`; unknown codes (a newer or a
 * hostile peer) become `PROTOCOL_ERROR`.
 *
 * @example
 * ```ts
 * wireErrorCode("NOT_FOUND"); // "NOT_FOUND"
 * wireErrorCode("<script>"); // "PROTOCOL_ERROR"
 * ```
 */
export function wireErrorCode(code: string): ErrorCode {
  return ERROR_CODES.has(code) ? code as ErrorCode : "PROTOCOL_ERROR";
}

/**
 * A peer's error message made safe to log and show: cut to 500 characters,
 * control characters replaced.
 *
 * @example
 * ```ts
 * wireErrorMessage("bad\u0000id"); // "bad?id"
 * ```
 */
export function wireErrorMessage(message: string): string {
  // deno-lint-ignore no-control-regex
  return message.slice(0, MAX_ERROR_MESSAGE).replace(/[\u0000-\u001f]/g, "?");
}

/** What a failure becomes in an error reply. */
function replyOf(err: unknown): { code: ErrorCode; message: string } {
  if (isTesserasError(err)) {
    return { code: err.code, message: wireErrorMessage(err.message) };
  }
  return { code: "INTERNAL", message: "internal error handling the request" };
}

/** Turns a failed read of a request frame into a `TesserasError`. */
function readFailure(err: unknown, limits: ProtocolLimits): TesserasError {
  if (isTesserasError(err)) return err;
  const name = (err as { name?: string } | null)?.name ?? "";
  switch (name) {
    case "InvalidDataLengthError":
    case "InvalidDataLengthLengthError":
    case "StreamBufferError":
      return new TesserasError(
        "TOO_LARGE",
        `request frame exceeds the ${limits.maxRequestBytes}-byte limit`,
        { cause: err },
      );
    case "TimeoutError":
    case "AbortError":
      return new TesserasError(
        "TIMEOUT",
        `request not received within ${limits.readTimeoutMs} ms`,
        { cause: err },
      );
    case "UnexpectedEOFError":
      return new TesserasError(
        "PROTOCOL_ERROR",
        "stream ended inside a request frame (truncated)",
        { cause: err },
      );
    default:
      return new TesserasError(
        "PROTOCOL_ERROR",
        `malformed request frame (${name || "unknown error"})`,
        { cause: err },
      );
  }
}

/** Bytes of the unsigned varint encoding `n`. */
function varintLength(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/** A length prefix longer than the limit allows (never a RangeError). */
class LengthPrefixTooLongError extends Error {
  override name = "InvalidDataLengthLengthError";
}

/**
 * Length-prefixed stream options for frames up to `maxDataLength` bytes.
 * The varint decoder gives up as soon as the prefix is longer than the
 * largest legal one: lpStream's default decoder signals "incomplete" and
 * "too long" alike, so a peer sending endless 0x80 bytes would grow the
 * prefix buffer until the read timeout.
 */
export function frameOptions(maxDataLength: number) {
  const maxLengthLength = varintLength(maxDataLength);
  return {
    maxDataLength,
    maxLengthLength,
    maxBufferSize: maxDataLength + maxLengthLength,
    lengthDecoder(data: Uint8ArrayList): number {
      let value = 0;
      let scale = 1;
      const n = Math.min(data.byteLength, maxLengthLength);
      for (let i = 0; i < n; i++) {
        const byte = data.get(i);
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) return value;
        scale *= 128;
      }
      if (data.byteLength >= maxLengthLength) {
        throw new LengthPrefixTooLongError(
          `length prefix longer than ${maxLengthLength} bytes`,
        );
      }
      throw new RangeError("incomplete length prefix");
    },
  };
}

/** Counts requests being handled and refuses past a maximum. */
export class ConcurrencyGate {
  #active = 0;
  readonly #max: number;

  /** @param max requests allowed at once */
  constructor(max: number) {
    this.#max = max;
  }

  /** Enter; false when `max` are already active. */
  tryEnter(): boolean {
    if (this.#active >= this.#max) return false;
    this.#active++;
    return true;
  }

  /** Leave (once per successful `tryEnter`). */
  leave(): void {
    this.#active--;
  }

  /** Requests active now. */
  get active(): number {
    return this.#active;
  }
}

/** How one protocol's server side reads, checks, handles and answers. */
export interface InboundSpec<Req> {
  /** Counter name. */
  readonly name: CountedProtocol;
  /** Size, time and concurrency limits. */
  readonly limits: ProtocolLimits;
  /** Requests handled at once over all peers. */
  readonly gate: ConcurrencyGate;
  /**
   * A refusal before the request is read (rate limits), or null to go on.
   */
  admit?(from: PeerInfo): TesserasError | null;
  /** Decode and validate a frame; throws `TesserasError` on bad input. */
  parse(frame: Uint8ArrayList): Req;
  /**
   * Optional, in place of `parse`: read the request as its frame arrives
   * (large frames, not buffered whole); throws as `parse` does.
   */
  read?(frame: FrameStream, signal: AbortSignal): Promise<Req>;
  /**
   * Produce the encoded reply (or its frames, written in order: a
   * streamed answer); thrown `TesserasError`s become replies.
   */
  handle(
    req: Req,
    from: PeerInfo,
    signal: AbortSignal,
  ): Promise<
    Uint8Array | Uint8ArrayList | readonly (Uint8Array | Uint8ArrayList)[]
  >;
  /** The encoded error reply for `code`. */
  errorReply(code: ErrorCode, message: string): Uint8Array;
}

/** The peer on the other end of `connection`, with its observed IP. */
export function remotePeerInfo(connection: Connection): PeerInfo {
  return toPeerInfo(
    connection.remotePeer.toString(),
    [connection.remoteAddr],
    { observed: connection.remoteAddr },
  );
}

/**
 * Serve one inbound request on `stream`. Never throws: every failure is
 * logged, counted and answered with an error reply (when the peer can
 * still read one). After any reply the stream ends within
 * `limits.lingerMs`: closed once the peer has half-closed, reset if it
 * keeps sending or never half-closes.
 */
export async function serveInbound<Req>(
  stream: Stream,
  connection: Connection,
  spec: InboundSpec<Req>,
  metrics: NetMetrics,
): Promise<void> {
  const { limits } = spec;
  const from = remotePeerInfo(connection);
  metrics.count(spec.name, "inbound");
  const overallDeadline = deadline(limits.handlerTimeoutMs);
  const overall = overallDeadline.signal;
  const lp = spec.read
    ? new FrameStream(stream, limits.maxRequestBytes)
    : lpStream(stream, frameOptions(limits.maxRequestBytes));
  const refusal = admission(spec, from);
  if (refusal !== null) {
    metrics.count(spec.name, "inboundRateLimited");
    log.debug("refused {protocol} from {peer}: {reason}", {
      protocol: spec.name,
      peer: from.id,
      reason: refusal.message,
    });
    overallDeadline.clear();
    const reply = spec.errorReply(refusal.code, refusal.message);
    await replyThenEnd(stream, lp, reply, limits);
    return;
  }
  // The gate is left when the handler settles, not when we reply: a handler
  // that ignores its signal keeps its slot, so it cannot be flooded.
  let handling: Promise<unknown> = Promise.resolve();
  try {
    const req = await readRequest(lp, { spec, overall });
    const handled = spec.handle(req, from, overall);
    handling = handled.catch(() => {});
    const reply = await untilAborted(
      handled,
      overall,
      () =>
        new TesserasError(
          "TIMEOUT",
          `no answer within ${limits.handlerTimeoutMs} ms; retry later`,
        ),
    );
    if (Array.isArray(reply)) await writeFrames(stream, reply, overall);
    else await lp.write(reply as Uint8Array, { signal: overall });
    // The linger below is for the peer; our reply's own bytes may still
    // be queued (a 22 MiB shard waits on the peer's flow-control window).
    await untilSent(stream, overall);
    await endAfterReply(stream, lp, limits);
  } catch (err) {
    metrics.count(spec.name, "inboundErrors");
    await answerFailure(err, { stream, lp, spec, from });
  } finally {
    // The handler has settled here unless the deadline already fired.
    overallDeadline.clear();
    void handling.finally(() => spec.gate.leave());
  }
}

/**
 * Why `from` is refused now (the spec's own rule, then a full gate), or
 * `null`: admitted, and the gate entered.
 */
function admission<Req>(
  spec: InboundSpec<Req>,
  from: PeerInfo,
): TesserasError | null {
  return spec.admit?.(from) ??
    (spec.gate.tryEnter() ? null : new TesserasError(
      "RATE_LIMITED",
      `busy: ${spec.limits.maxConcurrent} ${spec.name} requests in progress; retry later`,
    ));
}

/** Read (within the read timeout) and parse the request. */
async function readRequest<Req>(
  lp: FrameStream | ReturnType<typeof lpStream>,
  at: { spec: InboundSpec<Req>; overall: AbortSignal },
): Promise<Req> {
  const { spec, overall } = at;
  const readDeadline = deadline(spec.limits.readTimeoutMs);
  const readSignal = AbortSignal.any([overall, readDeadline.signal]);
  let frame: Uint8ArrayList;
  try {
    if (lp instanceof FrameStream) return await spec.read!(lp, readSignal);
    frame = await lp.read({ signal: readSignal });
  } catch (err) {
    throw readFailure(err, spec.limits);
  } finally {
    readDeadline.clear();
  }
  return spec.parse(frame);
}

/**
 * A request that failed: a peer that left is let go; anything else is
 * logged (INTERNAL as an error) and answered with its code.
 */
async function answerFailure<Req>(
  err: unknown,
  on: {
    stream: Stream;
    lp: ReplyStream;
    spec: InboundSpec<Req>;
    from: PeerInfo;
  },
): Promise<void> {
  const { stream, lp, spec, from } = on;
  if (peerLeft(err)) {
    // The peer closed or reset the stream before our answer: a fetcher
    // that already has enough shards cancels the rest. Not our failure.
    log.debug("{protocol} from {peer}: the peer closed early ({reason})", {
      protocol: spec.name,
      peer: from.id,
      reason: readableReason(err),
    });
    stream.abort(new Error("peer closed early"));
    return;
  }
  const { code, message } = replyOf(err);
  const fields = {
    protocol: spec.name,
    peer: from.id,
    ip: from.ip,
    code,
    message,
  };
  if (code === "INTERNAL") {
    log.error("{protocol} from {peer} failed: {error}", {
      ...fields,
      error: String((err as Error)?.stack ?? err),
    });
  } else {
    log.info("{protocol} from {peer} answered {code}: {message}", fields);
  }
  await replyThenEnd(stream, lp, spec.errorReply(code, message), spec.limits);
}

/** libp2p's names for writing to, or reading from, a stream that ended. */
const STREAM_ENDED: ReadonlySet<string> = new Set([
  "StreamStateError",
  "StreamResetError",
  "StreamClosedError",
  "StreamAbortedError",
]);

/**
 * True when `err` means the peer went away mid-exchange: libp2p rejects
 * with a stream-state error, or with the stream's bare `close` Event.
 */
function peerLeft(err: unknown): boolean {
  if (typeof Event !== "undefined" && err instanceof Event) return true;
  return STREAM_ENDED.has((err as { name?: string } | null)?.name ?? "");
}

/** One line for a log: an Event's type, or an error's name and message. */
function readableReason(err: unknown): string {
  if (typeof Event !== "undefined" && err instanceof Event) {
    return `stream ${err.type} event`;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Bytes of a many-frame reply handed to the stream at once. Written one
 * frame per send, a verified fetch's 64 KiB pieces each went out as a
 * Yamux frame of its own, with its own window update, two Noise messages
 * (a piece and its headers overflow one by 22 bytes) and, its headers
 * and bytes being separate buffers, a cipher call and a buffer per part;
 * joined, the frames fill whole Noise messages cut from one buffer, as
 * a one-frame reply does (docs/layout.md has the measurements).
 */
const REPLY_WRITE_BYTES = 1 << 20;

/** Write `frames` in order, length-prefixed, about 1 MiB per send. */
async function writeFrames(
  stream: Stream,
  frames: readonly (Uint8Array | Uint8ArrayList)[],
  signal: AbortSignal,
): Promise<void> {
  for (let at = 0; at < frames.length;) {
    const [joined, next] = joinFrames(frames, at);
    if (!stream.send(joined)) await stream.onDrain({ signal });
    at = next;
  }
}

/**
 * Frames from index `from` on, each after its length prefix, copied into
 * one buffer of about {@linkcode REPLY_WRITE_BYTES} (at least one frame);
 * returns it and the index of the first frame left out.
 */
function joinFrames(
  frames: readonly (Uint8Array | Uint8ArrayList)[],
  from: number,
): [Uint8Array, number] {
  let end = from;
  let bytes = 0;
  while (end < frames.length && (end === from || bytes < REPLY_WRITE_BYTES)) {
    const n = frames[end++].byteLength;
    bytes += varintLength(n) + n;
  }
  const out = new Uint8Array(bytes);
  let pos = 0;
  for (let i = from; i < end; i++) {
    const frame = frames[i];
    pos = writeVarint(out, pos, frame.byteLength);
    for (const part of frame instanceof Uint8Array ? [frame] : frame) {
      out.set(part, pos);
      pos += part.length;
    }
  }
  return [out, end];
}

/**
 * Resolves once nothing of ours is queued on `stream` any more (or it
 * closed, or `signal` aborted). Without it, a large reply still queued
 * when the peer had half-closed got only `lingerMs` to flush and was cut
 * short on a busy machine (a 22 MiB fetch answer ended at 12-21 MiB).
 */
function untilSent(stream: Stream, signal: AbortSignal): Promise<void> {
  if (stream.writeBufferLength === 0 || stream.status !== "open") {
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.removeEventListener("idle", done);
      stream.removeEventListener("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    stream.addEventListener("idle", done);
    stream.addEventListener("close", done);
    signal.addEventListener("abort", done);
  });
}

/** `promise`, or a rejection made by `reason()` once `signal` aborts. */
function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  reason: () => Error,
): Promise<T> {
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/** The parts of an `lpStream` the server side uses after a request. */
interface ReplyStream {
  write(
    data: Uint8Array | Uint8ArrayList,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  unwrap(): Stream;
}

/**
 * Best-effort error reply, then end the stream: see
 * {@linkcode endAfterReply}. Writing the reply counts against the same
 * `limits.lingerMs`.
 */
async function replyThenEnd(
  stream: Stream,
  lp: ReplyStream,
  reply: Uint8Array,
  limits: ProtocolLimits,
): Promise<void> {
  const linger = deadline(limits.lingerMs, "linger over");
  try {
    if (stream.writeStatus === "writable") {
      await lp.write(reply, { signal: linger.signal });
    }
  } catch {
    // The peer is gone or stalled; endAfterReply resets the stream.
  }
  try {
    await endAfterReply(stream, lp, limits, linger.signal);
  } finally {
    linger.clear();
  }
}

/**
 * An abort signal firing after `ms` (with a `TimeoutError`, as
 * `AbortSignal.timeout`), whose timer is cleared as soon as the exchange
 * ends. `AbortSignal.timeout` cannot be cleared: its timer, the signal and
 * every listener and closure on it stayed in memory for the whole 60 to
 * 180 s of our request timeouts, thousands of them in a busy node.
 */
function deadline(
  ms: number,
  message = "The signal timed out.",
): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(message, "TimeoutError")),
    ms,
  );
  // Like AbortSignal.timeout in Node: a pending deadline alone does not
  // keep the process alive (lib/net/deno_compat.ts).
  if (typeof Deno !== "undefined") Deno.unrefTimer(timer as unknown as number);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * End a stream whose reply has been written. Our end is closed only after
 * the peer has closed its own (its request is complete): in libp2p 3
 * (`@libp2p/utils` 7) a stream's async iterator listens only for the
 * `close` and `remoteCloseWrite` events, so if our reply and FIN reach a
 * peer before it starts iterating (a refusal sent right after protocol
 * negotiation arrives before its `dialProtocol` even resolves), its own
 * `close()` then fires `close` with nobody listening and its
 * `for await (… of stream)` waits forever; its `abort()` is a no-op on a
 * closed stream. Waiting for the peer's FIN puts our FIN after its
 * iterator is in place.
 *
 * Meanwhile whatever the peer still sends is read and dropped (so a peer
 * finishing a large request can reach its half-close), up to one request
 * frame. A peer that sends more, or has not half-closed when `signal`
 * aborts (by default after `limits.lingerMs`), is reset. Never throws.
 */
async function endAfterReply(
  stream: Stream,
  lp: ReplyStream,
  limits: ProtocolLimits,
  signal?: AbortSignal,
): Promise<void> {
  if (signal === undefined) {
    const linger = deadline(limits.lingerMs, "linger over");
    try {
      return await endAfterReply(stream, lp, limits, linger.signal);
    } finally {
      linger.clear();
    }
  }
  if (stream.status !== "open") return;
  // Stop buffering the request: unread bytes go back to the stream, where
  // the discarding listener below sees them.
  lp.unwrap();
  const budget = limits.maxRequestBytes + varintLength(limits.maxRequestBytes);
  const peerDone = await peerHalfClosed(stream, budget, signal);
  if (peerDone && stream.status === "open") {
    try {
      await stream.close({ signal });
    } catch {
      // Our reply could not be flushed in time: reset below.
    }
  }
  if (stream.status === "open") {
    log.debug("resetting a stream whose peer did not finish: {reason}", {
      reason: peerDone ? "reply not flushed" : "kept sending or stalled",
    });
    stream.abort(new Error("request refused or failed"));
  }
}

/**
 * True once the peer has half-closed; false when the stream closes
 * otherwise, the peer sends more than `budget` bytes from now on, or
 * `signal` aborts. Drops the bytes it reads.
 */
function peerHalfClosed(
  stream: Stream,
  budget: number,
  signal: AbortSignal,
): Promise<boolean> {
  if (stream.remoteWriteStatus !== "writable") return Promise.resolve(true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let received = 0;
    const finish = (peerDone: boolean) => {
      stream.removeEventListener("message", onMessage);
      stream.removeEventListener("remoteCloseWrite", onRemoteCloseWrite);
      stream.removeEventListener("close", onClose);
      signal.removeEventListener("abort", onAbort);
      resolve(peerDone);
    };
    const onMessage = (evt: { data: { byteLength: number } }) => {
      received += evt.data.byteLength;
      if (received > budget) finish(false);
    };
    const onRemoteCloseWrite = () => finish(true);
    const onClose = () => finish(false);
    const onAbort = () => finish(false);
    stream.addEventListener("message", onMessage);
    stream.addEventListener("remoteCloseWrite", onRemoteCloseWrite);
    stream.addEventListener("close", onClose);
    signal.addEventListener("abort", onAbort);
  });
}

/** Options of {@linkcode requestResponse}. */
export interface RequestOptions {
  /** Counter name. */
  readonly name: CountedProtocol;
  /** Limits of the protocol (response size, default timeout). */
  readonly limits: ProtocolLimits;
  /** Counters to update. */
  readonly metrics: NetMetrics;
  /** Caller's cancellation. */
  readonly signal?: AbortSignal;
}

/**
 * Send one request frame to `peer` on `protocol` and read one response
 * frame. Rejects with `TesserasError`: `UNREACHABLE` (dial or protocol
 * negotiation failed), `TIMEOUT`, `TOO_LARGE` (response over the limit),
 * `PROTOCOL_ERROR` (stream reset or truncated), `INVALID_INPUT` (bad peer
 * id); with the caller's abort reason when `options.signal` aborts.
 */
export function requestResponse(
  libp2p: Libp2p,
  peer: string,
  protocol: string,
  request: Uint8Array | Uint8ArrayList | StreamedRequest,
  options: RequestOptions,
): Promise<Uint8ArrayList> {
  return requestReading(libp2p, { peer, protocol, request }, {
    ...options,
    read: (next) => next(),
  });
}

/** Where {@linkcode requestReading} sends, and what. */
export interface RequestTarget {
  readonly peer: string;
  readonly protocol: string;
  readonly request: Uint8Array | Uint8ArrayList | StreamedRequest;
}

/** Options of {@linkcode requestReading}. */
export interface ReadingOptions<T> extends RequestOptions {
  /** Takes the answer's frames with `next()`; returns the result. */
  readonly read: (next: () => Promise<Uint8ArrayList>) => Promise<T>;
  /** Bytes of answer buffered at most before they are read. */
  readonly maxBufferBytes?: number;
}

/**
 * As {@linkcode requestResponse}, for a streamed answer: `read` takes the
 * answer's frames with `next()` until it has what it wants and returns
 * its result (the stream is then closed; a throw resets it). Frames are
 * each at most `limits.maxResponseBytes`.
 */
export async function requestReading<T>(
  libp2p: Libp2p,
  to: RequestTarget,
  options: ReadingOptions<T>,
): Promise<T> {
  const { limits, metrics, name } = options;
  metrics.count(name, "outbound");
  const timeout = deadline(limits.requestTimeoutMs);
  const signal = options.signal === undefined
    ? timeout.signal
    : AbortSignal.any([options.signal, timeout.signal]);
  const exchange = { to, options, signal };
  let stream: Stream | undefined;
  try {
    stream = await dialFor(libp2p, exchange);
    return await exchangeOn(stream, exchange);
  } catch (err) {
    metrics.count(name, "outboundErrors");
    if (stream !== undefined && stream.status === "open") {
      stream.abort(new Error("request failed"));
    }
    throw err;
  } finally {
    // Nothing uses the signal past here: the write finished or was aborted.
    timeout.clear();
  }
}

/**
 * One outbound exchange: the caller's options (whose own `signal` tells a
 * caller's abort from ours) and the signal that also carries the deadline.
 */
interface Exchange<T> {
  readonly to: RequestTarget;
  readonly options: ReadingOptions<T>;
  readonly signal: AbortSignal;
}

async function dialFor<T>(
  libp2p: Libp2p,
  exchange: Exchange<T>,
): Promise<Stream> {
  const { to, options, signal } = exchange;
  const target = parsePeerId(to.peer);
  try {
    return await libp2p.dialProtocol(target, to.protocol, {
      signal,
      // Through a relay too, within its limits (docs/nat.md).
      runOnLimitedConnection: true,
    });
  } catch (err) {
    throw clientFailure(err, options, "UNREACHABLE", to.peer);
  }
}

/**
 * Read while writing: a peer may refuse (rate limit, too large) before
 * taking the whole request, and its answer must not be lost to a failed
 * write.
 */
async function exchangeOn<T>(open: Stream, exchange: Exchange<T>): Promise<T> {
  const { to: { peer }, options, signal } = exchange;
  const frameLimits = frameOptions(options.limits.maxResponseBytes);
  const lp = lpStream(open, {
    ...frameLimits,
    // A streamed answer's frames may arrive faster than they are
    // taken: room for all of them, not one.
    maxBufferSize: Math.max(
      frameLimits.maxBufferSize,
      options.maxBufferBytes ?? 0,
    ),
  });
  const frames = async () => {
    try {
      return await lp.read({ signal });
    } catch (err) {
      throw clientFailure(err, options, "PROTOCOL_ERROR", peer);
    }
  };
  const reading = options.read(frames);
  reading.catch(() => {});
  const writer = new RequestWriter(open, signal);
  writer.write(lp, exchange.to.request).catch((err) => {
    log.debug("writing {protocol} to {peer} failed: {error}", {
      protocol: options.name,
      peer,
      error: String(err),
    });
  });
  let reply: T;
  try {
    reply = await reading;
  } catch (err) {
    throw writer.ownFailure?.toError() ??
      clientFailure(err, options, "PROTOCOL_ERROR", peer);
  }
  // The peer answered before taking all of the request: stop sending.
  if (!writer.written) open.abort(new Error("peer answered early"));
  return reply;
}

/** Sends the request and half-closes; remembers how that went. */
class RequestWriter {
  /** True once the whole request is sent and our side closed. */
  written = false;
  /** Set when our own streamed source failed (not the peer's fault). */
  ownFailure: SourceFailure | undefined;
  readonly #open: Stream;
  readonly #signal: AbortSignal;

  constructor(open: Stream, signal: AbortSignal) {
    this.#open = open;
    this.#signal = signal;
  }

  async write(
    lp: ReturnType<typeof lpStream>,
    request: RequestTarget["request"],
  ): Promise<void> {
    const open = this.#open, signal = this.#signal;
    if (request instanceof Uint8Array || request instanceof Uint8ArrayList) {
      await lp.write(request, { signal });
    } else {
      await writeStreamed(open, request, signal).catch((err) => {
        // Our source failed: the peer waits for bytes that never come.
        if (err instanceof SourceFailure) {
          this.ownFailure = err;
          open.abort(err);
        }
        throw err;
      });
    }
    await open.close({ signal });
    this.written = true;
  }
}

/**
 * A peer id from its string form; throws `INVALID_INPUT` (with the first
 * 80 characters of what was given) instead of libp2p's bare error. The one
 * parser of peer ids in lib/net: the protocols and the `DhtPort` both use
 * it.
 *
 * @example
 * ```ts
 * import { isTesserasError } from "../../core/mod.ts";
 * try {
 *   parsePeerId("not a peer");
 * } catch (err) {
 *   console.assert(isTesserasError(err, "INVALID_INPUT"));
 * }
 * ```
 */
export function parsePeerId(peer: string): PeerId {
  try {
    return peerIdFromString(peer);
  } catch (cause) {
    throw new TesserasError(
      "INVALID_INPUT",
      `invalid peer id ${JSON.stringify(peer.slice(0, 80))}`,
      { cause },
    );
  }
}

function clientFailure(
  err: unknown,
  options: RequestOptions,
  fallback: ErrorCode,
  peer: string,
): unknown {
  if (isTesserasError(err)) return err;
  if (options.signal?.aborted) return options.signal.reason;
  const name = (err as { name?: string } | null)?.name ?? "";
  const detail = (err as Error | null)?.message ?? String(err);
  if (name === "TimeoutError" || name === "AbortError") {
    return new TesserasError(
      "TIMEOUT",
      `${options.name} to ${peer} timed out after ${options.limits.requestTimeoutMs} ms`,
      { cause: err },
    );
  }
  if (
    name === "InvalidDataLengthError" ||
    name === "InvalidDataLengthLengthError" ||
    name === "StreamBufferError"
  ) {
    return new TesserasError(
      "TOO_LARGE",
      `${options.name} reply from ${peer} exceeds ${options.limits.maxResponseBytes} bytes`,
      { cause: err },
    );
  }
  const what = fallback === "UNREACHABLE"
    ? `cannot open ${options.name} stream to ${peer}`
    : `${options.name} exchange with ${peer} failed`;
  return new TesserasError(fallback, `${what}: ${detail}`, { cause: err });
}

/**
 * A protobuf message and one more `bytes` field, framed without copying
 * the bytes: `head` is the message encoded without that field (proto3
 * leaves an empty `bytes` field out), followed by the field's key, its
 * length and the bytes themselves, as the parts of one list. When `field`
 * is the highest field `head` carries, the result is byte for byte what
 * the generated encoder writes for the whole message; a shard of 22 MiB
 * is then sent from where it lies instead of being copied into a fresh
 * frame (a copy, and ~5,600 page faults of fresh memory, per shard).
 *
 * @example
 * ```ts
 * import { WireFetchResponse } from "./pb/fetch.ts";
 * declare const shard: Uint8Array;
 * const head = WireFetchResponse.encode({ found: true, data: new Uint8Array(0), errorCode: "", errorMessage: "" });
 * withBytesField(head, 2, shard).byteLength; // head + 1 + varint + shard
 * ```
 */
export function withBytesField(
  head: Uint8Array,
  field: number,
  bytes: Uint8Array,
): Uint8ArrayList {
  if (bytes.length === 0) return new Uint8ArrayList(head);
  return new Uint8ArrayList(head, bytesFieldKey(field, bytes.length), bytes);
}

/**
 * The key and length that open a bytes field `field` of `length` bytes
 * (what {@linkcode withBytesField} puts before the bytes).
 *
 * @example
 * ```ts
 * bytesFieldKey(5, 300); // Uint8Array [42, 172, 2]
 * ```
 */
export function bytesFieldKey(field: number, length: number): Uint8Array {
  const key = field * 8 + 2; // wire type 2: length-delimited
  const prefix = new Uint8Array(varintLength(key) + varintLength(length));
  const at = writeVarint(prefix, writeVarint(prefix, 0, key), length);
  return prefix.subarray(0, at);
}

/**
 * A request frame of `length` bytes produced in pieces as it is sent
 * (a pushed shard read from disk on the way), not held whole.
 */
export interface StreamedRequest {
  /** Bytes of the frame (after its length prefix). */
  readonly length: number;
  /** The frame's bytes, in order, exactly `length` of them. */
  parts(signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** Send a streamed request, each piece once the stream can take it. */
async function writeStreamed(
  stream: Stream,
  request: StreamedRequest,
  signal: AbortSignal,
): Promise<void> {
  const prefix = new Uint8Array(varintLength(request.length));
  writeVarint(prefix, 0, request.length);
  const send = async (piece: Uint8Array) => {
    if (!stream.send(piece)) await stream.onDrain({ signal });
  };
  await send(prefix);
  let sent = 0;
  const pieces = request.parts(signal)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await pieces.next();
    } catch (err) {
      throw new SourceFailure(err);
    }
    if (next.done) break;
    sent += next.value.length;
    await send(next.value);
  }
  if (sent !== request.length) {
    throw new SourceFailure(
      new Error(`gave ${sent} bytes, not the ${request.length} announced`),
    );
  }
}

/** Our own side failed to produce a streamed request (not the peer's fault). */
class SourceFailure extends Error {
  constructor(readonly reason: unknown) {
    super("the request's source failed");
  }

  /** As the caller sees it: ours, a `STORAGE_ERROR` unless already coded. */
  toError(): unknown {
    if (isTesserasError(this.reason)) return this.reason;
    return new TesserasError(
      "STORAGE_ERROR",
      `could not read what to send: ${
        this.reason instanceof Error ? this.reason.message : this.reason
      }`,
      { cause: this.reason },
    );
  }
}

/** Writes `n` as an unsigned varint at `at`; returns the end. */
function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/**
 * Decoded bytes as a plain `Uint8Array` view (no copy). The codecs may
 * hand out Node `Buffer`s, whose `slice` does not copy: a trap for
 * callers.
 *
 * @example
 * ```ts
 * plainBytes(new Uint8Array(4)).constructor === Uint8Array; // true
 * ```
 */
export function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    bytes.byteLength,
  );
}

/**
 * `bytes` typed as backed by an `ArrayBuffer`, as the generated codecs
 * want; copied only in the rare case it sits on a `SharedArrayBuffer`.
 *
 * @example
 * ```ts
 * wireBytes(new Uint8Array(4)).length; // 4
 * ```
 */
export function wireBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}
