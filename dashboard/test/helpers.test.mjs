// Unit tests of the dashboard's pure helpers: node --test dashboard/test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAgo, formatBytes, formatDuration, formatMs, formatPercent, formatRate, shortHash } from '../src/lib/format.js';
import { appendBounded, visibleLines } from '../src/lib/log_filter.js';
import { functionNameProblem, nameFromFile, normalizeName, varNameProblem } from '../src/lib/names.js';
import { parseRoute, routeHref } from '../src/lib/route.js';
import { MAX_POINTS, MIN_WINDOW_S, recentRate, seriesColumns, seriesStart, seriesTotals } from '../src/lib/series.js';
import { fromForm, toForm } from '../src/pages/function/settings_fields.js';

test('numbers are formatted with their units', () => {
  assert.equal(formatRate(0), '0/s');
  assert.equal(formatRate(0.004), '<0.01/s');
  assert.equal(formatRate(3.456), '3.46/s');
  assert.equal(formatRate(120.04), '120/s');
  assert.equal(formatRate(12345), '12.3k/s');
  assert.equal(formatRate(null), '—');
  assert.equal(formatMs(0.412), '0.41 ms');
  assert.equal(formatMs(12.34), '12.3 ms');
  assert.equal(formatMs(1500), '1.5 s');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(64 * 1024 * 1024), '64 MiB');
  assert.equal(formatPercent(0.004), '0.4%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.5), '50%');
  assert.equal(formatDuration(3 * 3600 + 5 * 60), '3 h 5 min');
  assert.equal(formatAgo(1000, 1000 * 1000 + 180 * 1000), '3 min ago');
  assert.equal(formatAgo(1000, 1000 * 1000 + 2 * 3600 * 1000 + 60 * 1000), '2 h ago');
  assert.equal(shortHash('sha256:0123456789abcdef0123'), '0123456789ab');
});

test('routes round-trip through the fragment', () => {
  assert.deepEqual(parseRoute(''), { page: 'overview' });
  assert.deepEqual(parseRoute('#/'), { page: 'overview' });
  assert.deepEqual(parseRoute('#/functions'), { page: 'functions' });
  assert.deepEqual(parseRoute('#/functions/hello?tab=logs'), { page: 'function', name: 'hello', tab: 'logs' });
  assert.deepEqual(parseRoute('#/functions/hello?tab=bogus'), { page: 'function', name: 'hello', tab: 'overview' });
  assert.equal(parseRoute('#/nope/x').page, 'not-found');
  assert.equal(routeHref({ page: 'function', name: 'hello', tab: 'env' }), '#/functions/hello?tab=env');
  assert.equal(routeHref({ page: 'function', name: 'hello', tab: 'overview' }), '#/functions/hello');
});

test('names follow the node and CLI rules', () => {
  assert.equal(normalizeName('Hello_World'), 'hello-world');
  assert.equal(normalizeName('my app..v2'), 'my-app-v2');
  assert.equal(normalizeName('__x__'), 'x');
  assert.equal(nameFromFile('Echo_C.wasm'), 'echo-c');
  assert.equal(functionNameProblem('hello'), null);
  assert.match(functionNameProblem('Hello'), /"hello"/);
  assert.equal(varNameProblem('API_KEY'), null);
  assert.ok(varNameProblem('1X'));
  assert.ok(varNameProblem('A=B'));
});

test('series become bounded chart columns with per-second rates', () => {
  const points = [];
  for (let i = 0; i < 400; i++) points.push({ t: i * 10, span_s: 10, requests: 20, errors: 1, p50_ms: 1, p99_ms: null });
  points[399] = { t: 3990, span_s: 4, requests: 8, errors: 0, p50_ms: 2, p99_ms: 3, partial: true };
  const cols = seriesColumns({ step_s: 10, points });
  assert.equal(cols.t.length, MAX_POINTS);
  assert.equal(cols.rate[0], 2);
  assert.equal(cols.rate[MAX_POINTS - 1], 2); // 8 requests over a 4 s partial step
  assert.equal(cols.errorRate[0], 0.1);
  assert.equal(cols.p99[0], null);
  assert.deepEqual(seriesTotals({ points: points.slice(0, 2) }).requests, 40);
  // 20 requests in the last full step and 8 in the 4 s of the current one.
  assert.equal(recentRate({ step_s: 10, points }), 28 / 14);
  // A node up for 20 minutes draws its 20 minutes; one up for 2 minutes, 10.
  const now = 4000;
  assert.equal(seriesStart({ points }, 1200, now), now - 1200);
  assert.equal(seriesStart({ points }, 120, now), now - MIN_WINDOW_S);
  assert.equal(seriesStart({ points, clustered: true }, 120, now), null);
  assert.equal(seriesColumns({ step_s: 10, points }, now - 1200).t.length, 120); // t = 2800 … 3990

});

test('the log tail holds and shows a bounded number of lines', () => {
  const list = [];
  for (let i = 0; i < 50; i++) appendBounded(list, { seq: i, request_id: i % 2 ? 'odd' : 'even', line: `line ${i}` }, 30);
  assert.equal(list.length, 30);
  assert.equal(list[0].seq, 20);
  assert.equal(visibleLines(list, '', '', 10).length, 10);
  assert.equal(visibleLines(list, '', '', 10)[9].seq, 49);
  assert.ok(visibleLines(list, 'odd', '').every((e) => e.request_id === 'odd'));
  assert.deepEqual(visibleLines(list, '', 'LINE 21').map((e) => e.seq), [21]);
});

test('settings keep what the form does not show and check ranges', () => {
  const current = { cpu_ms: 50, allow: ['10.0.0.0/8'], future_field: true };
  const form = toForm(current);
  assert.equal(form.cpu_ms, '50');
  assert.equal(form.allow, '10.0.0.0/8');
  form.cpu_ms = '';
  form.memory_mb = '64';
  form.allow = '10.0.0.0/8\n127.0.0.1/32:8080';
  const { settings, errors } = fromForm(form, current);
  assert.deepEqual(errors, {});
  assert.deepEqual(settings, { memory_mb: 64, allow: ['10.0.0.0/8', '127.0.0.1/32:8080'], future_field: true });
  assert.ok(fromForm({ ...form, cpu_ms: '0' }, current).errors.cpu_ms);
  assert.ok(fromForm({ ...form, cpu_ms: '1.5' }, current).errors.cpu_ms);
});
