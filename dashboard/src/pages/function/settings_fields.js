// The per-function settings the form edits, with the node's ranges
// (README "Settings"; openapi.json Settings). Pure helpers for the form.

export const LIMIT_FIELDS = [
  { key: 'cpu_ms', label: 'CPU time', unit: 'ms', min: 1, max: 600000 },
  { key: 'duration_ms', label: 'Duration', unit: 'ms', min: 1, max: 3600000 },
  { key: 'memory_mb', label: 'Memory', unit: 'MiB', min: 1, max: 65536 },
  { key: 'max_subrequests', label: 'Outbound requests', unit: 'per request', min: 0, max: 100000 },
  { key: 'max_concurrency', label: 'Concurrency', unit: 'requests at once', min: 1, max: 1000000 },
  {
    key: 'reuse_instance_requests',
    label: 'Instance reuse',
    unit: 'requests per instance',
    min: 0,
    max: 1000000,
    help: '0 or empty: a fresh instance for every request.',
  },
  {
    key: 'instance_concurrency',
    label: 'Instance concurrency',
    unit: 'requests at once',
    min: 0,
    max: 1000,
    help: 'WASI 0.3 components with instance reuse only; 0 or empty: one at a time.',
  },
];

export const KV_FIELDS = [
  { key: 'kv_max_key_bytes', label: 'Longest key', unit: 'bytes', min: 1, max: 65536, node: '512' },
  { key: 'kv_max_value_bytes', label: 'Largest value', unit: 'bytes', min: 0, max: 1073741824, node: '1 MiB' },
  { key: 'kv_max_operations', label: 'Operations', unit: 'per request', min: 0, max: 1000000, node: '1000' },
  { key: 'kv_max_bytes', label: 'Bucket size', unit: 'bytes', min: 0, max: 1099511627776, node: '64 MiB' },
];

export const LIST_FIELDS = ['allow', 'kv_buckets'];

// Settings object -> the form's strings.
export function toForm(settings) {
  const s = settings || {};
  const form = {};
  for (const f of [...LIMIT_FIELDS, ...KV_FIELDS]) form[f.key] = s[f.key] == null ? '' : String(s[f.key]);
  for (const k of LIST_FIELDS) form[k] = (s[k] || []).join('\n');
  return form;
}

// The form's strings -> {settings, errors}. The PUT replaces the whole
// object, so whatever the node had that the form does not show is kept.
export function fromForm(form, current) {
  const settings = { ...(current || {}) };
  const errors = {};
  for (const f of [...LIMIT_FIELDS, ...KV_FIELDS]) {
    const raw = (form[f.key] || '').trim();
    delete settings[f.key];
    if (raw === '') continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) errors[f.key] = 'A whole number, or empty for the node\'s value.';
    else if (n < f.min || n > f.max) errors[f.key] = `Between ${f.min} and ${f.max}.`;
    else settings[f.key] = n;
  }
  for (const k of LIST_FIELDS) {
    const items = (form[k] || '').split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
    if (items.length) settings[k] = items;
    else delete settings[k];
  }
  if (settings.allow && settings.allow.length > 64) errors.allow = 'At most 64 entries.';
  if (settings.kv_buckets && settings.kv_buckets.length > 16) errors.kv_buckets = 'At most 16 buckets.';
  return { settings, errors };
}
