// #/: the node (or cluster) at a glance: health, the last five minutes in
// numbers, the last hour in charts (polled every 5 s), the busiest functions.
import { html } from '../html.js';
import { PageHead } from '../components/layout.js';
import { SeriesCharts } from '../components/series_charts.js';
import { Badge, Card, Empty, ErrorText, Loading, Stat, TableWrap } from '../components/ui.js';
import { get } from '../lib/api.js';
import { formatBytes, formatCount, formatDuration, formatMs, formatPercent, formatRate } from '../lib/format.js';
import { usePoll } from '../lib/poll.js';
import { seriesStart } from '../lib/series.js';

const WINDOW_S = 300;

function health(status, cluster) {
  const problems = [];
  if (status && status.registry && status.registry.connected === false) problems.push('registry unreachable');
  if (cluster && cluster.clustered) {
    const down = (cluster.nodes || []).filter((n) => n.state !== 'up');
    if (down.length) problems.push(`${down.length} node${down.length > 1 ? 's' : ''} not up`);
    if (cluster.membership && cluster.membership.connected === false) problems.push('membership disconnected');
  }
  return problems;
}

function HealthCard({ status, cluster }) {
  if (!status.data && status.loading) return html`<${Card} title="Health" id="health"><${Loading} /><//>`;
  if (!status.data) return html`<${Card} title="Health" id="health"><${ErrorText} error=${status.error} /><//>`;
  const s = status.data;
  const c = cluster.data;
  const problems = health(s, c);
  const nodes = c && c.clustered ? c.nodes || [] : null;
  return html`<${Card}
    title="Health"
    id="health"
    actions=${problems.length
      ? html`<${Badge} tone="warn">${problems.join(', ')}<//>`
      : html`<${Badge} tone="ok">Healthy<//>`}
  >
    <div class="stats">
      ${nodes
        ? html`<${Stat}
            label="Nodes up"
            value=${`${nodes.filter((n) => n.state === 'up').length} / ${nodes.length}`}
            hint=${html`<a href="#/cluster">cluster details</a>`}
          />`
        : html`<${Stat} label="Mode" value="Single node" hint=${s.registry ? `registry: ${s.registry.kind}` : ''} />`}
      <${Stat} label="Functions" value=${formatCount(s.functions)} hint=${html`<a href="#/functions">see all</a>`} />
      <${Stat} label="Uptime" value=${formatDuration(s.uptime_s)} hint=${`fn0 ${s.fn0}`} />
      <${Stat}
        label="Code cache"
        value=${formatBytes(s.cache && s.cache.bytes)}
        hint=${s.cache ? `${formatCount(s.cache.entries)} loaded` : ''}
      />
      <${Stat}
        label="Deploys"
        value=${s.deploys ? formatCount(s.deploys.in_progress) : '—'}
        hint=${s.deploys ? `in progress, at most ${s.deploys.max}` : ''}
      />
    </div>
    <${ErrorText} error=${status.error} />
  <//>`;
}

function RecentCard({ stats }) {
  const n = stats.data && stats.data.node;
  return html`<${Card} title="Last 5 minutes" id="recent">
    ${!n && stats.loading && html`<${Loading} />`}
    ${n &&
    html`<div class="stats">
      <${Stat} label="Requests" value=${formatRate(n.rps)} hint=${`${formatCount(n.requests)} in all`} />
      <${Stat}
        label="Error rate"
        value=${formatPercent(n.error_rate)}
        hint=${`${formatCount(n.errors)} 5xx`}
        tone=${n.errors > 0 ? 'bad' : undefined}
      />
      <${Stat} label="Latency p50" value=${formatMs(n.p50_ms)} />
      <${Stat} label="Latency p99" value=${formatMs(n.p99_ms)} />
      <${Stat}
        label="Limit hits"
        value=${formatCount(n.limit_hits)}
        hint="CPU, memory, duration…"
        tone=${n.limit_hits > 0 ? 'warn' : undefined}
      />
      <${Stat}
        label="Overloads"
        value=${formatCount(n.overloads)}
        hint="503 overloaded"
        tone=${n.overloads > 0 ? 'warn' : undefined}
      />
    </div>`}
    <${ErrorText} error=${stats.error} />
  <//>`;
}

function TopFunctions({ stats, functionCount }) {
  const fns = stats.data ? Object.entries(stats.data.functions || {}) : [];
  fns.sort((a, b) => b[1].rps - a[1].rps || a[0].localeCompare(b[0]));
  const top = fns.slice(0, 8);
  return html`<${Card} title="Top functions" id="top" actions=${html`<a href="#/functions">All functions</a>`}>
    ${stats.data && top.length === 0 &&
    (functionCount === 0
      ? html`<${Empty} title="No functions yet">
          <p><a href="#/functions">Deploy one by upload</a>, or from a project with <code>fn0 deploy</code>.</p>
        <//>`
      : html`<${Empty} title="No requests in the last 5 minutes">
          <p>Call a function's URL and it shows here within seconds.</p>
        <//>`)}
    ${top.length > 0 &&
    html`<${TableWrap} label="Top functions">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Function</th>
            <th scope="col" class="num">Rate</th>
            <th scope="col" class="num">Errors</th>
            <th scope="col" class="num hide-sm">p50</th>
            <th scope="col" class="num">p99</th>
          </tr>
        </thead>
        <tbody>
          ${top.map(
            ([name, f]) => html`<tr key=${name}>
              <td><a href=${`#/functions/${encodeURIComponent(name)}`}>${name}</a></td>
              <td class="num">${formatRate(f.rps)}</td>
              <td class="num ${f.errors > 0 ? 'text-bad' : ''}">${formatPercent(f.error_rate)}</td>
              <td class="num hide-sm">${formatMs(f.p50_ms)}</td>
              <td class="num">${formatMs(f.p99_ms)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    <//>`}
  <//>`;
}

// Uptime is as of the last /status answer; a step or two of slack is fine.
function startOf(series, status) {
  return seriesStart(series, status ? status.uptime_s : null, Math.floor(Date.now() / 1000));
}

export function OverviewPage() {
  const status = usePoll(() => get('/status'), 10000);
  const cluster = usePoll(() => get('/cluster'), 10000);
  const series = usePoll(() => get('/series?minutes=60'), 5000);
  const stats = usePoll(() => get(`/stats?window_s=${WINDOW_S}`), 5000);
  const s = series.data;
  const scope = s && s.clustered ? `Cluster of ${s.nodes.length} nodes` : s && s.nodes ? `Node ${s.nodes[0]}` : '';
  return html`<div class="page">
    <${PageHead} title="Overview" subtitle=${scope} />
    <${HealthCard} status=${status} cluster=${cluster} />
    <${RecentCard} stats=${stats} />
    <${Card}
      title="Last hour"
      id="hour"
      actions=${s && s.unreachable && s.unreachable.length
        ? html`<${Badge} tone="warn">missing ${s.unreachable.join(', ')}<//>`
        : html`<span class="muted small">updates every 5 s</span>`}
    >
      ${!s && series.loading && html`<${Loading} />`}
      ${s && html`<${SeriesCharts} series=${s} since=${startOf(s, status.data)} />`}
      <${ErrorText} error=${series.error} />
    <//>
    <${TopFunctions} stats=${stats} functionCount=${status.data ? status.data.functions : null} />
  </div>`;
}
