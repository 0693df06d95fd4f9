// The function's numbers: the last five minutes, the last hour in charts
// (its own series, every 5 s), its URLs.
import { html } from '../../html.js';
import { SeriesCharts } from '../../components/series_charts.js';
import { Card, ErrorText, Loading, Stat } from '../../components/ui.js';
import { API, fnPath, get } from '../../lib/api.js';
import { formatCount, formatMs, formatPercent, formatRate } from '../../lib/format.js';
import { usePoll } from '../../lib/poll.js';
import { seriesStart } from '../../lib/series.js';

export function OverviewTab({ name, fn }) {
  const series = usePoll(() => get(`${fnPath(name, 'series')}?minutes=60`), 5000, [name]);
  const stats = usePoll(() => get('/stats?window_s=300'), 5000, [name]);
  const status = usePoll(() => get('/status'), 30000);
  const since = seriesStart(series.data, status.data ? status.data.uptime_s : null, Math.floor(Date.now() / 1000));
  const s = stats.data ? (stats.data.functions || {})[name] || null : null;
  const origin = location.origin;
  return html`
    <${Card} title="Last 5 minutes" id="fn-recent">
      ${stats.data &&
      html`<div class="stats">
        <${Stat} label="Requests" value=${formatRate(s ? s.rps : 0)} hint=${`${formatCount(s ? s.requests : 0)} in all`} />
        <${Stat}
          label="Error rate"
          value=${formatPercent(s ? s.error_rate : 0)}
          hint=${`${formatCount(s ? s.errors : 0)} 5xx`}
          tone=${s && s.errors > 0 ? 'bad' : undefined}
        />
        <${Stat} label="Latency p50" value=${formatMs(s && s.p50_ms)} />
        <${Stat} label="Latency p99" value=${formatMs(s && s.p99_ms)} />
        <${Stat} label="Limit hits" value=${formatCount(s ? s.limit_hits : 0)} tone=${s && s.limit_hits > 0 ? 'warn' : undefined} />
        <${Stat} label="Overloads" value=${formatCount(s ? s.overloads : 0)} tone=${s && s.overloads > 0 ? 'warn' : undefined} />
      </div>`}
      ${!stats.data && stats.loading && html`<${Loading} />`}
      <${ErrorText} error=${stats.error} />
    <//>
    <${Card} title="Last hour" id="fn-hour" actions=${html`<span class="muted small">updates every 5 s</span>`}>
      ${series.data && html`<${SeriesCharts} series=${series.data} since=${since} />`}
      ${!series.data && series.loading && html`<${Loading} />`}
      <${ErrorText} error=${series.error} />
    <//>
    <${Card} title="Call it" id="fn-urls">
      ${fn.live
        ? html`<dl class="urls">
            <div class="url-row"><dt>Path</dt><dd><a class="mono" href=${`${origin}/${name}/`} target="_blank" rel="noopener noreferrer">${origin}/${name}/</a></dd></div>
            <div class="url-row"><dt>This version</dt><dd><a class="mono" href=${`${origin}/${name}@${fn.live}/`} target="_blank" rel="noopener noreferrer">${origin}/${name}@${fn.live}/</a> <span class="muted small">(or @alias)</span></dd></div>
            <div class="url-row"><dt>Export</dt><dd><a href=${`${API}${fnPath(name, 'versions', fn.live, 'component')}`} download>Download ${fn.live} (.wasm)</a></dd></div>
          </dl>`
        : html`<p class="muted">No version is live: make one live under <a href=${`#/functions/${encodeURIComponent(name)}?tab=versions`}>Versions</a>.</p>`}
      <p class="help">Host routing works too: <span class="mono">${`${name}.<base domain>`}</span> (see <code>fn0 serve --base-domain</code>).</p>
    <//>
  `;
}
