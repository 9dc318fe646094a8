/// <reference lib="dom" />
/**
 * My tesseras: each one's name, size, tier, health in words, last check
 * and holders; put by file picker or drag-and-drop, download, repair now.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import {
  downloadTessera,
  getJson,
  runJob,
  type TesseraRow,
  type Transfer,
  uploadFile,
} from "./api.ts";
import { formatBytes, healthWords, timeAgo } from "./format.ts";
import { ErrorNotice, State, useLoad } from "./load.ts";

/** What the page is doing now, shown under the drop zone. */
interface Activity {
  readonly label: string;
  readonly transfer: Transfer | null;
  readonly done?: string;
  readonly error?: string;
}

function ProgressLine(
  { activity }: { activity: Activity | null },
): VNode | null {
  if (!activity) return null;
  if (activity.error) {
    return html`<p class="notice error" role="alert">${activity.label}: ${activity.error}</p>`;
  }
  if (activity.done) {
    return html`<p class="notice" role="status">${activity.done}</p>`;
  }
  const t = activity.transfer;
  const pct = t?.fraction === null || t === null
    ? null
    : Math.round(t.fraction * 100);
  return html`
    <div class="progress" role="status" aria-live="polite">
      <div>${activity.label}: ${t?.phase ?? "starting"}${pct === null
        ? "…"
        : ` ${pct}%`}</div>
      <progress max="100" value=${pct ?? undefined} aria-label=${activity
        .label}></progress>
    </div>
  `;
}

function DropZone(
  { onFile, busy }: { onFile: (f: File) => void; busy: boolean },
): VNode {
  const [over, setOver] = useState(false);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer?.files[0];
    if (file && !busy) onFile(file);
  };
  return html`
    <label class=${over ? "drop over" : "drop"}
      onDragOver=${(e: DragEvent) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave=${() => setOver(false)}
      onDrop=${drop}>
        <strong>Add a memory</strong>: drop a file here, or choose one (at most 1 GiB).
        <input type="file" disabled=${busy} onChange=${(e: Event) => {
          const input = e.currentTarget as HTMLInputElement;
          const file = input.files?.[0];
          if (file) onFile(file);
          input.value = "";
        }} />
      </label>
  `;
}

/** What the tessera is kept as, in words: whole copies or coded pieces. */
function pieces(t: TesseraRow): string {
  return t.tier === "small"
    ? `whole copies on ${t.holderCount} peer${t.holderCount === 1 ? "" : "s"}`
    : `${t.liveShards} of ${t.shardCount} pieces live, any ${t.dataShards} rebuild it`;
}

function nameOf(t: TesseraRow): string {
  return t.name ?? t.id;
}

