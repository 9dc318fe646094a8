/**
 * The answering side of libp2p's ping (`/ipfs/ping/1.0.0`): echo every
 * byte until the pinger half-closes, then close. It replaces the handler
 * of `@libp2p/ping` 3.1.13, which reads with `for await (… of stream)`:
 * when the ping's 32 bytes were already buffered as the handler started
 * (they arrived while libp2p was still setting the stream up) and the
 * pinger's FIN arrived before the next microtask, that loop ended before
 * the buffered bytes were handed to it, the handler closed without an
 * echo, and the pinger (which listens only for the echo) waited its whole
 * timeout: 10 s per ping to a live peer (docs/stewards.md, "At the
 * full-stack level"). `byteStream` reads the stream's buffer before it
 * believes the end, so nothing is lost. The pinging side stays
 * `@libp2p/ping`'s (`libp2p.services.ping.ping`).
 *
 * @module
 */
import type { Stream } from "@libp2p/interface";
import { byteStream } from "@libp2p/utils";

/** libp2p's ping protocol id (`@libp2p/ping`'s default prefix). */
export const PING_PROTOCOL = "/ipfs/ping/1.0.0";

/** Longest one inbound ping stream may stay open, ms (as `@libp2p/ping`). */
export const PING_ANSWER_TIMEOUT_MS = 10_000;

/** Options of {@linkcode answerPing}. */
export interface AnswerPingOptions {
  /** Longest the stream may stay open, ms (default 10 s). */
  readonly timeoutMs?: number;
}

/**
 * Echo everything `stream` carries until the remote half-closes, then
 * close our side; aborts the stream on a timeout or an error.
 *
 * @example
 * ```ts
 * import type { Libp2p } from "@libp2p/interface";
 * import { answerPing } from "./ping.ts";
 * declare const libp2p: Libp2p;
 * await libp2p.handle("/ipfs/ping/1.0.0", (stream) => answerPing(stream), {
 *   force: true,
 * });
 * ```
 */
export async function answerPing(
  stream: Stream,
  options: AnswerPingOptions = {},
): Promise<void> {
  const signal = AbortSignal.timeout(
    options.timeoutMs ?? PING_ANSWER_TIMEOUT_MS,
  );
  const bytes = byteStream(stream);
  try {
    while (true) {
      const chunk = await bytes.read({ signal });
      if (chunk === null) break;
      await bytes.write(chunk, { signal });
    }
    bytes.unwrap();
    await stream.close({ signal });
  } catch (err) {
    stream.abort(err as Error);
  }
}
