// Environment variables: list, edit in place, add, delete. A change applies
// to the next request; nothing is redeployed.
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Card, Empty, ErrorText, Notice, TableWrap } from '../../components/ui.js';
import { del, fnPath, put } from '../../lib/api.js';
import { varNameProblem } from '../../lib/names.js';
import { canWrite } from '../../lib/session.js';

function EnvRow({ name, k, value, refresh, writable }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await refresh();
      setEditing(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const id = `env-${k}`;
  return html`<tr data-env=${k}>
    <th scope="row" class="mono">${k}</th>
    <td class="env-value">
      ${editing
        ? html`<form class="row-form" onSubmit=${(e) => {
            e.preventDefault();
            run(() => put(fnPath(name, 'env', k), { value: draft }));
          }}>
            <label for=${id} class="visually-hidden">Value of ${k}</label>
            <input id=${id} class="mono" value=${draft} onInput=${(e) => setDraft(e.target.value)} disabled=${busy} />
            <button type="submit" class="btn btn-small btn-primary" disabled=${busy}>Save</button>
            <button type="button" class="btn btn-small btn-ghost" onClick=${() => { setEditing(false); setDraft(value); setError(null); }}>Cancel</button>
          </form>`
        : html`<span class="mono wrap">${value === '' ? html`<span class="muted">(empty)</span>` : value}</span>`}
      <${ErrorText} error=${error} />
    </td>
    <td class="actions"><div class="row-actions">
      ${writable && !editing &&
      html`<button type="button" class="btn btn-small btn-secondary" aria-label=${`Edit ${k}`} onClick=${() => { setDraft(value); setEditing(true); }}>Edit</button>
        <button type="button" class="btn btn-small btn-danger-ghost" aria-label=${`Delete ${k}`} disabled=${busy}
          onClick=${() => run(() => del(fnPath(name, 'env', k)))}>Delete</button>`}
    </div></td>
  </tr>`;
}

function AddVar({ name, refresh, existing }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const problem = key ? varNameProblem(key) : null;
  const onSubmit = async (e) => {
    e.preventDefault();
    const p = varNameProblem(key);
    if (p) return setError({ message: p });
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await put(fnPath(name, 'env', key), { value });
      setDone(`${existing.includes(key) ? 'Updated' : 'Added'} ${key}.`);
      setKey('');
      setValue('');
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${onSubmit} aria-label="Add a variable" novalidate>
    <div class="field">
      <label for="env-new-key">Name</label>
      <input id="env-new-key" class="mono" value=${key} placeholder="MODE" autocomplete="off" spellcheck="false"
        aria-invalid=${problem ? 'true' : undefined} onInput=${(e) => setKey(e.target.value.trim())} />
    </div>
    <div class="field field-grow">
      <label for="env-new-value">Value</label>
      <input id="env-new-value" class="mono" value=${value} placeholder="production" autocomplete="off" spellcheck="false"
        onInput=${(e) => setValue(e.target.value)} />
    </div>
    <button type="submit" class="btn btn-primary" disabled=${busy}>${existing.includes(key) ? 'Update' : 'Add variable'}</button>
    <div class="form-error">
      ${(problem || error) && html`<${ErrorText} error=${error || { message: problem }} />`}
      <${Notice}>${done}<//>
    </div>
  </form>`;
}

export function EnvTab({ name, fn, refresh }) {
  const env = Object.entries(fn.env || {}).sort(([a], [b]) => a.localeCompare(b));
  const writable = canWrite();
  return html`<${Card} title="Environment variables" id="env">
    <p class="help">The function reads them as its environment; a change applies to the next request, without a redeploy. Values are shown: keep credentials in <a href=${`#/functions/${encodeURIComponent(name)}?tab=secrets`}>Secrets</a>.</p>
    ${env.length === 0
      ? html`<${Empty} title="No environment variables"><p>Add one below, or in fn0.toml's <code>[vars]</code>.</p><//>`
      : html`<${TableWrap} label="Environment variables">
          <table class="table" id="env-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${env.map(([k, v]) => html`<${EnvRow} key=${k} name=${name} k=${k} value=${v} refresh=${refresh} writable=${writable} />`)}</tbody>
          </table>
        <//>`}
    ${writable && html`<${AddVar} name=${name} refresh=${refresh} existing=${env.map(([k]) => k)} />`}
  <//>`;
}
