// #/functions: every function with its live numbers (GET /stats every 5 s),
// a search box, and deploy by upload.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { DeployPanel } from '../components/deploy_panel.js';
import { PageHead } from '../components/layout.js';
import { Card, Empty, ErrorText, Loading, TableWrap } from '../components/ui.js';
import { get } from '../lib/api.js';
import { formatAgo, formatDateTime, formatMs, formatPercent, formatRate } from '../lib/format.js';
import { usePoll } from '../lib/poll.js';
import { canWrite } from '../lib/session.js';

function lastDeploy(f) {
  let t = null;
  for (const v of f.versions || []) if (t == null || v.created_at > t) t = v.created_at;
  return t;
}

function FunctionsTable({ fns, stats }) {
  return html`<${TableWrap} label="Functions">
    <table class="table" id="functions-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Live</th>
          <th scope="col" class="num">Rate</th>
          <th scope="col" class="num">Errors</th>
          <th scope="col" class="num">p99</th>
          <th scope="col" class="hide-sm">Last deploy</th>
        </tr>
      </thead>
      <tbody>
        ${fns.map((f) => {
          const s = stats[f.name];
          const t = lastDeploy(f);
          return html`<tr key=${f.name} data-function=${f.name}>
            <td><a href=${`#/functions/${encodeURIComponent(f.name)}`} class="strong">${f.name}</a></td>
            <td>${f.live ? html`<span class="mono">${f.live}</span>` : html`<span class="muted">none</span>`}</td>
            <td class="num" data-col="rate">${formatRate(s ? s.rps : 0)}</td>
            <td class="num ${s && s.errors > 0 ? 'text-bad' : ''}" data-col="errors">
              ${s ? formatPercent(s.error_rate) : '0%'}
            </td>
            <td class="num" data-col="p99">${formatMs(s ? s.p99_ms : null)}</td>
            <td class="hide-sm" title=${formatDateTime(t)}>${formatAgo(t)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  <//>`;
}

export function FunctionsPage() {
  const list = usePoll(() => get('/functions'), 10000);
  const stats = usePoll(() => get('/stats?window_s=60'), 5000);
  const [query, setQuery] = useState('');
  const [showDeploy, setShowDeploy] = useState(false);
  const writable = canWrite();

  const all = (list.data && list.data.functions) || [];
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const fns = q ? all.filter((f) => f.name.includes(q)) : all.slice();
    return fns.sort((a, b) => a.name.localeCompare(b.name));
  }, [all, query]);
  const perFn = (stats.data && stats.data.functions) || {};
  const empty = list.data && all.length === 0;
  // Open by itself while there is nothing else to do; once open it stays,
  // so the URLs of a first deploy remain on screen.
  useEffect(() => {
    if (empty) setShowDeploy(true);
  }, [empty]);
  const deployOpen = showDeploy;

  return html`<div class="page">
    <${PageHead}
      title="Functions"
      subtitle=${list.data ? `${all.length} function${all.length === 1 ? '' : 's'} · rates over the last minute` : ''}
      actions=${writable && !empty &&
      html`<button
        type="button"
        class="btn ${showDeploy ? 'btn-secondary' : 'btn-primary'}"
        aria-expanded=${showDeploy ? 'true' : 'false'}
        aria-controls="deploy-card"
        onClick=${() => setShowDeploy(!showDeploy)}
      >
        ${showDeploy ? 'Close deploy' : 'Deploy a function'}
      </button>`}
    />
    ${deployOpen && writable &&
    html`<div id="deploy-card">
      <${Card} title="Deploy a function" id="deploy">
        <${DeployPanel} onDeployed=${() => list.refresh()} />
      <//>
    </div>`}
    <${Card}
      title="All functions"
      id="all"
      actions=${all.length > 0 &&
      html`<div class="search">
        <label for="fn-search" class="visually-hidden">Search functions</label>
        <input
          id="fn-search"
          type="search"
          placeholder="Search by name"
          value=${query}
          onInput=${(e) => setQuery(e.target.value)}
        />
      </div>`}
    >
      ${!list.data && list.loading && html`<${Loading} />`}
      <${ErrorText} error=${list.error} />
      ${empty &&
      html`<${Empty} title="No functions yet">
        <p>
          Deploy a <code>wasi:http/proxy</code> component above, or from a project folder with${' '}
          <code>fn0 deploy</code> (<code>fn0 new hello --template ts</code> starts one).
        </p>
      <//>`}
      ${all.length > 0 && shown.length === 0 &&
      html`<${Empty} title=${`No function matches "${query}"`}>
        <p><button type="button" class="btn btn-link" onClick=${() => setQuery('')}>Clear the search</button></p>
      <//>`}
      ${shown.length > 0 && html`<${FunctionsTable} fns=${shown} stats=${perFn} />`}
      <${ErrorText} error=${stats.error} prefix="Live numbers unavailable" />
    <//>
  </div>`;
}
