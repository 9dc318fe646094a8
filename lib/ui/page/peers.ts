/// <reference lib="dom" />
/**
 * The peers page: id, subnet, standing, balance, last seen, and the space
 * exchanged with each.
 *
 * @module
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { getJson, type PeerRow } from "./api.ts";
import { SpacePerPeerChart } from "./charts.ts";
import { formatBytes, shortId, standingWords, timeAgo } from "./format.ts";
import { ErrorNotice, State, useLoad } from "./load.ts";

function subnetText(subnet: string | null): string {
  if (subnet === null) return "unknown";
  return subnet.startsWith("v4:")
    ? `${subnet.slice(3)}.0/24`
    : subnet.startsWith("v6:")
    ? `${subnet.slice(3)}::/48`
    : subnet;
}

function PeerLine({ peer }: { peer: PeerRow }): VNode {
  const standing = standingWords(peer.standing);
  return html`
    <tr>
      <td
        data-label="peer"><span class="id" title=${peer.peerId}>${shortId(
          peer.peerId,
        )}</span>${peer.connected
          ? html`
            <span class="muted">(connected)</span>
          `
          : null}</td>
      <td data-label="subnet">${subnetText(peer.subnet)}</td>
      <td data-label="standing">
        <${State} tone=${standing.tone} text=${standing.text} />
      </td>
      <td data-label="balance" class="num">${formatBytes(peer.balance, {
        signed: true,
      })}</td>
      <td data-label="last seen">${peer.connected
        ? "now"
        : timeAgo(peer.lastSeen === null ? null : peer.lastSeen * 1000)}</td>
    </tr>
  `;
}

/**
 * The peers page.
 *
 * @example
 * ```ts
 * import { html } from "htm/preact";
 * html`<${PeersPage} />`;
 * ```
 */
export function PeersPage(): VNode {
  const { data, error } = useLoad(() => getJson<PeerRow[]>("/v1/ui/peers"));
  return html`<section aria-labelledby="peers-h">
    <h2 id="peers-h">Peers</h2>
    <${ErrorNotice} error=${error} />
    ${
    data === null ? html`<p>Loading…</p>` : data.length === 0
      ? html`
        <p
          class="muted">No peers yet: start with <code>--bootstrap</code> to join a network.</p>
      `
      : html`
        <table class="rows">
          <thead>
            <tr>
              <th>peer</th>
              <th>subnet</th>
              <th>standing</th>
              <th>balance</th>
              <th>last seen</th>
            </tr>
          </thead>
          <tbody>${data.map((p) =>
            html`<${PeerLine} key=${p.peerId} peer=${p} />`
          )}</tbody>
        </table>
        <h3>Space per peer</h3>
        <${SpacePerPeerChart} peers=${data} />
      `
  }
  </section>`;
}
