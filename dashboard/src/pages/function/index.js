// #/functions/<name>?tab=...: one function. The header and the tab links
// stay; each tab is its own file and loads what it shows.
import { html } from '../../html.js';
import { Badge, Empty, ErrorText, Loading } from '../../components/ui.js';
import { fnPath, get } from '../../lib/api.js';
import { usePoll } from '../../lib/poll.js';
import { routeHref } from '../../lib/route.js';
import { EnvTab } from './env_tab.js';
import { LogsTab } from './logs_tab.js';
import { OverviewTab } from './overview_tab.js';
import { SecretsTab } from './secrets_tab.js';
import { SettingsTab } from './settings_tab.js';
import { VersionsTab } from './versions_tab.js';

const TAB_LABELS = {
  overview: 'Overview',
  versions: 'Versions',
  logs: 'Logs',
  env: 'Env vars',
  secrets: 'Secrets',
  settings: 'Settings',
};

function Tabs({ name, tab }) {
  return html`<nav class="tabs" aria-label="Function sections">
    ${Object.entries(TAB_LABELS).map(
      ([t, label]) => html`<a
        key=${t}
        class="tab"
        href=${routeHref({ page: 'function', name, tab: t })}
        aria-current=${t === tab ? 'page' : undefined}
        >${label}</a
      >`,
    )}
  </nav>`;
}

export function liveUrl(name) {
  return `${location.origin}/${encodeURIComponent(name)}/`;
}

export function FunctionPage({ name, tab }) {
  const fn = usePoll(() => get(fnPath(name)), 10000, [name]);
  const f = fn.data;
  if (!f && fn.loading) return html`<div class="page"><${Loading} /></div>`;
  if (!f && fn.error && fn.error.status === 404)
    return html`<div class="page">
      <h1>${name}</h1>
      <${Empty} title=${`There is no function named "${name}"`}>
        <p>It may have been deleted. <a href="#/functions">See all functions</a>.</p>
      <//>
    </div>`;
  if (!f) return html`<div class="page"><h1>${name}</h1><${ErrorText} error=${fn.error} /></div>`;
  const props = { name, fn: f, refresh: fn.refresh };
  return html`<div class="page">
    <div class="page-head">
      <div class="page-head-text">
        <p class="crumbs"><a href="#/functions">Functions</a> <span aria-hidden="true">/</span></p>
        <h1 class="fn-title">
          ${name}
          ${f.live ? html`<${Badge} tone="ok">live ${f.live}<//>` : html`<${Badge} tone="warn">no live version<//>`}
        </h1>
        ${f.live && html`<p class="page-sub"><a href=${liveUrl(name)} target="_blank" rel="noopener noreferrer" class="mono">${liveUrl(name)}</a></p>`}
      </div>
    </div>
    <${Tabs} name=${name} tab=${tab} />
    <${ErrorText} error=${fn.error} />
    <div class="tab-panel">
      ${tab === 'overview' && html`<${OverviewTab} ...${props} />`}
      ${tab === 'versions' && html`<${VersionsTab} ...${props} />`}
      ${tab === 'logs' && html`<${LogsTab} ...${props} />`}
      ${tab === 'env' && html`<${EnvTab} ...${props} />`}
      ${tab === 'secrets' && html`<${SecretsTab} ...${props} />`}
      ${tab === 'settings' && html`<${SettingsTab} ...${props} />`}
    </div>
  </div>`;
}
