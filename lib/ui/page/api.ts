/// <reference lib="dom" />
/**
 * The page's calls to the daemon's API: the same routes the command line
 * uses, authenticated by the session cookie the login link set.
 *
 * @module
 */
import type { TesseraStatus } from "../../node/backend.ts";
import type { DashboardPeer } from "../../node/dashboard_data.ts";
import type { SweepSummary } from "../../node/sweep_history.ts";

/**
 * A tessera's row, as `GET /v1/tesseras` answers; `name` and `tolerance`
 * when the API gives them. The server's types are imported as types only:
 * the bundle carries none of lib/node.
 */
export type TesseraRow = TesseraStatus & {
  readonly name?: string;
  readonly tolerance?: number;
};

/** One sweep in the overview's history. */
export type SweepRow = SweepSummary;

/** `GET /v1/ui/overview`. */
export interface Overview {
  readonly peerId: string | null;
  readonly uptimeSeconds: number | null;
  readonly reachability: unknown;
  readonly peers: { readonly connected: number; readonly known: number };
  readonly tesseras: {
    readonly count: number;
    readonly byHealth: Record<string, number>;
  };
  readonly space: { readonly mine: number; readonly givenToOthers: number };
  readonly ledger: {
    readonly bytesStoredForThem: number;
    readonly bytesTheyStoreForUs: number;
    readonly balance: number;
  };
  readonly sweeps: readonly SweepRow[];
}

/** `GET /v1/ui/peers` rows. */
export type PeerRow = DashboardPeer;

/** A failure the page shows in words. */
export class ApiError extends Error {
  /** The API's error code, or `HTTP_<status>`. */
  readonly code: string;
  /** @param code error code @param message what happened */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function failure(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => null);
  const err = body?.error;
  if (res.status === 401) {
    return new ApiError(
      "UNAUTHORIZED",
      "Your session ended: run `tesseras ui` in a terminal for a new login link.",
    );
  }
  return new ApiError(
    err?.code ?? `HTTP_${res.status}`,
    err?.message ?? `${res.status} ${res.statusText}`,
  );
}

/**
 * GETs `path` as JSON.
 *
 * @example
 * ```ts
 * const rows = await getJson<TesseraRow[]>("/v1/tesseras");
 * ```
 */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: "same-origin" });
  if (!res.ok) throw await failure(res);
  return await res.json() as T;
}

/** One line of an NDJSON job's answer. */
interface JobLine {
  progress?: { done: number; total: number; phase: string };
  result?: unknown;
  error?: { code: string; message: string };
}

/** The lines of an NDJSON job so far, and its end when it came. */
function parseJob(
  text: string,
  onProgress?: (p: { done: number; total: number; phase: string }) => void,
): { done: boolean; result?: unknown } {
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    const line = JSON.parse(raw) as JobLine;
    if (line.progress) onProgress?.(line.progress);
    if (line.error) throw new ApiError(line.error.code, line.error.message);
    if ("result" in line) return { done: true, result: line.result };
  }
  return { done: false };
}

/**
 * POSTs `body` as JSON to a job route (`/v1/repair`) and resolves with its
 * result.
 *
 * @example
 * ```ts
 * declare const id: string;
 * await runJob("/v1/repair", { id });
 * ```
 */
export async function runJob<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  const job = parseJob(await res.text());
  if (!job.done) {
    throw new ApiError("INTERNAL", "the job ended without a result");
  }
  return job.result as T;
}

/** Progress of a put or get, for the page's bar. */
export interface Transfer {
  /** What is happening, in words. */
  readonly phase: string;
  /** Fraction done, 0..1, or `null` when unknown. */
  readonly fraction: number | null;
}

/**
 * Sends `file` to the node (`POST /v1/tesseras/upload`) and waits for the
 * put to finish: first the bytes to the node, then encoding and the
 * upload to peers, each reported through `onProgress`. XMLHttpRequest,
 * because fetch reports no upload progress.
 *
 * @example
 * ```ts
 * declare const file: File;
 * // The page's progress bar, say.
 * declare const showTransfer: (t: Transfer) => void;
 * const { id } = await uploadFile(file, { onProgress: showTransfer });
 * ```
 */
export function uploadFile(
  file: File,
  options: { onProgress: (t: Transfer) => void },
): Promise<{ id: string; size: number; tier: string }> {
  const { promise, resolve, reject } = Promise.withResolvers<
    { id: string; size: number; tier: string }
  >();
  const xhr = new XMLHttpRequest();
  const phases: Record<string, string> = {
    encode: "Encoding",
    upload: "Sending pieces to peers",
  };
  const onJobText = () => {
    try {
      const job = parseJob(xhr.responseText, (p) =>
        options.onProgress({
          phase: phases[p.phase] ?? p.phase,
          fraction: p.total > 0 ? p.done / p.total : null,
        }));
      return job;
    } catch (err) {
      reject(err);
      xhr.abort();
      return { done: true };
    }
  };
  xhr.upload.onprogress = (e) =>
    options.onProgress({
      phase: "Copying to your node",
      fraction: e.lengthComputable ? e.loaded / e.total : null,
    });
  xhr.onprogress = () => void onJobText();
  xhr.onerror = () =>
    reject(new ApiError("UNREACHABLE", "the node did not answer"));
  xhr.onload = () => {
    if (xhr.status !== 200) {
      const body = JSON.parse(xhr.responseText || "{}");
      reject(
        new ApiError(
          body?.error?.code ?? `HTTP_${xhr.status}`,
          body?.error?.message ?? xhr.statusText,
        ),
      );
      return;
    }
    const job = onJobText();
    if (job.done && "result" in job) {
      resolve(job.result as { id: string; size: number; tier: string });
    } else reject(new ApiError("INTERNAL", "the put ended without a result"));
  };
  xhr.open("POST", `/v1/tesseras/upload?name=${encodeURIComponent(file.name)}`);
  xhr.setRequestHeader("content-type", "application/octet-stream");
  xhr.send(file);
  return promise;
}

/**
 * Fetches tessera `id`'s bytes (`GET /v1/tesseras/ID/content`), reporting
 * progress, and hands them to the browser as a download named `name`.
 *
 * @example
 * ```ts
 * declare const id: string;
 * declare const showTransfer: (t: Transfer) => void;
 * await downloadTessera(id, { name: "letter.pdf", onProgress: showTransfer });
 * ```
 */
export async function downloadTessera(
  id: string,
  options: { name: string; onProgress: (t: Transfer) => void },
): Promise<number> {
  options.onProgress({ phase: "Gathering pieces from peers", fraction: null });
  const res = await fetch(`/v1/tesseras/${id}/content`, {
    credentials: "same-origin",
  });
  if (!res.ok || !res.body) throw await failure(res);
  const total = Number(res.headers.get("content-length") ?? "0");
  const chunks: Uint8Array[] = [];
  let got = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    options.onProgress({
      phase: "Downloading",
      fraction: total > 0 ? got / total : null,
    });
  }
  const url = URL.createObjectURL(new Blob(chunks as BlobPart[]));
  const a = document.createElement("a");
  a.href = url;
  a.download = options.name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return got;
}
