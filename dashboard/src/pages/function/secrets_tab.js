// Secrets: names only. A value is typed into a password field, sent once
// (PUT, write-only) and cleared from the form; the node never returns it.
import { useRef, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Card, Empty, ErrorText, Notice, TableWrap } from '../../components/ui.js';
import { del, fnPath, put } from '../../lib/api.js';
import { varNameProblem } from '../../lib/names.js';
import { canWrite } from '../../lib/session.js';

// The value lives in the input element only, never in component state, so
// nothing keeps it once the field is cleared.
function SecretForm({ name, fixedKey, refresh, onDone }) {
  const [key, setKey] = useState(fixedKey || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const valueRef = useRef(null);
  const problem = !fixedKey && key ? varNameProblem(key) : null;
  const idBase = fixedKey ? `secret-${fixedKey}` : 'secret-new';
  const onSubmit = async (e) => {
    e.preventDefault();
    const p = varNameProblem(key);
    if (p) return setError({ message: p });
    const input = valueRef.current;
    setBusy(true);
    setError(null);
    try {
      await put(fnPath(name, 'secrets', key), { value: input.value });
      input.value = '';
      if (!fixedKey) setKey('');
      await refresh();
      onDone && onDone(`${fixedKey ? 'Replaced' : 'Set'} ${key}. Its value is not shown again.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${onSubmit} aria-label=${fixedKey ? `Replace ${fixedKey}` : 'Set a secret'} novalidate>
    ${!fixedKey &&
    html`<div class="field">
      <label for=${`${idBase}-key`}>Name</label>
      <input id=${`${idBase}-key`} class="mono" value=${key} placeholder="API_KEY" autocomplete="off" spellcheck="false"
        aria-invalid=${problem ? 'true' : undefined} onInput=${(e) => setKey(e.target.value.trim())} />
    </div>`}
    <div class="field field-grow">
      <label for=${`${idBase}-value`}>${fixedKey ? `New value of ${fixedKey}` : 'Value'}</label>
      <input id=${`${idBase}-value`} ref=${valueRef} type="password" autocomplete="new-password" spellcheck="false" />
    </div>
    <button type="submit" class="btn btn-primary" disabled=${busy}>${fixedKey ? 'Replace' : 'Set secret'}</button>
    ${(problem || error) && html`<div class="form-error"><${ErrorText} error=${error || { message: problem }} /></div>`}
  </form>`;
}

function SecretRow({ name, k, refresh, writable, onDone }) {
  const [replacing, setReplacing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await del(fnPath(name, 'secrets', k));
      await refresh();
      onDone(`Deleted ${k}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<tr data-secret=${k}>
    <th scope="row" class="mono">${k}</th>
    <td>
      ${replacing
        ? html`<${SecretForm} name=${name} fixedKey=${k} refresh=${refresh} onDone=${(m) => { setReplacing(false); onDone(m); }} />`
        : html`<span class="muted" aria-hidden="true">••••••••</span><span class="visually-hidden">value hidden</span>`}
      <${ErrorText} error=${error} />
    </td>
    <td class="actions"><div class="row-actions">
      ${writable &&
      html`<button type="button" class="btn btn-small btn-secondary" aria-expanded=${replacing ? 'true' : 'false'}
          aria-label=${`${replacing ? 'Cancel replacing' : 'Replace'} ${k}`} onClick=${() => setReplacing(!replacing)}>
          ${replacing ? 'Cancel' : 'Replace'}
        </button>
        <button type="button" class="btn btn-small btn-danger-ghost" disabled=${busy} aria-label=${`Delete ${k}`} onClick=${remove}>Delete</button>`}
    </div></td>
  </tr>`;
}

export function SecretsTab({ name, fn, refresh }) {
  const secrets = (fn.secrets || []).slice().sort();
  const writable = canWrite();
  const [done, setDone] = useState(null);
  return html`<${Card} title="Secrets" id="secrets">
    <p class="help">The function reads secrets like environment variables. Values are write-only: set or replace one here; nobody can read it back.</p>
    <${Notice}>${done}<//>
    ${secrets.length === 0
      ? html`<${Empty} title="No secrets"><p>Set one below, or with <code>fn0 secret ${name} set NAME</code>.</p><//>`
      : html`<${TableWrap} label="Secrets">
          <table class="table" id="secrets-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${secrets.map((k) => html`<${SecretRow} key=${k} name=${name} k=${k} refresh=${refresh} writable=${writable} onDone=${setDone} />`)}</tbody>
          </table>
        <//>`}
    ${writable && html`<${SecretForm} name=${name} refresh=${refresh} onDone=${setDone} />`}
  <//>`;
}
