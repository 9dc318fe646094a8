/// <reference lib="dom" />
/**
 * The dashboard's entry point in the browser (bundled by
 * scripts/build_ui.ts).
 *
 * @module
 */
import { html } from "htm/preact";
import { render } from "preact";
import { App } from "./app.ts";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(html`<${App} />`, root);
}
