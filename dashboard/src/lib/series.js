// Turns the node's time series (GET .../series, docs/dashboard.md) into the
// column arrays uPlot draws. Pure; bounded to MAX_POINTS whatever comes in.

export const MAX_POINTS = 360; // one hour at the node's 10 s step
export const MIN_WINDOW_S = 600; // a young node's charts still span 10 minutes

// The first time worth drawing: a single node that started `uptimeS` ago
// has nothing before then (its zeros there mean "not running", not "idle").
// A cluster's series holds other nodes' history too: never cut.
export function seriesStart(series, uptimeS, nowS) {
  if (!series || series.clustered || uptimeS == null) return null;
  return Math.min(nowS - uptimeS, nowS - MIN_WINDOW_S);
}

// -> { t, rate, errorRate, p50, p99, inFlight } arrays, oldest first.
// Rates are per second over each point's span (the newest point is a
// partial interval: dividing by its own span keeps it comparable).
// Points of steps that ended before `since` (unix s) are left out.
export function seriesColumns(series, since = null) {
  const step = (series && series.step_s) || 10;
  const points = (series && Array.isArray(series.points) ? series.points : [])
    .slice(-MAX_POINTS)
    .filter((p) => since == null || p.t + step > since);
  const cols = { t: [], rate: [], errorRate: [], clientErrorRate: [], p50: [], p99: [], inFlight: [] };
  for (const p of points) {
    const span = p.span_s > 0 ? p.span_s : series.step_s || 10;
    cols.t.push(p.t);
    cols.rate.push((p.requests || 0) / span);
    cols.errorRate.push((p.errors || 0) / span);
    cols.clientErrorRate.push((p.client_errors || 0) / span);
    cols.p50.push(p.p50_ms ?? null);
    cols.p99.push(p.p99_ms ?? null);
    cols.inFlight.push(p.in_flight ?? null);
  }
  return cols;
}

// "Now": the rate over the step in progress and the one before it, so a
// step that has just begun (a second long, likely empty) does not read 0.
export function recentRate(series, field = 'requests') {
  const points = series && Array.isArray(series.points) ? series.points : [];
  const last = points.slice(-2);
  let n = 0, span = 0;
  for (const p of last) {
    n += p[field] || 0;
    span += p.span_s > 0 ? p.span_s : series.step_s || 10;
  }
  return span > 0 ? n / span : null;
}

// Sums over the series, for the tiles above the charts.
export function seriesTotals(series) {
  const points = series && Array.isArray(series.points) ? series.points : [];
  let requests = 0, errors = 0, limitHits = 0, overloads = 0, coldStarts = 0;
  for (const p of points) {
    requests += p.requests || 0;
    errors += p.errors || 0;
    limitHits += p.limit_hits || 0;
    overloads += p.overloads || 0;
    coldStarts += p.cold_starts || 0;
  }
  return { requests, errors, limitHits, overloads, coldStarts };
}
