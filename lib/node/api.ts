/**
 * The local HTTP API: JSON in and out, bound to 127.0.0.1 by default.
 * Every route but `/health` and `/metrics` needs the bearer token written to
 * `api.json` or a dashboard session, and a `Host` naming this server by
 * address (DNS rebinding); a state-changing request from a browser must
 * come from the API's own origin (CSRF). Request bodies over 1 GiB are
 * refused before they are read.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  fromHex,
  isTesseraId,
  isTesserasError,
  MAX_TESSERA_SIZE,
  TesserasError,
} from "../core/mod.ts";
import type { ErrorCode } from "../core/mod.ts";
import { guardRequest } from "./request_guard.ts";

const log = getLogger(["tesseras", "node", "api"]);

/** A progress event of a long operation. */
export interface ProgressEvent {
  /** Units done. */
  readonly done: number;
  /** Units in all. */
  readonly total: number;
  /** What is being done (`encode`, `upload`, …). */
  readonly phase: string;
}

/** Options of {@linkcode ApiBackend.putFile}. */
export interface PutOptions {
  /** Progress of the encryption, encoding and upload. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Encrypt before coding; the key goes to the owner's catalogue. */
  readonly private?: boolean;
  /** A name for the catalogue. */
  readonly name?: string;
  /**
   * `false`: keep no copy in the data directory once the placement can
   * rebuild it (at least `dataShards` distinct shards on other peers).
   */
  readonly localCopy?: boolean;
}

/** Options of {@linkcode ApiBackend.getToFile}. */
export interface GetOptions {
  /** Where to write. */
  readonly outPath: string;
  /** Replace an existing file. */
  readonly force?: boolean;
  /** The 32-byte content key of a private tessera (a read capability's). */
  readonly key?: Uint8Array;
  /** Progress of the fetch and the write. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Aborts the get (its client went away). */
  readonly signal?: AbortSignal;
}

/** What the API serves; the daemon implements it over the real services. */
export interface ApiBackend {
  /** `/health` body. */
  health(): Promise<unknown>;
  /** `/metrics` body, Prometheus text format. */
  metrics(): Promise<string>;
  /** Peer id and listen addresses. */
  identity(): Promise<unknown>;
  /** Connected and known peers. */
  peers(): Promise<unknown>;
  /** Store a file (a path readable by the daemon) as a tessera. */
  putFile(
    path: string,
    options: PutOptions,
  ): Promise<{ id: string; size: number; tier: string }>;
  /**
   * Retrieve and reconstruct a tessera; writes it atomically to `outPath`,
   * which must not exist unless `force`.
   */
  getToFile(
    id: string,
    options: GetOptions,
  ): Promise<{ id: string; size: number }>;
  /** The read capability of one of our private tesseras. */
  share(id: string): Promise<{ id: string; capability: string }>;
  /** Health of one or every tessera. */
  status(id?: string): Promise<unknown>;
  /**
   * Remove our local copy of tessera `id`; refused (`INSUFFICIENT_SHARDS`)
   * unless a fresh audit proves enough shards on live holders to rebuild.
   */
  dropLocal(
    id: string,
    options?: { onProgress?: (event: ProgressEvent) => void },
  ): Promise<unknown>;
  /** Reciprocity ledger rows. */
  ledger(): Promise<unknown>;
  /** Run a repair sweep now (one tessera or all), reporting progress. */
  repair(
    id?: string,
    options?: { onProgress?: (event: ProgressEvent) => void },
  ): Promise<unknown>;
}

/** Routes served beside the API's own: the dashboard. */
export interface ApiExtension {
  /** Routes open to anyone (the page, its login); `null` for others. */
  servePublic(req: Request): Response | null;
  /** Whether `req` carries a session that stands in for the token. */
  hasSession(req: Request): boolean;
  /**
   * Authenticated routes, told whether the token or a session let the
   * request in; `null` for others.
   */
  serve(req: Request, auth: ApiAuth): Promise<Response | null>;
}

/** What let a request in: the bearer token or a dashboard session. */
export type ApiAuth = "token" | "session";

/** Options of {@linkcode serveApi}. */
export interface ServeApiOptions {
  /** Host to bind; `127.0.0.1` unless told otherwise. */
  readonly hostname?: string;
  /** Port; 0 picks a free one. */
  readonly port?: number;
  /** Bearer token required by every route but `/health` and `/metrics`. */
  readonly token: string;
  /** Stops the server. */
  readonly signal?: AbortSignal;
  /** The dashboard, served at `/`; absent: the API alone. */
  readonly dashboard?: ApiExtension;
}

