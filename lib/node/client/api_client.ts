/**
 * The client side of the local API, used by the command line.
 *
 * @module
 */
import { type ErrorCode, TesserasError } from "../../core/mod.ts";
import type { ProgressEvent } from "../api.ts";
import { readApiInfo } from "../api_info.ts";
import { dataLayout } from "../paths.ts";

/** Options of {@linkcode ApiClient} calls that stream progress. */
export interface JobOptions {
  /** Called for every progress event. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** Talks to the daemon of one data directory. */
export class ApiClient {
  readonly #url: string;
  readonly #token: string;

  private constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  /**
   * A client for the daemon running on `dataDir`; throws `NOT_RUNNING`
   * when none is.
   *
   * @example
   * ```ts
   * const client = await ApiClient.forDataDir("/srv/tesseras");
   * const health = await client.get("/health");
   * ```
   */
  static async forDataDir(dataDir: string): Promise<ApiClient> {
    const info = await readApiInfo(dataLayout(dataDir).apiInfo);
    return new ApiClient(info.url, info.token);
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.#url + path, {
        ...init,
        headers: {
          authorization: `Bearer ${this.#token}`,
          "content-type": "application/json",
        },
      });
    } catch (err) {
      throw new TesserasError(
        "NOT_RUNNING",
        `cannot reach the node at ${this.#url}: is it running?`,
        { cause: err },
      );
    }
  }

  /** GET `path` and return the decoded JSON; API errors are rethrown. */
  async get<T = unknown>(path: string): Promise<T> {
    const res = await this.#fetch(path);
    const body = res.headers.get("content-type")?.includes("json")
      ? await res.json()
      : await res.text();
    if (!res.ok) throw toError(body, res.status);
    return body as T;
  }

  /** POST `body` to a job route, relaying progress; returns its result. */
  async job<T = unknown>(
    path: string,
    body: unknown,
    options: JobOptions = {},
  ): Promise<T> {
    const res = await this.#fetch(path, {
      method: "POST",
      body: JSON.stringify(body),
      signal: options.signal,
    });
    if (!res.ok) throw toError(await res.json(), res.status);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (true) {
      const { value, done } = await reader.read();
      if (value) buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (line.progress) options.onProgress?.(line.progress);
        if (line.error) throw toError(line, 500);
        if ("result" in line) {
          await reader.cancel();
          return line.result as T;
        }
      }
      if (done) break;
    }
    throw new TesserasError("PROTOCOL_ERROR", "the node ended the job early");
  }
}

function toError(body: unknown, status: number): TesserasError {
  const err = (body as { error?: { code?: string; message?: string } })?.error;
  return new TesserasError(
    (err?.code ?? "INTERNAL") as ErrorCode,
    err?.message ?? `request failed with HTTP ${status}`,
  );
}
