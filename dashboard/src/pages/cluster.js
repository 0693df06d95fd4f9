// #/cluster: the members as this node sees them (GET /cluster every 5 s):
// state, load (running / capacity), functions held warm, heartbeat age.
import { html } from '../html.js';
import { PageHead } from '../components/layout.js';
import { Badge, Card, Empty, ErrorText, Loading, TableWrap } from '../components/ui.js';
import { get } from '../lib/api.js';
import { formatAgo, formatCount, formatMs } from '../lib/format.js';
import { usePoll } from '../lib/poll.js';

const STATE_TONE = { up: 'ok', suspect: 'warn', gone: 'bad', left: 'neutral' };

function Load({ running, capacity }) {
  const share = capacity > 0 ? Math.min(1, running / capacity) : 0;
  const pct = Math.round(share * 100);
  return html`<div class="load">
    <meter class="hide-sm" min="0" max=${capacity || 1} value=${running} low=${(capacity || 1) * 0.7} high=${(capacity || 1) * 0.9} optimum="0"
      aria-label=${`${running} of ${capacity} running`}></meter>
    <span class="num">${formatCount(running)} / ${formatCount(capacity)}</span>
    <span class="muted small hide-sm">${pct}%</span>
  </div>`;
}

export function ClusterPage() {
  const cluster = usePoll(() => get('/cluster'), 5000);
  const c = cluster.data;
  const nodes = (c && c.nodes) || [];
  const up = nodes.filter((n) => n.state === 'up').length;
  return html`<div class="page">
    <${PageHead}
      title="Cluster"
      subtitle=${c ? (c.clustered ? `${up} of ${nodes.length} nodes up · this node: ${c.self}` : 'This node runs alone.') : ''}
    />
    <${Card} title="Nodes" id="nodes" actions=${c && c.clustered && html`<span class="muted small">${c.forwarding ? 'forwarding on' : 'forwarding off'}</span>`}>
      ${!c && cluster.loading && html`<${Loading} />`}
      <${ErrorText} error=${cluster.error} />
      ${c && !c.clustered &&
      html`<${Empty} title="Not a cluster">
        <p>Start nodes with a shared <code>--registry postgres://…</code> and <code>--store</code> to form one (docs/cluster.md).</p>
      <//>`}
      ${c && c.clustered &&
      html`<${TableWrap} label="Nodes">
        <table class="table" id="nodes-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Load</th>
              <th scope="col" class="num">Warm</th>
              <th scope="col" class="num hide-sm">Heartbeat</th>
              <th scope="col" class="hide-sm">Started</th>
            </tr>
          </thead>
          <tbody>
            ${nodes.map(
              (n) => html`<tr key=${n.id} data-node=${n.id}>
                <td class="mono">${n.address || n.id} ${n.self && html`<${Badge}>this node<//>`}</td>
                <td><${Badge} tone=${STATE_TONE[n.state] || 'neutral'}>${n.state}<//></td>
                <td><${Load} running=${n.running} capacity=${n.capacity} /></td>
                <td class="num">${formatCount(n.warm)}</td>
                <td class="num hide-sm">${n.self ? '—' : `${formatMs(n.last_heartbeat_ms)} ago`}</td>
                <td class="hide-sm">${formatAgo(n.started_at)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      <//>`}
    <//>
  </div>`;
}
