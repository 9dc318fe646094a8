/// <reference lib="dom" />
/**
 * Loading a page's data: a hook that fetches, refreshes on a timer and on
 * demand, and keeps the last error in words.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import type { Tone } from "./format.ts";

/** What {@linkcode useLoad} gives a page. */
export interface Loaded<T> {
  readonly data: T | null;
  readonly error: string | null;
  readonly reload: () => void;
}

/** How often a page refreshes by itself. */
const REFRESH_MS = 15_000;

/**
 * Fetches with `load` now, every 15 s and on `reload()`.
 *
 * @example
 * ```ts
 * import { getJson } from "./api.ts";
 * const { data, error, reload } = useLoad(() => getJson("/v1/ui/overview"));
 * ```
 */
export function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
      },
      (err) =>
        live && setError(err instanceof Error ? err.message : String(err)),
    );
    const timer = setTimeout(reload, REFRESH_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tick]);
  return { data, error, reload };
}

/**
 * A state in words with its mark and tone.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * html`<${State} tone="ok" text="Safe" />`;
 * ```
 */
export function State({ tone, text }: { tone: Tone; text: string }): VNode {
  return html`<span class=${`state ${tone}`}>${text}</span>`;
}

/**
 * An error notice, or nothing.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * declare const error: string | null;
 * html`<${ErrorNotice} error=${error} />`;
 * ```
 */
export function ErrorNotice({ error }: { error: string | null }): VNode | null {
  return error ? html`<p class="notice error" role="alert">${error}</p>` : null;
}
