// Deleting a function: a dialog where its name must be typed. When its
// key-value bucket holds data the node answers 409 has-data; the dialog
// then asks whether to delete that data too or keep it.
import { useCallback, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Dialog } from '../../components/dialog.js';
import { Card, ErrorText } from '../../components/ui.js';
import { del, fnPath } from '../../lib/api.js';
import { formatBytes, formatCount } from '../../lib/format.js';
import { navigate } from '../../lib/router.js';

// The node's 409 message names the query parameters (it speaks to API
// clients); the dialog says the same with buttons, from the answer's
// keys and bytes fields.
function hasDataText(name, { keys, bytes } = {}) {
  const what = Number.isFinite(keys) ? `${formatCount(keys)} key${keys === 1 ? '' : 's'} (${formatBytes(bytes || 0)})` : 'data';
  return `${name} has ${what} in its key-value bucket. Delete them with the function, or keep them: a function deployed later under this name finds them again.`;
}

export function DeleteFunction({ name }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [hasData, setHasData] = useState(null);
  const close = useCallback(() => {
    setOpen(false);
    setTyped('');
    setError(null);
    setHasData(null);
  }, []);

  const remove = async (kv) => {
    setBusy(true);
    setError(null);
    try {
      await del(`${fnPath(name)}${kv ? `?kv=${kv}` : ''}`);
      setOpen(false);
      navigate('#/functions');
    } catch (e) {
      if (e.status === 409 && e.code === 'has-data') setHasData(hasDataText(name, e.details));
      else setError(e);
    } finally {
      setBusy(false);
    }
  };

  return html`<${Card} title="Delete this function" id="danger" class="card-danger">
    <p class="help">Deletes ${name} with every version, alias, variable and secret. Its URLs stop answering at once.</p>
    <button type="button" class="btn btn-danger" onClick=${() => setOpen(true)}>Delete ${name}…</button>
    <${Dialog} open=${open} title=${`Delete ${name}?`} onClose=${close} id="delete-dialog">
      <form
        onSubmit=${(e) => {
          e.preventDefault();
          if (typed === name) remove(null);
        }}
      >
        <p>This cannot be undone. Type <strong class="mono">${name}</strong> to confirm.</p>
        <label for="delete-confirm">Function name</label>
        <input id="delete-confirm" value=${typed} autocomplete="off" spellcheck="false" onInput=${(e) => setTyped(e.target.value)} disabled=${busy || hasData} />
        <${ErrorText} error=${error} />
        ${hasData
          ? html`<div class="has-data" role="alert">
              <p>${hasData}</p>
              <div class="form-actions">
                <button type="button" class="btn btn-danger" disabled=${busy} onClick=${() => remove('delete')}>Delete the data too</button>
                <button type="button" class="btn btn-secondary" disabled=${busy} onClick=${() => remove('keep')}>Keep the data</button>
                <button type="button" class="btn btn-ghost" onClick=${close}>Cancel</button>
              </div>
            </div>`
          : html`<div class="form-actions">
              <button type="submit" class="btn btn-danger" disabled=${busy || typed !== name}>${busy ? 'Deleting…' : 'Delete function'}</button>
              <button type="button" class="btn btn-ghost" onClick=${close}>Cancel</button>
            </div>`}
      </form>
    <//>
  <//>`;
}
