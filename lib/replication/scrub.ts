/**
 * The holder's scrub (docs/proofs.md, "What it does not catch"): every
 * shard we hold, for others or ourselves, is read in full on a schedule
 * and hashed against its checksum (the store's `verify`, which also
 * checks the outboard and rewrites it when only the outboard rotted).
 *
 * Audits sample 20 groups, so they check honesty but miss a single
 * flipped byte elsewhere; the scrub checks the media. A shard that fails
 * is `CorruptLocal`: its bytes are wrong, so keeping them helps nobody.
 * It is removed (row, file, outboard, and the sender's credit in the same
 * step), logged, and listed in the report. Its owner (or a steward) then
 * learns it at its next audit of us, which no longer finds the shard,
 * and places it again from the surviving shards: the bad bytes never
 * travel again, and the owner needs no new message.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  type Clock,
  type FragmentId,
  type IoOptions,
  isTesserasError,
  type TesseraId,
} from "../core/mod.ts";
import type { ServiceContext } from "./context.ts";
import { OwnShards } from "./own_shards.ts";

/** One shard the scrub found damaged and removed. */
export interface CorruptShard {
  /** The tessera. */
  readonly tesseraId: TesseraId;
  /** The shard's index. */
  readonly index: number;
  /** Its recorded checksum (what the bytes no longer hash to). */
  readonly checksum: string;
}

/** What one scrub pass found. */
export interface ScrubReport {
  /** Shards read in full. */
  readonly checked: number;
  /** Shards found damaged, and removed. */
  readonly corrupt: readonly CorruptShard[];
  /**
   * Our own tesseras whose local copy (blob) no longer hashes to its id:
   * kept (it is the user's copy) and logged; audits read no byte of it,
   * so this is where its rot shows.
   */
  readonly corruptBlobs: readonly TesseraId[];
  /** When the pass started and ended, ms on the service's clock. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/**
 * Internal: scrub every shard held, except those of the tesseras in
 * `skip` (our own: their health check verifies our local shards and
 * repairs them as `corrupt_local`). A shard that vanished while the pass
 * ran (deleted by a repair or a let-go) is skipped, not reported.
 */
export async function scrubHeld(
  ctx: ServiceContext,
  skip: ReadonlySet<TesseraId>,
  options: IoOptions = {},
): Promise<ScrubReport> {
  const startedAt = ctx.clock.now();
  const held = await ctx.fragments.list(undefined, options);
  const corrupt: CorruptShard[] = [];
  let checked = 0;
  for (const f of held) {
    options.signal?.throwIfAborted();
    if (skip.has(f.tesseraId)) continue;
    const verdict = await scrubOne(ctx, f, options);
    if (verdict === "gone") continue;
    checked++;
    if (verdict === "corrupt") {
      corrupt.push({
        tesseraId: f.tesseraId,
        index: f.index,
        checksum: f.checksum,
      });
    }
  }
  const corruptBlobs = await scrubOwnBlobs(ctx, [...skip], options);
  return {
    checked,
    corrupt,
    corruptBlobs,
    startedAt,
    finishedAt: ctx.clock.now(),
  };
}

/** Our tesseras among `ids` whose blob no longer hashes to its id. */
async function scrubOwnBlobs(
  ctx: ServiceContext,
  ids: readonly TesseraId[],
  options: IoOptions,
): Promise<TesseraId[]> {
  const bad: TesseraId[] = [];
  for (const id of ids) {
    const own = await OwnShards.open(ctx, id, options);
    if (own === null) continue;
    try {
      await own.verifyBlob(options);
    } catch (e) {
      if (!isTesserasError(e, "CHECKSUM_MISMATCH")) throw e;
      ctx.log.error(
        "scrub: our local copy of {tessera} no longer hashes to its id: {reason}",
        { tessera: id, reason: e.message },
      );
      bad.push(id);
    }
  }
  return bad;
}

/** Verify one shard; remove it when damaged. */
async function scrubOne(
  ctx: ServiceContext,
  f: FragmentId,
  options: IoOptions,
): Promise<"ok" | "corrupt" | "gone"> {
  // Under receive's lock of this shard, so a re-push of the same shard
  // in flight does not race the removal.
  return await ctx.locks.run(`shard:${f.tesseraId}:${f.index}`, async () => {
    if (await ctx.fragments.verify(f.tesseraId, f.index, options)) {
      return "ok";
    }
    const still = await ctx.fragments.list(f.tesseraId, options);
    if (!still.some((s) => s.index === f.index)) return "gone";
    ctx.log.warn(
      "scrub: shard {index} of {tessera} no longer hashes to its checksum (CorruptLocal): removed, its owner places it again after its next audit",
      { tessera: f.tesseraId, index: f.index },
    );
    await ctx.fragments.delete(f.tesseraId, f.index, options);
    ctx.stewards.released(f.tesseraId);
    return "corrupt";
  });
}

/** Options of {@linkcode ScrubLoop}. */
export interface ScrubLoopOptions {
  /** Time between passes, ms (the service's `scrubIntervalMs`). */
  readonly intervalMs: number;
  /** Time source (the service's clock: the simulator's virtual time). */
  readonly clock: Clock;
  /** Delay before the first pass, ms (default `intervalMs`). */
  readonly initialDelayMs?: number;
  /** Called with each pass's report. */
  readonly onScrub?: (report: ScrubReport) => void;
}

/**
 * Runs `scrub` every `intervalMs` until stopped; a pass that fails is
 * logged and the loop goes on.
 *
 * @example
 * ```ts
 * import { systemClock } from "../core/mod.ts";
 * import type { ScrubReport } from "./scrub.ts";
 * declare const scrub: (o: { signal: AbortSignal }) => Promise<ScrubReport>;
 * const loop = new ScrubLoop(scrub, { intervalMs: 7 * 86_400_000, clock: systemClock });
 * loop.start();
 * await loop.stop();
 * ```
 */
export class ScrubLoop {
  readonly #scrub: (o: { signal: AbortSignal }) => Promise<ScrubReport>;
  readonly #options: ScrubLoopOptions;
  readonly #controller = new AbortController();
  #done: Promise<void> | null = null;
  #passes = 0;

  /**
   * A stopped loop.
   *
   * @param scrub one pass (the service's `scrubHeld`)
   * @param options interval, clock, first delay, callback
   */
  constructor(
    scrub: (o: { signal: AbortSignal }) => Promise<ScrubReport>,
    options: ScrubLoopOptions,
  ) {
    this.#scrub = scrub;
    this.#options = options;
  }

  /** Passes completed so far. */
  get passes(): number {
    return this.#passes;
  }

  /** Start (idempotent; a zero or negative interval never starts). */
  start(): void {
    if (this.#done || !(this.#options.intervalMs > 0)) return;
    this.#done = this.#run();
  }

  /** Abort the wait or the pass under way and wait for it to end. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await (this.#done ?? Promise.resolve());
  }

  async #run(): Promise<void> {
    const { clock, intervalMs } = this.#options;
    const signal = this.#controller.signal;
    let delay = this.#options.initialDelayMs ?? intervalMs;
    while (!signal.aborted) {
      try {
        await clock.sleep(delay, { signal });
      } catch {
        break;
      }
      try {
        const report = await this.#scrub({ signal });
        this.#passes++;
        this.#options.onScrub?.(report);
      } catch (e) {
        if (signal.aborted) break;
        getLogger(["tesseras", "replication"]).error(
          "scrub pass failed: {error}",
          { error: String(e) },
        );
      }
      delay = intervalMs;
    }
  }
}
