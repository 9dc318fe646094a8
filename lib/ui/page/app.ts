/// <reference lib="dom" />
/**
 * The dashboard's frame: a header with the three pages, chosen by the
 * address's hash (`#/`, `#/tesseras`, `#/peers`) so the browser's back
 * button and bookmarks work; focus moves to the page heading on change.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { OverviewPage } from "./overview.ts";
import { PeersPage } from "./peers.ts";
import { TesserasPage } from "./tesseras.ts";

const PAGES = [
  { hash: "#/", label: "Overview", view: OverviewPage },
  { hash: "#/tesseras", label: "My tesseras", view: TesserasPage },
  { hash: "#/peers", label: "Peers", view: PeersPage },
] as const;

function current(): (typeof PAGES)[number] {
  return PAGES.find((p) => p.hash === location.hash) ?? PAGES[0];
}

/**
 * The whole page.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * import { render } from "preact";
 * render(html`<${App} />`, document.getElementById("app")!);
 * ```
 */
export function App(): VNode {
  const [page, setPage] = useState(current());
  useEffect(() => {
    const onHash = () => {
      setPage(current());
      requestAnimationFrame(() =>
        document.querySelector<HTMLElement>("main h2")?.focus()
      );
    };
    globalThis.addEventListener("hashchange", onHash);
    return () => globalThis.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.title = `${page.label} · tesseras`;
    document.querySelector("main h2")?.setAttribute("tabindex", "-1");
  });
  const View = page.view;
  const skip = (e: Event) => {
    e.preventDefault();
    document.getElementById("main")?.focus();
  };
  return html`
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <h1>tesseras</h1>
      <nav aria-label="Pages">
        <ul>${PAGES.map((p) =>
          html`<li><a href=${p.hash} aria-current=${
            p === page ? "page" : undefined
          }>${p.label}</a></li>`
        )}</ul>
      </nav>
    </header>
    <main id="main" tabindex="-1">
      <${View} />
    </main>
  `;
}
