/**
 * The dashboard's page, built from `page/` by `deno task build:ui` into a
 * string module, so the daemon serves it from memory and `deno compile`
 * embeds it. The page's sources run in the browser, not in Deno.
 *
 * @example
 * ```ts
 * import { UI_BUNDLE } from "./mod.ts";
 * UI_BUNDLE.html.startsWith("<!doctype html>"); // true
 * ```
 *
 * @module
 */
export { UI_BUNDLE } from "./bundle.generated.ts";
