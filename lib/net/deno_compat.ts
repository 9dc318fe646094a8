/**
 * Makes js-libp2p let a Deno process exit once its nodes are stopped.
 *
 * Two Node.js behaviours that libp2p relies on are missing in Deno 2.9:
 *
 * - `mortice` (the peer store's lock) opens a `BroadcastChannel` that it
 *   never closes and calls `channel.unref?.()`, which Deno's
 *   `BroadcastChannel` lacks: the channel keeps the event loop alive
 *   forever.
 * - libp2p and kad-dht create many `AbortSignal.timeout(ms)` signals (20 s
 *   and more) with abort listeners. Node's timer behind them is unref'd;
 *   Deno's keeps the process alive until it fires.
 *
 * {@linkcode installDenoExitFixes} adds the missing `unref` (through Deno's
 * own internal ref switch) and replaces `AbortSignal.timeout` with a version
 * whose timer is unref'd, exactly as in Node. Both are process-wide,
 * idempotent, and harmless for code that does not rely on the timer to keep
 * the process alive (nothing should: an awaited timeout is always paired
 * with other pending I/O).
 *
 * @module
 */

let installed = false;

/**
 * Install the two fixes once per process; later calls do nothing.
 * `createTesserasNode` calls it, so callers rarely need to.
 *
 * @example
 * ```ts
 * installDenoExitFixes();
 * ```
 */
export function installDenoExitFixes(): void {
  if (installed) return;
  installed = true;
  if (typeof Deno === "undefined") return;
  patchBroadcastChannelUnref();
  patchAbortSignalTimeout();
}

/** Whether {@linkcode installDenoExitFixes} has run in this process. */
export function denoExitFixesInstalled(): boolean {
  return installed;
}

type RefSwitch = (this: BroadcastChannel, ref: boolean) => void;

function patchBroadcastChannelUnref(): void {
  if (typeof BroadcastChannel === "undefined") return;
  const proto = BroadcastChannel.prototype as unknown as Record<
    PropertyKey,
    unknown
  >;
  if (typeof proto.unref === "function") return;
  // Deno keeps the channel's receive loop ref'd through this internal
  // switch; it is the same mechanism its `Deno.unrefTimer` analogue uses.
  const refSymbol = Object.getOwnPropertySymbols(proto).find((s) =>
    s.description === "refBroadcastChannel"
  );
  if (refSymbol === undefined) return;
  const refSwitch = proto[refSymbol] as RefSwitch;
  Object.defineProperty(proto, "unref", {
    configurable: true,
    writable: true,
    value: function unref(this: BroadcastChannel) {
      refSwitch.call(this, false);
    },
  });
  Object.defineProperty(proto, "ref", {
    configurable: true,
    writable: true,
    value: function ref(this: BroadcastChannel) {
      refSwitch.call(this, true);
    },
  });
}

function patchAbortSignalTimeout(): void {
  const unrefTimeout = (ms: number): AbortSignal => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(
        new DOMException("The signal timed out.", "TimeoutError"),
      );
    }, ms);
    Deno.unrefTimer(timer);
    return controller.signal;
  };
  Object.defineProperty(AbortSignal, "timeout", {
    configurable: true,
    writable: true,
    value: unrefTimeout,
  });
}
