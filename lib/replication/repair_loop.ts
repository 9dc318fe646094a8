/**
 * The background repair loop: a sweep every `repairIntervalMs` plus a
 * random jitter of up to `repairJitterMs`, on the `Clock` port so the
 * simulator runs it in virtual time.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, cryptoRng, type Rng, systemClock } from "../core/mod.ts";
import type { ReplicationService } from "./service.ts";
import type { SweepOptions, SweepReport } from "./types.ts";

/** Options of {@linkcode RepairLoop}. */
export interface RepairLoopOptions {
  /** Time source (default the system clock; use the service's). */
  readonly clock?: Clock;
  /** Jitter source (default crypto; seeded in the simulator). */
  readonly rng?: Rng;
  /** Delay before the first sweep, ms (default a random jitter in [0, repairJitterMs)). */
  readonly initialDelayMs?: number;
  /** Stops the loop when aborted (as {@linkcode RepairLoop.stop} does). */
  readonly signal?: AbortSignal;
  /** Options passed to each sweep. */
  readonly sweep?: Omit<SweepOptions, "signal">;
  /** Called with each sweep's report (errors thrown here are logged). */
  readonly onSweep?: (report: SweepReport) => void;
}

/**
 * Runs `service.repairSweep()` forever until stopped. A sweep that fails
 * is logged and the loop goes on.
 *
 * @example
 * ```ts
 * import type { Clock, Rng } from "../core/mod.ts";
 * import type { ReplicationService } from "./service.ts";
 * declare const service: ReplicationService;
 * declare const clock: Clock;
 * declare const rng: Rng;
 * const loop = new RepairLoop(service, { clock, rng });
 * loop.start();
 * // … on shutdown:
 * await loop.stop();
 * ```
 */
export class RepairLoop {
  readonly #service: ReplicationService;
  readonly #options: RepairLoopOptions;
  readonly #controller = new AbortController();
  #done: Promise<void> | null = null;
  #sweeps = 0;

  /**
   * A stopped loop; call {@linkcode RepairLoop.start}.
   *
   * @param service the node's replication service
   * @param options clock, randomness, first delay, stop signal, callback
   */
  constructor(service: ReplicationService, options: RepairLoopOptions = {}) {
    this.#service = service;
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.#controller.abort(), {
      once: true,
    });
  }

  /** Sweeps completed so far. */
  get sweeps(): number {
    return this.#sweeps;
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#done !== null && !this.#controller.signal.aborted;
  }

  /** Start the loop (idempotent). Resolves `done` when stopped. */
  start(): void {
    if (this.#done || this.#controller.signal.aborted) return;
    this.#done = this.#run();
  }

  /** Resolves when the loop has stopped (immediately when never started). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** Stop: abort the wait or the sweep in progress, and wait for it to end. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.done;
  }

  async #run(): Promise<void> {
    const log = getLogger(["tesseras", "replication"]);
    const clock = this.#options.clock ?? systemClock;
    const rng = this.#options.rng ?? cryptoRng;
    const { repairIntervalMs, repairJitterMs } = this.#service.config;
    const signal = this.#controller.signal;
    let delay = this.#options.initialDelayMs ??
      Math.floor(rng.next() * repairJitterMs);
    while (!signal.aborted) {
      try {
        await clock.sleep(delay, { signal });
      } catch {
        break;
      }
      try {
        const report = await this.#service.repairSweep({
          ...this.#options.sweep,
          signal,
        });
        this.#sweeps++;
        log.info(
          "repair sweep: {healthy} healthy, {repaired} repaired, {degraded} degraded, {lost} lost",
          { ...report, tesseras: report.tesseras.length },
        );
        this.#options.onSweep?.(report);
      } catch (e) {
        if (signal.aborted) break;
        log.error("repair sweep failed: {error}", { error: String(e) });
      }
      delay = repairIntervalMs + Math.floor(rng.next() * repairJitterMs);
    }
  }
}
