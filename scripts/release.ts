/**
 * Builds the binary for every release target into `dist/` and writes
 * `dist/SHA256SUMS` (the format `sha256sum -c` reads).
 *
 * @module
 */
import { basename } from "node:path";
import { toHex } from "../lib/core/mod.ts";
import { compileTarget, TARGETS } from "./compile.ts";

/**
 * Hex SHA-256 of the file at `path`.
 *
 * @example
 * ```ts
 * const sum = await sha256File("dist/tesseras-x86_64-unknown-linux-gnu");
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return toHex(new Uint8Array(digest));
}

/**
 * Compiles every target and writes the sums file; resolves with its lines.
 *
 * @example
 * ```ts
 * const lines = await release({ dir: "dist" });
 * ```
 */
export async function release(
  options: { dir?: string; targets?: readonly string[] } = {},
): Promise<string[]> {
  const dir = options.dir ?? "dist";
  await Deno.mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (const target of options.targets ?? TARGETS) {
    const bin = await compileTarget(target, { dir });
    lines.push(`${await sha256File(bin)}  ${basename(bin)}`);
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, lines.join("\n") + "\n");
  return lines;
}

if (import.meta.main) {
  try {
    for (const line of await release()) console.log(line);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    Deno.exit(1);
  }
}
