/**
 * The version of this build and the target it was compiled for.
 *
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };

/** Semantic version from `deno.json`. */
export const VERSION: string = denoConfig.version;

/**
 * The build target: the Rust-style triple of the running Deno (for a
 * compiled binary, the target it was compiled for).
 *
 * @example
 * ```ts
 * const banner = `tesseras ${VERSION} (${buildTarget()})`;
 * ```
 */
export function buildTarget(): string {
  return Deno.build.target;
}
