// Versions with one-click rollback / promote (PUT aliases/live), export
// links, and the other aliases (move, add, delete).
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Badge, Card, Empty, ErrorText, Notice, TableWrap } from '../../components/ui.js';
import { API, del, fnPath, put } from '../../lib/api.js';
import { formatAgo, formatBytes, formatDateTime, shortHash } from '../../lib/format.js';
import { isFunctionName } from '../../lib/names.js';
import { canWrite } from '../../lib/session.js';

function aliasesOf(fn, version) {
  return Object.entries(fn.aliases || {})
    .filter(([a, v]) => v === version && a !== 'live')
    .map(([a]) => a)
    .sort();
}

function VersionsTable({ name, fn, refresh }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const writable = canWrite();
  const versions = (fn.versions || []).slice().sort((a, b) => b.number - a.number);
  const liveNumber = fn.live ? Number(fn.live.slice(1)) : null;

  const makeLive = async (v) => {
    setBusy(v.version);
    setError(null);
    setDone(null);
    try {
      await put(fnPath(name, 'aliases', 'live'), { version: v.version });
      await refresh();
      setDone(`${v.version} is live.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  if (versions.length === 0)
    return html`<${Empty} title="No versions">
      <p>Deploy one from <a href="#/functions">Functions</a> or with <code>fn0 deploy</code>.</p>
    <//>`;
  return html`
    <${ErrorText} error=${error} />
    <${Notice}>${done}<//>
    <${TableWrap} label="Versions">
      <table class="table" id="versions-table">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Created</th>
            <th scope="col" class="hide-sm">By</th>
            <th scope="col" class="num hide-sm">Size</th>
            <th scope="col" class="hide-sm">Hash</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${versions.map((v) => {
            const live = v.number === liveNumber;
            const verb = liveNumber != null && v.number < liveNumber ? 'Roll back' : 'Promote';
            return html`<tr key=${v.version} data-version=${v.version} class=${live ? 'row-live' : ''}>
              <td>
                <span class="mono strong">${v.version}</span>
                ${live && html` <${Badge} tone="ok">live<//>`}
                ${aliasesOf(fn, v.version).map((a) => html` <${Badge} key=${a}>${a}<//>`)}
              </td>
              <td title=${formatDateTime(v.created_at)}>${formatAgo(v.created_at)}</td>
              <td class="hide-sm">${v.created_by || html`<span class="muted">—</span>`}</td>
              <td class="num hide-sm">${formatBytes(v.size)}</td>
              <td class="mono hide-sm" title=${v.hash}>${shortHash(v.hash)}</td>
              <td class="actions"><div class="row-actions">
                ${!live && writable &&
                html`<button
                  type="button"
                  class="btn btn-small ${verb === 'Roll back' ? 'btn-secondary' : 'btn-primary'}"
                  disabled=${busy != null}
                  onClick=${() => makeLive(v)}
                  aria-label=${`${verb} to ${v.version}`}
                >
                  ${busy === v.version ? 'Moving…' : `${verb} to ${v.version}`}
                </button>`}
                <a
                  class="btn btn-small btn-ghost"
                  href=${`${API}${fnPath(name, 'versions', v.version, 'component')}`}
                  download=${`${name}-${v.version}.wasm`}
                  aria-label=${`Download ${v.version}`}
                  >Download</a
                >
              </div></td>
            </tr>`;
          })}
        </tbody>
      </table>
    <//>`;
}

function AliasRow({ name, alias, version, versions, refresh, writable }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await refresh();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const id = `alias-${alias}`;
  return html`<tr data-alias=${alias}>
    <th scope="row" class="mono">${alias}</th>
    <td>
      <label for=${id} class="visually-hidden">Version of ${alias}</label>
      <select
        id=${id}
        value=${version}
        disabled=${busy || !writable}
        onChange=${(e) => run(() => put(fnPath(name, 'aliases', alias), { version: e.target.value }))}
      >
        ${versions.map((v) => html`<option key=${v.version} value=${v.version}>${v.version}</option>`)}
      </select>
      ${error && html`<${ErrorText} error=${error} />`}
    </td>
    <td class="actions"><div class="row-actions">
      ${alias !== 'live' && writable &&
      html`<button
        type="button"
        class="btn btn-small btn-danger-ghost"
        disabled=${busy}
        aria-label=${`Delete alias ${alias}`}
        onClick=${() => run(() => del(fnPath(name, 'aliases', alias)))}
      >
        Delete
      </button>`}
    </div></td>
  </tr>`;
}

function AddAlias({ name, versions, refresh }) {
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState(versions.length ? versions[0].version : '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const problem =
    alias && (!isFunctionName(alias) || /^v\d+$/.test(alias))
      ? 'Lowercase letters, digits and hyphens; not v followed by digits (those name versions).'
      : null;
  const onSubmit = async (e) => {
    e.preventDefault();
    if (!alias || problem) return setError({ message: problem || 'Name the alias.' });
    setBusy(true);
    setError(null);
    try {
      await put(fnPath(name, 'aliases', alias), { version: version || versions[0].version });
      setAlias('');
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${onSubmit} aria-label="Add an alias">
    <div class="field">
      <label for="new-alias">New alias</label>
      <input id="new-alias" value=${alias} placeholder="staging" autocomplete="off" spellcheck="false"
        aria-invalid=${problem ? 'true' : undefined} onInput=${(e) => setAlias(e.target.value.trim())} />
    </div>
    <div class="field">
      <label for="new-alias-version">Points to</label>
      <select id="new-alias-version" value=${version} onChange=${(e) => setVersion(e.target.value)}>
        ${versions.map((v) => html`<option key=${v.version} value=${v.version}>${v.version}</option>`)}
      </select>
    </div>
    <button type="submit" class="btn btn-secondary" disabled=${busy}>Add alias</button>
    ${(problem || error) && html`<div class="form-error"><${ErrorText} error=${error || { message: problem }} /></div>`}
  </form>`;
}

export function VersionsTab({ name, fn, refresh }) {
  const versions = (fn.versions || []).slice().sort((a, b) => b.number - a.number);
  const aliases = Object.entries(fn.aliases || {}).sort(([a], [b]) => (a === 'live' ? -1 : b === 'live' ? 1 : a.localeCompare(b)));
  const writable = canWrite();
  return html`
    <${Card} title="Versions" id="versions">
      <p class="help">
        Each deploy is a version. Making one live moves the <span class="mono">live</span> alias: new requests get it at once.
      </p>
      <${VersionsTable} name=${name} fn=${fn} refresh=${refresh} />
    <//>
    <${Card} title="Aliases" id="aliases">
      <p class="help">
        An alias names a version: <span class="mono">/${name}@staging/</span>${' or '}<span class="mono">${`staging.${name}.<base domain>`}</span>.
      </p>
      ${aliases.length === 0
        ? html`<${Empty} title="No aliases yet"><p>Add one below to give a version a stable name.</p><//>`
        : html`<${TableWrap} label="Aliases">
            <table class="table" id="aliases-table">
              <thead><tr><th scope="col">Alias</th><th scope="col">Version</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                ${aliases.map(([a, v]) => html`<${AliasRow} key=${a} name=${name} alias=${a} version=${v} versions=${versions} refresh=${refresh} writable=${writable} />`)}
              </tbody>
            </table>
          <//>`}
      ${writable && versions.length > 0 && html`<${AddAlias} name=${name} versions=${versions} refresh=${refresh} />`}
    <//>
  `;
}
