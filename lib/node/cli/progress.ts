/**
 * A progress bar on standard error when it is a terminal; silent when
 * piped, so scripts get clean output.
 *
 * @module
 */

/** Something that shows progress. */
export interface Progress {
  /** Update to `done` of `total` in `phase`. */
  update(event: { done: number; total: number; phase: string }): void;
  /** Clear the bar. */
  finish(): void;
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Force on or off; by default on when standard error is a terminal. */
  readonly enabled?: boolean;
  /** Where to draw; standard error by default. */
  readonly write?: (text: string) => void;
}

/**
 * A terminal progress bar.
 *
 * @example
 * ```ts
 * const bar = createProgress();
 * bar.update({ done: 5, total: 10, phase: "upload" });
 * bar.finish();
 * ```
 */
export function createProgress(options: ProgressOptions = {}): Progress {
  const enabled = options.enabled ?? Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const write = options.write ??
    ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  let drawn = false;
  return {
    update({ done, total, phase }) {
      if (!enabled) return;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const width = 30;
      const filled = Math.round(ratio * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      write(
        `\r${phase.padEnd(10)} [${bar}] ${
          (ratio * 100).toFixed(0).padStart(3)
        }%`,
      );
      drawn = true;
    },
    finish() {
      if (enabled && drawn) write("\r\x1b[2K");
      drawn = false;
    },
  };
}
