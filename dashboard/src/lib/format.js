// Number, size, duration and time formatting for tables and charts. Pure
// functions (unit-tested in dashboard/test/), no DOM.

const DASH = '—';

function trim(n, digits) {
  // 1.50 -> "1.5", 2.00 -> "2": fewer characters, same information.
  return Number(n.toFixed(digits)).toString();
}

// Requests per second: "0", "0.02/s", "3.4/s", "120/s", "12.3k/s".
export function formatRate(rps) {
  if (rps == null || !Number.isFinite(rps)) return DASH;
  if (rps === 0) return '0/s';
  if (rps < 0.01) return '<0.01/s';
  if (rps < 10) return `${trim(rps, 2)}/s`;
  if (rps < 1000) return `${trim(rps, 1)}/s`;
  return `${trim(rps / 1000, 1)}k/s`;
}

// Milliseconds: "0.41 ms", "12.3 ms", "1.2 s".
export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return DASH;
  if (ms < 1) return `${trim(ms, 2)} ms`;
  if (ms < 100) return `${trim(ms, 1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${trim(ms / 1000, 2)} s`;
  return `${trim(ms / 60000, 1)} min`;
}

// Bytes in binary units, as the CLI and docs write them: "512 B", "1.5 KiB".
export function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${trim(n, n < 10 ? 1 : 0)} ${units[i]}`;
}

// A share as a percentage: 0.004 -> "0.4%".
export function formatPercent(share) {
  if (share == null || !Number.isFinite(share)) return DASH;
  if (share === 0) return '0%';
  const p = share * 100;
  if (p < 0.1) return '<0.1%';
  return `${trim(p, p < 10 ? 1 : 0)}%`;
}

// Counts with thousands separators: 12345 -> "12,345".
export function formatCount(n) {
  if (n == null || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

// A duration in seconds, short: "45 s", "12 min", "3 h 5 min", "2 d 4 h".
export function formatDuration(s) {
  if (s == null || !Number.isFinite(s)) return DASH;
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

// "5 s ago", "3 min ago", "2 h ago", "4 d ago" from unix seconds.
export function formatAgo(unixS, nowMs = Date.now()) {
  if (unixS == null || !Number.isFinite(unixS)) return DASH;
  const s = Math.max(0, nowMs / 1000 - unixS);
  if (s < 5) return 'just now';
  const text = formatDuration(s);
  // "3 h 5 min ago" reads long in a table: keep the larger unit only.
  return `${text.split(' ').slice(0, 2).join(' ')} ago`;
}

// Local date and time, "2026-12-04 14:03:21", unambiguous across locales.
export function formatDateTime(unixS) {
  if (unixS == null || !Number.isFinite(unixS)) return DASH;
  const d = new Date(unixS * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// Local time of day with milliseconds, for log lines: "14:03:21.042".
export function formatClock(unixS) {
  if (unixS == null || !Number.isFinite(unixS)) return DASH;
  const d = new Date(unixS * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// The hash column: "sha256:ab12…" or a bare hex string -> its first 12 hex digits.
export function shortHash(hash) {
  if (!hash) return DASH;
  const hex = String(hash).replace(/^sha256:/, '');
  return hex.slice(0, 12);
}
