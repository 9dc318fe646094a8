/**
 * Checks of where a request to the local API comes from. A page on
 * another site can make the browser send requests to 127.0.0.1 (CSRF), or
 * point its own host name at 127.0.0.1 (DNS rebinding) and read the
 * answers; both show in the `Host` and `Origin` headers, which scripts
 * cannot forge.
 *
 * @module
 */

/** Options of {@linkcode guardRequest}. */
export interface GuardOptions {
  /**
   * Refuse a state-changing request without an `Origin` too (one
   * authenticated by the session cookie).
   */
  readonly needsOrigin?: boolean;
}

/** Methods that change nothing and may come without an `Origin`. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Whether `host` (a `Host` header) names this server by an IP address or
 * `localhost`. A DNS name other than `localhost` is refused: that is how
 * a rebinding attack looks, and the API is local. The port is not
 * compared: a rebinding page reaches us only on our port anyway, and
 * programs may leave a port out.
 *
 * @example
 * ```ts
 * hostAllowed("127.0.0.1:7431"); // true
 * hostAllowed("evil.example:7431"); // false
 * ```
 */
export function hostAllowed(host: string | null): boolean {
  if (host === null) return false;
  const m = host.match(/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d+)?$/);
  if (!m) return false;
  const name = m[1].toLowerCase();
  if (name === "localhost" || name.startsWith("[")) return true;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

/**
 * Why `req` must be refused, or `null` when its `Host` names this server
 * and, for a state-changing method, its `Origin` (when sent) is this
 * server's own. With `needsOrigin`, a state-changing request without an
 * `Origin` is refused too: browsers send one with every such request,
 * only other programs do not.
 *
 * @example
 * ```ts
 * const req = new Request("http://127.0.0.1:7431/v1/repair", {
 *   method: "POST",
 *   headers: { host: "127.0.0.1:7431", origin: "https://evil.example" },
 * });
 * guardRequest(req); // "foreign origin https://evil.example"
 * ```
 */
export function guardRequest(
  req: Request,
  options: GuardOptions = {},
): string | null {
  const host = req.headers.get("host");
  if (!hostAllowed(host)) {
    return `host ${host ?? "(none)"} is not this node's address`;
  }
  if (SAFE_METHODS.has(req.method)) return null;
  const origin = req.headers.get("origin");
  if (origin === null) {
    return options.needsOrigin ? "state-changing request without Origin" : null;
  }
  if (origin !== `http://${host}`) return `foreign origin ${origin}`;
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return `cross-site request (${site})`;
  }
  return null;
}