/** A running API server. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:7431`. */
  readonly url: string;
  /** Stop accepting requests and wait for open ones. */
  shutdown(): Promise<void>;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  INVALID_ID: 400,
  INVALID_INPUT: 400,
  TOO_LARGE: 413,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  INSUFFICIENT_SHARDS: 503,
  UNREACHABLE: 503,
  TIMEOUT: 504,
  RATE_LIMITED: 429,
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * The API's answer to a failure: a `TesserasError` as its code and
 * message with a matching status, anything else as a 500.
 *
 * @example
 * ```ts
 * import { TesserasError } from "../core/mod.ts";
 * const res = errorResponse(new TesserasError("NOT_FOUND", "no such tessera"));
 * ```
 */
export function errorResponse(err: unknown): Response {
  if (isTesserasError(err)) {
    return json(
      { error: { code: err.code, message: err.message } },
      STATUS_OF[err.code] ?? 500,
    );
  }
  log.error("internal error: {error}", { error: String(err) });
  return json({ error: { code: "INTERNAL", message: String(err) } }, 500);
}

function authorized(req: Request, token: string): boolean {
  const header = req.headers.get("authorization") ?? "";
  const given = header.startsWith("Bearer ") ? header.slice(7) : "";
  if (given.length !== token.length) return false;
  // Constant-time comparison so the token cannot be guessed byte by byte.
  let diff = 0;
  for (let i = 0; i < token.length; i++) {
    diff |= given.charCodeAt(i) ^ token.charCodeAt(i);
  }
  return diff === 0;
}

/** Largest JSON request body the API reads. */
const MAX_JSON_BODY = 64 * 1024;

/** The body as text, refusing it as soon as it grows past `limit` bytes. */
async function readLimited(req: Request, limit: number): Promise<string> {
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) {
      throw new TesserasError("TOO_LARGE", "JSON request body too large");
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  // Bodies declared over 1 GiB were refused in `route` before auth.
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BODY) {
    throw new TesserasError("TOO_LARGE", "JSON request body too large");
  }
  const text = await readLimited(req, MAX_JSON_BODY);
  if (text.trim() === "") return {};
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) return parsed;
  } catch { /* reported below */ }
  throw new TesserasError(
    "INVALID_INPUT",
    "request body must be a JSON object",
  );
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || value === "") {
    throw new TesserasError("INVALID_INPUT", `"${key}" must be a string`);
  }
  return value;
}

/** A tessera id in either case, normalised to lower case. */
function optionalId(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  const normal = value.toLowerCase();
  if (!isTesseraId(normal)) {
    throw new TesserasError(
      "INVALID_ID",
      "tessera id must be 64 hex characters",
    );
  }
  return normal;
}

/**
 * The catalogue name in `body.name`, if any: 1 to 1024 characters.
 *
 * @example
 * ```ts
 * optionalName({ name: "letters.tar" }); // "letters.tar"
 * ```
 */
export function optionalName(
  body: Record<string, unknown>,
): string | undefined {
  const name = body.name;
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name === "" || name.length > 1024) {
    throw new TesserasError(
      "INVALID_INPUT",
      '"name" must be a string of 1 to 1024 characters',
    );
  }
  return name;
}

/** A private tessera's content key in `body.key`: 64 hex characters. */
function optionalKey(body: Record<string, unknown>): Uint8Array | undefined {
  const key = body.key;
  if (key === undefined) return undefined;
  if (typeof key !== "string" || !/^[0-9a-f]{64}$/.test(key)) {
    throw new TesserasError(
      "INVALID_INPUT",
      '"key" must be 64 lowercase hex characters',
    );
  }
  return fromHex(key);
}

/**
 * Streams progress events then the result as NDJSON lines. `signal`
 * aborts when the client goes away (its command was interrupted); jobs
 * that must finish regardless (a put's placements) ignore it.
 *
 * @example
 * ```ts
 * const res = ndjsonJob(async (progress) => {
 *   progress({ done: 1, total: 1, phase: "upload" });
 *   return { ok: true };
 * });
 * ```
 */
export function ndjsonJob(
  run: (
    progress: (event: ProgressEvent) => void,
    signal: AbortSignal,
  ) => Promise<unknown>,
): Response {
  const encoder = new TextEncoder();
  const gone = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (obj: unknown) => {
        if (gone.signal.aborted) return;
        controller.enqueue(encoder.encode(JSON.stringify(obj) + "\n"));
      };
      try {
        const result = await run(
          (event) => send({ progress: event }),
          gone.signal,
        );
        send({ result });
      } catch (err) {
        const code = isTesserasError(err) ? err.code : "INTERNAL";
        const message = err instanceof Error ? err.message : String(err);
        send({ error: { code, message } });
      }
      if (!gone.signal.aborted) controller.close();
    },
    cancel() {
      gone.abort(new TesserasError("NOT_RUNNING", "the client went away"));
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/x-ndjson" },
  });
}

interface RouteContext {
  readonly token: string;
  readonly dashboard?: ApiExtension;
}

function forbidden(reason: string): Response {
  return json(
    { error: { code: "FORBIDDEN", message: `refused: ${reason}` } },
    403,
  );
}

