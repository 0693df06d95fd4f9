// Settings (limits, outbound allow-list, instance reuse, key-value limits)
// beside the node's values from GET /status function_limits; PUT replaces
// the whole object. Below them: deleting the function.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Card, ErrorText, Notice } from '../../components/ui.js';
import { fnPath, get, put } from '../../lib/api.js';
import { formatCount } from '../../lib/format.js';
import { usePoll } from '../../lib/poll.js';
import { canWrite } from '../../lib/session.js';
import { DeleteFunction } from './delete_dialog.js';
import { KV_FIELDS, LIMIT_FIELDS, fromForm, toForm } from './settings_fields.js';

function nodeHint(field, limits) {
  const l = limits && limits[field.key];
  if (l) {
    const dflt = `${formatCount(l.default)} ${field.unit}`;
    return l.max !== l.default ? `Node: ${dflt}, at most ${formatCount(l.max)}.` : `Node: ${dflt}; a higher value is clamped to it.`;
  }
  if (field.node) return `Node default: ${field.node}.`;
  return 'Empty: the node\'s value.';
}

// A value above the node's maximum is accepted and clamped: say what applies.
function clampNote(field, form, limits) {
  const l = limits && limits[field.key];
  const v = Number(form[field.key]);
  if (!l || form[field.key] === '' || !Number.isFinite(v) || v <= l.max) return null;
  return `Above the node's ${formatCount(l.max)} ${field.unit}: ${formatCount(l.max)} applies.`;
}

function NumberField({ field, form, setField, errors, limits, disabled }) {
  const id = `set-${field.key}`;
  const err = errors[field.key];
  const clamped = !err && clampNote(field, form, limits);
  return html`<div class="field">
    <label for=${id}>${field.label} <span class="muted small">(${field.unit})</span></label>
    <input
      id=${id}
      type="number"
      inputmode="numeric"
      min=${field.min}
      max=${field.max}
      value=${form[field.key]}
      placeholder=${limits && limits[field.key] ? String(limits[field.key].default) : field.node || ''}
      disabled=${disabled}
      aria-invalid=${err ? 'true' : undefined}
      aria-describedby=${`${id}-help`}
      onInput=${(e) => setField(field.key, e.target.value)}
    />
    <p id=${`${id}-help`} class=${err ? 'error small' : clamped ? 'warn-text' : 'help'}>
      ${err || clamped || field.help || nodeHint(field, limits)}
    </p>
  </div>`;
}

export function SettingsTab({ name, fn, refresh }) {
  const status = usePoll(() => get('/status'), 60000);
  const limits = status.data && status.data.function_limits;
  const writable = canWrite();
  const [form, setForm] = useState(() => toForm(fn.settings));
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);

  // Another tab or the CLI may change them: follow the node until edited here.
  const current = JSON.stringify(fn.settings || {});
  useEffect(() => {
    if (!dirty) setForm(toForm(fn.settings));
  }, [current]);

  const setField = (k, v) => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => {
      if (!(k in e)) return e;
      const rest = { ...e };
      delete rest[k];
      return rest;
    });
    setDirty(true);
    setSaved(null);
  };

  const onSubmit = async (e) => {
    e.preventDefault();
    const { settings, errors: errs } = fromForm(form, fn.settings);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      const stored = await put(fnPath(name, 'settings'), settings);
      setForm(toForm(stored));
      setDirty(false);
      setSaved('Saved. New requests use these settings.');
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const disabled = !writable || busy;
  return html`
    <form onSubmit=${onSubmit} novalidate aria-label="Settings">
      <${Card} title="Limits" id="limits">
        <p class="help">Each limit can only tighten the node's. Leave a field empty to use the node's value.</p>
        <div class="form-grid">
          ${LIMIT_FIELDS.map((f) => html`<${NumberField} key=${f.key} field=${f} form=${form} setField=${setField} errors=${errors} limits=${limits} disabled=${disabled} />`)}
        </div>
      <//>
      <${Card} title="Outbound allow-list" id="allow">
        <div class="field">
          <label for="set-allow">Address ranges this function may reach although private or loopback</label>
          <textarea id="set-allow" rows="3" class="mono" spellcheck="false" disabled=${disabled}
            placeholder=${"10.0.0.0/8\n127.0.0.1/32:8080"}
            aria-describedby="set-allow-help" aria-invalid=${errors.allow ? 'true' : undefined}
            value=${form.allow} onInput=${(e) => setField('allow', e.target.value)}></textarea>
          <p id="set-allow-help" class=${errors.allow ? 'error small' : 'help'}>
            ${errors.allow || 'One CIDR per line: 10.0.0.0/8 or ::1 (every port), 127.0.0.1/32:8080 or [fd00::/8]:443 (that port). Public addresses need no entry.'}
          </p>
        </div>
      <//>
      <${Card} title="Key-value store" id="kv">
        <div class="form-grid">
          ${KV_FIELDS.map((f) => html`<${NumberField} key=${f.key} field=${f} form=${form} setField=${setField} errors=${errors} limits=${limits} disabled=${disabled} />`)}
        </div>
        <div class="field">
          <label for="set-kv_buckets">Shared buckets it may open</label>
          <textarea id="set-kv_buckets" rows="2" class="mono" spellcheck="false" disabled=${disabled}
            aria-describedby="set-kv_buckets-help" value=${form.kv_buckets} onInput=${(e) => setField('kv_buckets', e.target.value)}></textarea>
          <p id="set-kv_buckets-help" class=${errors.kv_buckets ? 'error small' : 'help'}>
            ${errors.kv_buckets || 'One bucket name per line; every function granted a name shares that bucket.'}
          </p>
        </div>
      <//>
      <div class="sticky-actions">
        <${ErrorText} error=${error} />
        <${Notice}>${saved}<//>
        ${Object.keys(errors).length > 0 && html`<p class="error" role="alert">Fix the fields marked above.</p>`}
        ${writable &&
        html`<button type="submit" class="btn btn-primary" disabled=${busy || !dirty}>${busy ? 'Saving…' : 'Save settings'}</button>
          <button type="button" class="btn btn-ghost" disabled=${busy || !dirty} onClick=${() => { setForm(toForm(fn.settings)); setErrors({}); setDirty(false); }}>Discard changes</button>`}
        ${status.error && html`<${ErrorText} error=${status.error} prefix="Node limits unavailable" />`}
      </div>
    </form>
    ${writable && html`<${DeleteFunction} name=${name} />`}
  `;
}
