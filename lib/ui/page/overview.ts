/// <reference lib="dom" />
/**
 * The overview: reachability, peers, space, the reciprocity balance, the
 * last sweeps and health over time.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { getJson, type Overview, type SweepRow } from "./api.ts";
import { HealthChart, RepairTrafficChart } from "./charts.ts";
import { formatBytes, reachabilityWords, timeAgo } from "./format.ts";
import { ErrorNotice, State, useLoad } from "./load.ts";

function Card(
  { label, value, note }: { label: string; value: unknown; note?: string },
): VNode {
  return html`<div class="card">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${note ? html`<div class="note">${note}</div>` : null}
  </div>`;
}

function balanceNote(balance: number): string {
  if (balance > 0) return "peers store more for you than you for them";
  if (balance < 0) return "you store more for peers than they for you";
  return "even";
}

function SweepList({ sweeps }: { sweeps: readonly SweepRow[] }): VNode {
  const last = sweeps.slice(-5).reverse();
  if (last.length === 0) return html`<p class="muted">No sweep yet.</p>`;
  return html`
    <table class="rows">
      <thead>
        <tr>
          <th>finished</th>
          <th>by</th>
          <th>healthy</th>
          <th>repaired</th>
          <th>degraded</th>
          <th>lost</th>
          <th>traffic</th>
        </tr>
      </thead>
      <tbody>${last.map((s) =>
        html`
          <tr>
            <td data-label="finished">${timeAgo(s.finishedAt)}</td>
            <td data-label="by">${s.trigger === "manual" ? "you" : "timer"}</td>
            <td data-label="healthy" class="num">${s.healthy}</td>
            <td data-label="repaired" class="num">${s.repaired}</td>
            <td data-label="degraded" class="num">${s.degraded}</td>
            <td data-label="lost" class="num">${s.lost}</td>
            <td data-label="traffic" class="num">${formatBytes(
              s.bytesSent + s.bytesFetched,
            )}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

/**
 * The overview page.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * html`<${OverviewPage} />`;
 * ```
 */
export function OverviewPage(): VNode {
  const { data, error } = useLoad(() => getJson<Overview>("/v1/ui/overview"));
  if (!data) {
    return html`
      <${ErrorNotice} error=${error} />
      <p>Loading…</p>
    `;
  }
  const reach = reachabilityWords(data.reachability);
  const byHealth = data.tesseras.byHealth;
  const unsafe = data.tesseras.count - (byHealth.healthy ?? 0);
  return html`
    <section aria-labelledby="overview-h">
      <h2 id="overview-h">Overview</h2>
      <${ErrorNotice} error=${error} />
      <div class="cards">
        <${Card} label="Reachability" value=${html`<${State} tone=${reach.tone} text=${reach.text} />`}
          note="can other nodes dial this one" />
        <${Card} label="Peers" value=${`${data.peers.connected} connected`} note=${`${data.peers.known} known`} />
        <${Card} label="My tesseras" value=${formatBytes(
          data.space.mine,
        )} note=${`${data.tesseras.count} ${
          data.tesseras.count === 1 ? "tessera" : "tesseras"
        }, ${unsafe} not known safe`} />
        <${Card} label="Given to others" value=${formatBytes(
          data.space.givenToOthers,
        )}
          note="shards held for peers" />
        <${Card} label="Reciprocity balance" value=${formatBytes(
          data.ledger.balance,
          { signed: true },
        )}
          note=${balanceNote(data.ledger.balance)} />
      </div>
      <h3>Last sweeps</h3>
      <${SweepList} sweeps=${data.sweeps} />
      <h3>Over time</h3>
      <${HealthChart} sweeps=${data.sweeps} />
      <${RepairTrafficChart} sweeps=${data.sweeps} />
    </section>
  `;
}
