/**
 * `api.json`: how local commands find the running daemon (its API URL and
 * the token every non-health call presents). Written atomically, mode 0600.
 *
 * @module
 */
import { TesserasError, toHex } from "../core/mod.ts";
import { writeFileAtomic } from "../storage/mod.ts";

/** Contents of `api.json`. */
export interface ApiInfo {
  /** Base URL of the API. */
  readonly url: string;
  /** Bearer token. */
  readonly token: string;
  /** Daemon process id. */
  readonly pid: number;
  /** The daemon's peer id. */
  readonly peerId: string;
}

/**
 * A fresh random API token (32 bytes, hex).
 *
 * @example
 * ```ts
 * const token = newApiToken();
 * ```
 */
export function newApiToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Writes `info` to `path` through a temp file, fsync and rename (the
 * storage layer's `writeFileAtomic`: every byte written, the folder synced).
 *
 * @example
 * ```ts
 * const url = "http://127.0.0.1:7431";
 * const token = newApiToken();
 * const peerId = "12D3KooW…";
 * await writeApiInfo("/tmp/t/api.json", { url, token, pid: Deno.pid, peerId });
 * ```
 */
export async function writeApiInfo(path: string, info: ApiInfo): Promise<void> {
  const text = JSON.stringify(info, null, 2);
  await writeFileAtomic(path, new TextEncoder().encode(text), { mode: 0o600 });
}

/**
 * Reads `api.json`; throws `NOT_RUNNING` when no daemon has written it.
 *
 * @example
 * ```ts
 * const { url, token } = await readApiInfo("/tmp/t/api.json");
 * ```
 */
export async function readApiInfo(path: string): Promise<ApiInfo> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new TesserasError(
        "NOT_RUNNING",
        `no running node found (${path} is missing): start one with "tesseras start" or pass --data-dir`,
      );
    }
    throw err;
  }
  const info = JSON.parse(text);
  if (typeof info?.url !== "string" || typeof info?.token !== "string") {
    throw new TesserasError("INVALID_INPUT", `${path} is malformed`);
  }
  return info as ApiInfo;
}
