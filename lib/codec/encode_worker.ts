/**
 * The main-thread side of hash_worker.ts: starts the worker, waits until
 * it is ready (so a missing worker, e.g. in a compiled binary built
 * without it, is detected before any work is handed over) and wraps its
 * message protocol in promises.
 *
 * @module
 */
import { TesserasError } from "../core/mod.ts";

/** How long a worker may take to load before we go on without it. */
const READY_TIMEOUT_MS = 10_000;

/** A hashing worker; see hash_worker.ts for the protocol. */
export class HashWorker {
  readonly #worker: Worker;
  #file: PromiseWithResolvers<{ hash: string; size: number }> | null = null;
  #rowAcks: PromiseWithResolvers<void>[] = [];
  #done: PromiseWithResolvers<Uint8Array[]> | null = null;
  #failure: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** A ready worker, or `null` when none can start here. */
  static async start(): Promise<HashWorker | null> {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./hash_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch {
      return null;
    }
    const ready = Promise.withResolvers<boolean>();
    const timer = setTimeout(() => ready.resolve(false), READY_TIMEOUT_MS);
    worker.onmessage = (e) => ready.resolve(e.data?.type === "ready");
    worker.onerror = (e) => {
      e.preventDefault();
      ready.resolve(false);
    };
    const ok = await ready.promise;
    clearTimeout(timer);
    if (!ok) {
      worker.terminate();
      return null;
    }
    const hw = new HashWorker(worker);
    worker.onmessage = (e) => hw.#onMessage(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      hw.#fail(new Error(e.message));
    };
    return hw;
  }

  #onMessage(msg: { type: string; [k: string]: unknown }): void {
    switch (msg.type) {
      case "file":
        this.#file?.resolve({
          hash: String(msg.hash),
          size: Number(msg.size),
        });
        break;
      case "rows":
        this.#rowAcks.shift()?.resolve();
        break;
      case "rows-done":
        this.#done?.resolve(msg.digests as Uint8Array[]);
        break;
      case "error":
        this.#fail(new Error(String(msg.message)));
        break;
    }
  }

  #fail(err: Error): void {
    this.#failure = new TesserasError(
      "INTERNAL",
      `hashing worker failed: ${err.message}`,
      { cause: err },
    );
    this.#file?.reject(this.#failure);
    for (const a of this.#rowAcks.splice(0)) a.reject(this.#failure);
    this.#done?.reject(this.#failure);
  }

  #pending<T>(): PromiseWithResolvers<T> {
    const p = Promise.withResolvers<T>();
    p.promise.catch(() => {});
    if (this.#failure) p.reject(this.#failure);
    return p;
  }

  /** BLAKE3 and size of the file at `path`, hashed in the worker. */
  hashFile(path: string): Promise<{ hash: string; size: number }> {
    this.#file = this.#pending();
    this.#worker.postMessage({ type: "file", path });
    return this.#file.promise;
  }

  /** Hand over the stripe buffers; the worker hashes `count` rows from `first`. */
  initRows(
    slots: SharedArrayBuffer[],
    width: number,
    first: number,
    count: number,
  ): void {
    this.#worker.postMessage({ type: "rows-init", slots, width, first, count });
  }

  /** Hash `w` bytes of the worker's rows in `slot`; resolves when done. */
  hashRows(slot: number, w: number): Promise<void> {
    const ack = this.#pending<void>();
    this.#rowAcks.push(ack);
    this.#worker.postMessage({ type: "rows", slot, w });
    return ack.promise;
  }

  /** The digests of the worker's rows. */
  finishRows(): Promise<Uint8Array[]> {
    this.#done = this.#pending();
    this.#worker.postMessage({ type: "rows-finish" });
    return this.#done.promise;
  }

  /** Stop the worker (idempotent). */
  stop(): void {
    this.#worker.terminate();
  }
}
