/**
 * CPU profiles of a running Deno process through its inspector (Deno 2.9
 * has no `--cpu-prof`): start the process with `--inspect=127.0.0.1:0`,
 * find the `ws://` address it prints on standard error, then
 * {@linkcode InspectorProfiler.attach}, `start()` and `stop()` around the
 * work. {@linkcode summarizeProfile} folds a profile into self time per
 * place (our files, an npm package, or V8's own `(garbage collector)`,
 * `(program)`, `(idle)`), which is what docs/speed.md quotes.
 *
 * @module
 */

/** A V8 CPU profile as the inspector returns it (the `.cpuprofile` format). */
export interface CpuProfile {
  readonly nodes: {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** The inspector's `ws://` address in a Deno process's standard error. */
export function inspectorUrl(stderr: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1] ?? null;
}

/** One inspector session that runs V8's sampling profiler. */
export class InspectorProfiler {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #waiting = new Map<number, (result: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (evt) => {
      const msg = JSON.parse(String(evt.data));
      const done = this.#waiting.get(msg.id);
      if (done === undefined) return;
      this.#waiting.delete(msg.id);
      done(
        msg.error ? Promise.reject(new Error(msg.error.message)) : msg.result,
      );
    };
  }

  /** Connect to the inspector at `url` and enable the profiler. */
  static async attach(url: string): Promise<InspectorProfiler> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot open inspector at ${url}`));
    });
    const p = new InspectorProfiler(ws);
    await p.#call("Profiler.enable");
    // 1 ms sampling: fine enough for a transfer of seconds, cheap enough
    // not to slow it (measured: within noise).
    await p.#call("Profiler.setSamplingInterval", { interval: 1000 });
    return p;
  }

  #call(method: string, params: unknown = {}): Promise<unknown> {
    const id = this.#next++;
    const reply = new Promise((resolve) => this.#waiting.set(id, resolve));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return reply;
  }

  /** Start sampling. */
  async start(): Promise<void> {
    await this.#call("Profiler.start");
  }

  /** Stop sampling and return the profile. */
  async stop(): Promise<CpuProfile> {
    const r = await this.#call("Profiler.stop") as { profile: CpuProfile };
    return r.profile;
  }

  /** Close the session. */
  close(): void {
    this.#ws.close();
  }
}

/** Where a frame's time goes: our folder, an npm package or V8. */
export function placeOf(url: string, functionName: string): string {
  if (url === "") return `(${functionName.replace(/[()]/g, "") || "native"})`;
  const npm = /registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return npm[1];
  const ours = /\/(lib\/[^/]+|sim|scripts|main\.ts)/.exec(url);
  if (ours) return ours[1];
  if (url.startsWith("ext:") || url.startsWith("node:")) {
    return url.split("/")[0] + "/" + (url.split("/")[1] ?? "");
  }
  return url;
}

/** Self time per place and per function, in ms, largest first. */
export function summarizeProfile(profile: CpuProfile, top = 12): {
  totalMs: number;
  places: [string, number][];
  functions: [string, number][];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)!;
    total += ms;
    const place = placeOf(frame.url, frame.functionName);
    places.set(place, (places.get(place) ?? 0) + ms);
    const file = frame.url.split("/").slice(-1)[0];
    const fn = `${frame.functionName || "(anonymous)"} ${file}:${
      frame.lineNumber + 1
    }`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: total,
    places: sorted(places),
    functions: sorted(functions),
  };
}

/** The summary as text lines (share of the profile's time per row). */
export function formatSummary(
  summary: ReturnType<typeof summarizeProfile>,
): string {
  const pct = (ms: number) =>
    `${(100 * ms / summary.totalMs).toFixed(1).padStart(5)} %`;
  return [
    `  by place (self time of ${(summary.totalMs / 1000).toFixed(1)} s):`,
    ...summary.places.map(([p, ms]) => `    ${pct(ms)}  ${p}`),
    "  by function:",
    ...summary.functions.map(([f, ms]) => `    ${pct(ms)}  ${f}`),
  ].join("\n");
}
