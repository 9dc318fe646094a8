/**
 * Log output of the daemon and the command line: structured lines on
 * standard error, through `@logtape/logtape`.
 *
 * @module
 */
import {
  configure,
  getTextFormatter,
  type LogLevel,
  reset,
} from "@logtape/logtape";

/** Options of {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** Lowest level written; `info` unless `TESSERAS_LOG` says otherwise. */
  readonly level?: LogLevel;
}

const LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/**
 * Sends every `["tesseras", …]` log record at `level` or above to standard
 * error. Safe to call more than once.
 *
 * @example
 * ```ts
 * await setupLogging({ level: "debug" });
 * ```
 */
export async function setupLogging(
  options: LoggingOptions = {},
): Promise<void> {
  const fromEnv = Deno.env.get("TESSERAS_LOG") as LogLevel | undefined;
  const level = options.level ??
    (fromEnv && LEVELS.includes(fromEnv) ? fromEnv : "info");
  const formatter = getTextFormatter({ timestamp: "date-time" });
  const encoder = new TextEncoder();
  await configure({
    reset: true,
    sinks: {
      // Synchronous so that nothing is lost when the process exits.
      stderr: (record) => {
        Deno.stderr.writeSync(encoder.encode(formatter(record)));
      },
    },
    loggers: [
      { category: ["tesseras"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
}

/** Undo {@linkcode setupLogging}. */
export async function teardownLogging(): Promise<void> {
  await reset();
}