function TesseraLine(
  { t, busy, act }: {
    t: TesseraRow;
    busy: boolean;
    act: (kind: "download" | "repair", t: TesseraRow) => void;
  },
): VNode {
  const health = healthWords(t.health, t.safety?.peerLosses ?? t.tolerance);
  const checked = t.lastCheckedAt === null ? null : Date.parse(t.lastCheckedAt);
  return html`
    <tr data-id=${t.id}>
      <td
        data-label="name"><span class=${t.name ? "name" : "id"} title=${t
          .id}>${nameOf(
            t,
          )}</span></td>
      <td data-label="size" class="num">${formatBytes(t.size)}</td>
      <td data-label="tier">${t.tier}</td>
      <td data-label="health">
        <${State} tone=${health.tone} text=${health.text} />
        <div class="muted">${pieces(t)}</div>
      </td>
      <td data-label="last check">${timeAgo(checked)}</td>
      <td data-label="holders" class="num">${t.holderCount}</td>
      <td data-label="actions">
        <div class="actions">
          <button type="button" disabled=${busy} onClick=${() =>
            act("download", t)}
            aria-label=${`Download ${nameOf(t)}`}>Download</button>
          <button type="button" disabled=${busy} onClick=${() =>
            act("repair", t)}
            aria-label=${`Repair ${nameOf(t)} now`}>Repair now</button>
        </div>
      </td>
    </tr>
  `;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one piece of work under `label`, showing its progress and outcome. */
type Track = (
  label: string,
  run: (onProgress: (t: Transfer) => void) => Promise<string>,
) => Promise<void>;

/**
 * The page's one activity at a time: what it is, whether the buttons wait
 * for it, and `track` to start the next (the list reloads after each).
 */
function useActivity(
  reload: () => void,
): { activity: Activity | null; busy: boolean; track: Track } {
  const [activity, setActivity] = useState<Activity | null>(null);
  const busy = activity !== null && !activity.done && !activity.error;
  const track: Track = async (label, run) => {
    setActivity({ label, transfer: null });
    try {
      const done = await run((transfer) => setActivity({ label, transfer }));
      setActivity({ label, transfer: null, done });
    } catch (err) {
      setActivity({ label, transfer: null, error: message(err) });
    }
    reload();
  };
  return { activity, busy, track };
}

async function addFile(
  file: File,
  onProgress: (t: Transfer) => void,
): Promise<string> {
  const r = await uploadFile(file, { onProgress });
  return `Added ${file.name} (${formatBytes(r.size)}, ${r.tier}) as ${r.id}`;
}

async function downloadOne(
  t: TesseraRow,
  onProgress: (t: Transfer) => void,
): Promise<string> {
  const n = await downloadTessera(t.id, { name: nameOf(t), onProgress });
  return `Downloaded ${nameOf(t)} (${formatBytes(n)})`;
}

async function repairOne(t: TesseraRow): Promise<string> {
  const r = await runJob<
    { tesseras: { before: string; after: string; tolerance?: number }[] }
  >(
    "/v1/repair",
    { id: t.id },
  );
  const one = r.tesseras[0];
  return one
    ? `Checked ${nameOf(t)}: ${healthWords(one.before).text} → ${
      healthWords(one.after, one.tolerance).text
    }`
    : `Checked ${nameOf(t)}`;
}

function TesseraTable(
  { rows, busy, act }: {
    rows: TesseraRow[];
    busy: boolean;
    act: (kind: "download" | "repair", t: TesseraRow) => void;
  },
): VNode {
  return html`
    <table class="rows">
      <thead>
        <tr>
          <th>name</th>
          <th>size</th>
          <th>tier</th>
          <th>health</th>
          <th>last check</th>
          <th>holders</th>
          <th><span class="visually-hidden">actions</span></th>
        </tr>
      </thead>
      <tbody>${rows.map((t) =>
        html`<${TesseraLine} key=${t.id} t=${t} busy=${busy} act=${act} />`
      )}</tbody>
    </table>
  `;
}

/**
 * The "My tesseras" page.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * html`<${TesserasPage} />`;
 * ```
 */
export function TesserasPage(): VNode {
  const { data, error, reload } = useLoad(() =>
    getJson<TesseraRow[]>("/v1/tesseras")
  );
  const { activity, busy, track } = useActivity(reload);
  const put = (file: File) =>
    track(`Adding ${file.name}`, (onProgress) => addFile(file, onProgress));
  const act = (kind: "download" | "repair", t: TesseraRow) =>
    kind === "download"
      ? track(`Downloading ${nameOf(t)}`, (p) => downloadOne(t, p))
      : track(`Repairing ${nameOf(t)}`, () => repairOne(t));
  return html`<section aria-labelledby="tesseras-h">
    <h2 id="tesseras-h">My tesseras</h2>
    <${DropZone} onFile=${put} busy=${busy} />
    <${ProgressLine} activity=${activity} />
    <${ErrorNotice} error=${error} />
    ${
    data === null
      ? html`<p>Loading…</p>`
      : data.length === 0
      ? html`<p class="muted">No tesseras yet: add a file above.</p>`
      : html`<${TesseraTable} rows=${data} busy=${busy} act=${act} />`
  }
  </section>`;
}
