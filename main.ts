/**
 * The `tesseras` command line.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { buildTarget, VERSION } from "./lib/node/version.ts";

/** Builds the command tree; exported for tests. */
export function buildProgram(): Command {
  const program = new Command("tesseras")
    .description(
      "Keep memories alive: erasure-coded, peer-to-peer, repaired under churn.",
    )
    .version(`${VERSION} (${buildTarget()})`, "-V, --version")
    .showHelpAfterError()
    .exitOverride();
  return program;
}

if (import.meta.main) {
  const program = buildProgram();
  try {
    await program.parseAsync(Deno.args, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) Deno.exit(err.exitCode);
    console.error(`error: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
