/**
 * `tesseras sim …`: parse options, run, print text or JSON, write the
 * report, and return the exit status (0 all checks passed, 1 a check
 * failed, 2 bad usage). `main.ts` registers the options with commander
 * and calls {@linkcode simCommand}; this file also runs on its own:
 * `deno run -A sim/cli.ts --scenario quick`.
 *
 * @module
 */
import { runSimulation, type SimulationOptions } from "./run.ts";
import { renderText, writeReport } from "./report.ts";
import type { Scenario } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/mod.ts";

/** Options of `tesseras sim`, as parsed from the command line. */
export interface SimCommandOptions {
  /** Nodes at the start. */
  readonly nodes?: number | string;
  /** Virtual days. */
  readonly days?: number | string;
  /** Tesseras placed. */
  readonly tesseras?: number | string;
  /** Permanent churn per month, `0.1` or `10%`. */
  readonly churn?: number | string;
  /** Built-in scenario name (or, from code, a scenario object). */
  readonly scenario?: string | Scenario;
  /** Seed. */
  readonly seed?: string | number;
  /** Byte scale, `0.001` or `1/1024`. */
  readonly scale?: number | string;
  /** `port` or `libp2p`. */
  readonly stack?: string;
  /** `kademlia` or `exact` closest-peer answers. */
  readonly lookup?: string;
  /** `stable` or `churn` owners. */
  readonly owners?: string;
  /** Print the summary as one JSON object. */
  readonly json?: boolean;
  /** Write report.md, charts and summary.json here. */
  readonly report?: string;
}

/** Where the command writes. */
export interface SimCommandIo {
  /** Standard output. */
  readonly stdout: (text: string) => void;
  /** Standard error (progress and errors). */
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is shown only then). */
  readonly progress?: boolean;
}

/** The options as commander should declare them: flags, help. */
export const SIM_OPTIONS: readonly (readonly [string, string])[] = [
  ["--nodes <n>", "nodes at the start (scenario default)"],
  ["--days <d>", "virtual days to simulate"],
  ["--tesseras <t>", "tesseras to place"],
  ["--churn <rate>", "nodes leaving for good per month, e.g. 0.1 or 10%"],
  [
    "--scenario <name>",
    `scenario: ${Object.keys(SCENARIOS).join(", ")} (default "default")`,
  ],
  ["--seed <s>", "seed; the same seed gives the same summary"],
  ["--scale <f>", "byte scale for sizes, tiers and limits, e.g. 1/1024"],
  ["--stack <stack>", "port (default) or libp2p"],
  ["--lookup <model>", "kademlia (default) or exact closest peers"],
  [
    "--owners <mode>",
    "churn (owners leave like everyone; default when the scenario churns) or stable",
  ],
  ["--json", "print the summary as one JSON object"],
  ["--report <dir>", "write report.md, SVG charts and summary.json to DIR"],
];

const defaultIo: SimCommandIo = {
  stdout: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
  stderr: (t) => Deno.stderr.writeSync(new TextEncoder().encode(t)),
  progress: Deno.stderr.isTerminal(),
};

/** Raised for bad option values; the command maps it to exit status 2. */
export class UsageError extends Error {}

function num(name: string, v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  const s = v.trim();
  let n: number;
  if (s.endsWith("%")) n = Number(s.slice(0, -1)) / 100;
  else if (/^[\d.]+\/[\d.]+$/.test(s)) {
    const [a, b] = s.split("/").map(Number);
    n = a / b;
  } else n = Number(s);
  if (!Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number, got "${v}"`);
  }
  return n;
}

/**
 * The {@linkcode SimulationOptions} for command-line options; throws
 * {@linkcode UsageError} on bad values.
 *
 * @example
 * ```ts
 * toSimulationOptions({ scale: "1/1024", churn: "10%" });
 * // { scale: 0.0009765625, churn: 0.1, … }
 * ```
 */
export function toSimulationOptions(o: SimCommandOptions): SimulationOptions {
  if (typeof o.scenario === "string" && !(o.scenario in SCENARIOS)) {
    throw new UsageError(
      `unknown scenario "${o.scenario}": choose one of ${
        Object.keys(SCENARIOS).join(", ")
      }`,
    );
  }
  if (o.stack !== undefined && o.stack !== "port" && o.stack !== "libp2p") {
    throw new UsageError(`--stack must be port or libp2p, got "${o.stack}"`);
  }
  if (
    o.lookup !== undefined && o.lookup !== "kademlia" && o.lookup !== "exact"
  ) {
    throw new UsageError(
      `--lookup must be kademlia or exact, got "${o.lookup}"`,
    );
  }
  if (o.owners !== undefined && o.owners !== "stable" && o.owners !== "churn") {
    throw new UsageError(`--owners must be stable or churn, got "${o.owners}"`);
  }
  return {
    scenario: o.scenario,
    nodes: num("nodes", o.nodes),
    days: num("days", o.days),
    tesseras: num("tesseras", o.tesseras),
    churn: num("churn", o.churn),
    seed: o.seed,
    scale: num("scale", o.scale),
    stack: o.stack as "port" | "libp2p" | undefined,
    lookup: o.lookup as "kademlia" | "exact" | undefined,
    owners: o.owners as "stable" | "churn" | undefined,
  };
}

/**
 * Parse `tesseras sim` arguments without commander (for running this
 * file directly). Throws {@linkcode UsageError} on unknown flags.
 *
 * @example
 * ```ts
 * parseSimArgs(["--nodes", "100", "--json"]); // { nodes: "100", json: true }
 * ```
 */
export function parseSimArgs(args: readonly string[]): SimCommandOptions {
  const out: Record<string, string | boolean> = {};
  const valued = new Set(
    SIM_OPTIONS.filter(([f]) => f.includes("<")).map(([f]) =>
      f.split(" ")[0].slice(2)
    ),
  );
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument "${a}"`);
    const [name, inline] = a.slice(2).split("=", 2);
    if (name === "json") out.json = true;
    else if (valued.has(name)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      out[name] = v;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return out as SimCommandOptions;
}

/**
 * Run `tesseras sim` and return the exit status: 0 when every check
 * passed, 1 when one failed, 2 for bad usage.
 *
 * @example
 * ```ts
 * declare const opts: SimCommandOptions;
 * // in main.ts, inside the commander action:
 * Deno.exit(await simCommand(opts));
 * ```
 */
export async function simCommand(
  options: SimCommandOptions,
  io: SimCommandIo = defaultIo,
): Promise<number> {
  let sim: SimulationOptions;
  try {
    sim = toSimulationOptions(options);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
  let result;
  try {
    result = await runSimulation({
      ...sim,
      onProgress: io.progress && !options.json
        ? (p) =>
          io.stderr(
            `\rday ${p.day}/${p.days}: healthy ${p.healthy}, degraded ${p.degraded}, unrecoverable from holders ${p.unrecoverable}, lost for good ${p.lostForGood}   ${
              p.day >= p.days ? "\n" : ""
            }`,
          )
        : undefined,
    });
  } catch (e) {
    io.stderr(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (options.report) await writeReport(result, options.report);
  if (options.json) {
    io.stdout(
      JSON.stringify({
        ...result.summary,
        ok: result.ok,
        checks: result.checks,
      }) +
        "\n",
    );
  } else {
    io.stdout(renderText(result));
    if (options.report) {
      io.stdout(`report written to ${options.report}/report.md\n`);
    }
  }
  return result.ok ? 0 : 1;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await simCommand(parseSimArgs(Deno.args));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}`);
    code = 2;
  }
  Deno.exit(code);
}
