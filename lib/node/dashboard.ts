/**
 * The dashboard the daemon serves at `/` of its local API: the page
 * (lib/ui, embedded as a string module), the one-time login links that
 * `tesseras ui` prints, and the session cookie they set.
 *
 * A login link carries a 256-bit secret, good once and for
 * {@linkcode LOGIN_LINK_TTL_MS}; opening it swaps it for a session id in an
 * `HttpOnly`, `SameSite=Strict` cookie and redirects to `/` so the secret
 * leaves the address bar. Neither secret nor session id is ever logged.
 * Both live in this object only: a restart logs every browser out.
 *
 * @module
 */
import { toHex } from "../core/mod.ts";
import { UI_BUNDLE } from "../ui/mod.ts";
import type { ApiAuth, ApiExtension } from "./api.ts";
import { DashboardData, type DashboardSources } from "./dashboard_data.ts";

/** How long a login link stays good. */
export const LOGIN_LINK_TTL_MS = 5 * 60 * 1000;
/** How long a session lasts without use. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** At most this many unused links and sessions; the oldest go first. */
const MAX_ENTRIES = 64;

/** Security headers of every dashboard answer. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function secret(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** Secrets with an expiry, at most {@linkcode MAX_ENTRIES} of them. */
class ExpiringSet {
  readonly #until = new Map<string, number>();

  add(key: string, until: number): void {
    this.#until.set(key, until);
    while (this.#until.size > MAX_ENTRIES) {
      this.#until.delete(this.#until.keys().next().value!);
    }
  }

  /** Whether `key` is present and unexpired; expired keys are dropped. */
  has(key: string, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#until.delete(key);
    return false;
  }

  delete(key: string): boolean {
    return this.#until.delete(key);
  }
}

/**
 * One-time login links and the sessions they open.
 *
 * @example
 * ```ts
 * const sessions = new DashboardSessions();
 * const session = sessions.redeem(sessions.issueLink());
 * sessions.valid(session!); // true
 * ```
 */
export class DashboardSessions {
  readonly #links = new ExpiringSet();
  readonly #sessions = new ExpiringSet();
  readonly #now: () => number;

  /** @param options a clock for tests */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** A new login secret, good once. */
  issueLink(): string {
    const s = secret();
    this.#links.add(s, this.#now() + LOGIN_LINK_TTL_MS);
    return s;
  }

  /** A new session id for a good, unused `link`; `null` otherwise. */
  redeem(link: string): string | null {
    if (!this.#links.has(link, this.#now())) return null;
    this.#links.delete(link);
    const session = secret();
    this.#sessions.add(session, this.#now() + SESSION_IDLE_MS);
    return session;
  }

  /** Whether `session` is open; each use extends it. */
  valid(session: string): boolean {
    if (!this.#sessions.has(session, this.#now())) return false;
    this.#sessions.add(session, this.#now() + SESSION_IDLE_MS);
    return true;
  }
}

/** The session cookie's name: cookies ignore ports, so each port has its own. */
function cookieName(url: URL): string {
  return `tesseras_session_${url.port || "80"}`;
}

function sessionOf(req: Request, url: URL): string | null {
  const name = cookieName(url);
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, v] = part.trim().split("=", 2);
    if (k === name && v) return v;
  }
  return null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A small page of its own (no script) for the cases the app cannot show:
 * not logged in, a bad or used login link.
 */
function messagePage(
  status: number,
  text: { title: string; body: string },
): Response {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(text.title)} · tesseras</title>` +
    `<link rel="stylesheet" href="/ui/app.css"></head><body><main class="message">` +
    `<h1>${escapeHtml(text.title)}</h1><p>${escapeHtml(text.body)}</p>` +
    `<p>In a terminal on this computer, run <code>tesseras ui</code> and open the link it prints.</p>` +
    `</main></body></html>`;
  return new Response(page, {
    status,
    headers: { ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8" },
  });
}

function asset(body: string, type: string): Response {
  return new Response(body, {
    headers: { ...PAGE_HEADERS, "content-type": type },
  });
}

/**
 * The dashboard's part of the API: serves the page, redeems login links,
 * recognises sessions, and answers the dashboard's own read routes.
 *
 * @example
 * ```ts
 * import { type ApiBackend, serveApi } from "./api.ts";
 * import { SweepHistory } from "./sweep_history.ts";
 * declare const backend: ApiBackend;
 * declare const heldBytes: () => Promise<number>;
 * declare const tmpDir: string;
 * declare const token: string;
 * const history = new SweepHistory();
 * const dashboard = new Dashboard({ backend, heldBytes, history, tmpDir });
 * serveApi(backend, { token, dashboard });
 * ```
 */
export class Dashboard implements ApiExtension {
  readonly sessions: DashboardSessions = new DashboardSessions();
  readonly #data: DashboardData;

  /** @param sources where the dashboard's figures come from */
  constructor(sources: DashboardSources) {
    this.#data = new DashboardData(sources);
  }

  /** Whether `req` carries an open session's cookie. */
  hasSession(req: Request): boolean {
    const session = sessionOf(req, new URL(req.url));
    return session !== null && this.sessions.valid(session);
  }

  /** The page, its files and the login link; `null` for other routes. */
  servePublic(req: Request): Response | null {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/ui/app.js":
        return asset(UI_BUNDLE.js, "text/javascript; charset=utf-8");
      case "/ui/app.css":
        return asset(UI_BUNDLE.css, "text/css; charset=utf-8");
      case "/ui/login":
        return this.#login(url);
      case "/":
        return this.hasSession(req)
          ? asset(UI_BUNDLE.html, "text/html; charset=utf-8")
          : messagePage(401, {
            title: "Not logged in",
            body: "This dashboard opens only through a login link.",
          });
    }
    return null;
  }

  /**
   * The dashboard's authenticated routes; `null` for other routes. Only
   * the token (`tesseras ui`) makes login links: a session cannot make
   * itself more.
   */
  serve(req: Request, auth: ApiAuth): Promise<Response | null> {
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/v1/ui/login-link") {
      if (auth !== "token") {
        return Promise.resolve(
          Response.json({
            error: {
              code: "FORBIDDEN",
              message: "login links are made with the API token only",
            },
          }, { status: 403 }),
        );
      }
      return Promise.resolve(
        Response.json({
          path: `/ui/login?t=${this.sessions.issueLink()}`,
          expiresInSeconds: LOGIN_LINK_TTL_MS / 1000,
        }),
      );
    }
    return this.#data.serve(req, url);
  }

  #login(url: URL): Response {
    const session = this.sessions.redeem(url.searchParams.get("t") ?? "");
    if (session === null) {
      return messagePage(403, {
        title: "This login link does not work",
        body:
          "It was already used, it expired (links last 5 minutes), or it was mistyped.",
      });
    }
    const cookie =
      `${cookieName(url)}=${session}; HttpOnly; SameSite=Strict; ` +
      `Path=/; Max-Age=${SESSION_IDLE_MS / 1000}`;
    return new Response(null, {
      status: 303,
      headers: { ...PAGE_HEADERS, location: "/", "set-cookie": cookie },
    });
  }
}