/**
 * What lets `req` in (the token, or a dashboard session from this
 * origin), or the refusal to send back.
 */
function admit(req: Request, ctx: RouteContext): ApiAuth | Response {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_TESSERA_SIZE) {
    return errorResponse(
      new TesserasError(
        "TOO_LARGE",
        `request body of ${declared} bytes exceeds the 1 GiB limit`,
      ),
    );
  }
  if (authorized(req, ctx.token)) return "token";
  if (ctx.dashboard?.hasSession(req)) {
    const crossSite = guardRequest(req, { needsOrigin: true });
    return crossSite ? forbidden(crossSite) : "session";
  }
  return errorResponse(
    new TesserasError(
      "UNAUTHORIZED",
      "missing or wrong API token: use the token in the data directory's api.json",
    ),
  );
}

async function route(
  req: Request,
  backend: ApiBackend,
  ctx: RouteContext,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (req.method === "GET" && path === "/health") {
    return json(await backend.health());
  }
  if (req.method === "GET" && path === "/metrics") {
    return new Response(await backend.metrics(), {
      headers: { "content-type": "text/plain; version=0.0.4" },
    });
  }
  const refusal = guardRequest(req);
  if (refusal) return forbidden(refusal);
  const page = ctx.dashboard?.servePublic(req);
  if (page) return page;
  const auth = admit(req, ctx);
  if (auth instanceof Response) return auth;
  const extra = await ctx.dashboard?.serve(req, auth);
  if (extra) return extra;
  const answer = req.method === "GET"
    ? await routeRead(path, backend)
    : req.method === "POST"
    ? await routeJob(req, { path, backend })
    : null;
  return answer ?? json(
    { error: { code: "NOT_FOUND", message: `no route ${req.method} ${path}` } },
    404,
  );
}

/** The authenticated GET routes: what the node knows; `null`: none. */
async function routeRead(
  path: string,
  backend: ApiBackend,
): Promise<Response | null> {
  if (path === "/v1/id") return json(await backend.identity());
  if (path === "/v1/peers") return json(await backend.peers());
  if (path === "/v1/ledger") return json(await backend.ledger());
  if (path === "/v1/tesseras") return json(await backend.status());
  const tesseraMatch = path.match(/^\/v1\/tesseras\/([^/]+)$/);
  if (tesseraMatch) {
    return json(await backend.status(optionalId(tesseraMatch[1])));
  }
  const shareMatch = path.match(/^\/v1\/share\/([^/]+)$/);
  if (shareMatch) return json(await backend.share(optionalId(shareMatch[1])!));
  return null;
}

/** The authenticated POST routes: jobs streamed as NDJSON; `null`: none. */
async function routeJob(
  req: Request,
  at: { path: string; backend: ApiBackend },
): Promise<Response | null> {
  const { path, backend } = at;
  if (path === "/v1/tesseras") {
    const body = await readJson(req);
    const filePath = requireString(body, "path");
    const put = {
      private: body.private === true,
      name: optionalName(body),
      localCopy: body.localCopy !== false,
    };
    return ndjsonJob((onProgress) =>
      backend.putFile(filePath, { ...put, onProgress })
    );
  }
  if (path === "/v1/retrieve") {
    const body = await readJson(req);
    const id = optionalId(requireString(body, "id"))!;
    const outPath = requireString(body, "out");
    const force = body.force === true;
    const key = optionalKey(body);
    return ndjsonJob((onProgress, signal) =>
      backend.getToFile(id, { outPath, force, key, onProgress, signal })
    );
  }
  const dropMatch = path.match(/^\/v1\/tesseras\/([^/]+)\/drop-local$/);
  if (dropMatch) {
    const id = optionalId(dropMatch[1])!;
    return ndjsonJob((onProgress) => backend.dropLocal(id, { onProgress }));
  }
  if (path === "/v1/repair") {
    const body = await readJson(req);
    const id = optionalId(typeof body.id === "string" ? body.id : undefined);
    return ndjsonJob((onProgress) => backend.repair(id, { onProgress }));
  }
  return null;
}

/**
 * Serves the API until `signal` aborts or `shutdown()` is called.
 *
 * @example
 * ```ts
 * declare const backend: ApiBackend;
 * const server = serveApi(backend, { token: "secret", port: 0 });
 * const health = await fetch(`${server.url}/health`);
 * await server.shutdown();
 * ```
 */
export function serveApi(
  backend: ApiBackend,
  options: ServeApiOptions,
): ApiServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    signal: options.signal,
    // Deno prints "Listening on …" by default; the daemon logs it instead.
    onListen: () => {},
  }, async (req) => {
    try {
      return await route(req, backend, {
        token: options.token,
        dashboard: options.dashboard,
      });
    } catch (err) {
      return errorResponse(err);
    }
  });
  const addr = server.addr;
  const host = addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    shutdown: () => server.shutdown(),
  };
}
