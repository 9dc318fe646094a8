/**
 * The committed dashboard bundle is what lib/ui/page builds to: a change
 * to the page without `deno task build:ui` fails here.
 */
import assert from "node:assert/strict";
import {
  buildUi,
  BUNDLE_PATH,
  renderBundleModule,
} from "../../scripts/build_ui.ts";

Deno.test({
  name: "lib/ui/bundle.generated.ts is current (deno task build:ui)",
  // esbuild runs as a child process the build stops before returning.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bundle = await buildUi();
    const committed = await Deno.readTextFile(BUNDLE_PATH);
    assert.ok(
      committed === renderBundleModule(bundle),
      "lib/ui/bundle.generated.ts is stale: run deno task build:ui and commit it",
    );
    assert.doesNotMatch(
      bundle.js + bundle.css + bundle.html,
      /https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}\/[^"'\s]*\.(js|css|woff2?)/i,
      "the page loads no script, style or font from elsewhere",
    );
  },
});
