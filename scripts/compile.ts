/**
 * Builds the single `tesseras` binary with `deno compile`: for this
 * machine's target by default, for every release target with `--all`, or
 * for the targets named with `--target T`. Everything the binary needs
 * (the erasure-coding wasm, the SQL migrations, the dashboard's page as
 * `lib/ui/bundle.generated.ts`) is imported by the code, so `deno compile`
 * embeds it.
 *
 * @module
 */

/** The release targets of `compile:all`. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** Permissions baked into the binary (no `-A`). */
export const BINARY_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];

/**
 * Modules loaded at run time that static analysis does not see (workers);
 * `deno compile --include` embeds them. None today: the node starts no
 * worker (the streaming put hashes on the main thread).
 */
export const RUNTIME_MODULES: readonly string[] = [];

/** Output path of the binary for `target`. */
export function binaryPath(target: string, options: { dir?: string } = {}) {
  const dir = options.dir ?? "dist";
  const ext = target.includes("windows") ? ".exe" : "";
  return `${dir}/tesseras-${target}${ext}`;
}

/**
 * Compiles `main.ts` for `target`; resolves with the binary's path or
 * rejects with the compiler's message.
 *
 * @example
 * ```ts
 * await compileTarget(Deno.build.target, { dir: "dist" });
 * ```
 */
export async function compileTarget(
  target: string,
  options: { dir?: string } = {},
): Promise<string> {
  const output = binaryPath(target, options);
  const root = new URL("..", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      ...BINARY_PERMISSIONS,
      ...RUNTIME_MODULES.flatMap((m) => ["--include", m]),
      "--target",
      target,
      "--output",
      output,
      "main.ts",
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `deno compile for ${target} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return output;
}

if (import.meta.main) {
  const args = Deno.args;
  const named = args.flatMap((a, i) => args[i - 1] === "--target" ? [a] : []);
  const targets = args.includes("--all")
    ? TARGETS
    : named.length > 0
    ? named
    : [Deno.build.target];
  let failed = 0;
  for (const target of targets) {
    try {
      console.log(`built ${await compileTarget(target)}`);
    } catch (err) {
      failed++;
      console.error(err instanceof Error ? err.message : err);
    }
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
