// The three charts of a time series (node, cluster or one function):
// request rate, error rate, latency p50/p99. Shared by the overview and
// the function page.
import { useMemo } from 'preact/hooks';
import { html } from '../html.js';
import { formatMs, formatRate } from '../lib/format.js';
import { recentRate, seriesColumns } from '../lib/series.js';
import { Chart } from './chart.js';

const RATE = [{ label: 'Requests/s', color: '--chart-1', fill: true }];
const ERRORS = [
  { label: '5xx/s', color: '--chart-err', fill: true },
  { label: '4xx/s', color: '--chart-warn' },
];
const LATENCY = [
  { label: 'p50', color: '--chart-1' },
  { label: 'p99', color: '--chart-2' },
];

function last(arr) {
  for (let i = arr.length - 1; i >= 0; i--) if (arr[i] != null) return arr[i];
  return null;
}

// `since`: unix seconds before which there is nothing to draw (seriesStart).
export function SeriesCharts({ series, since = null }) {
  const cols = useMemo(() => seriesColumns(series, since), [series, since]);
  const now = recentRate(series, 'requests');
  const errNow = recentRate(series, 'errors');
  return html`<div class="charts">
    <${Chart}
      title="Request rate"
      summary=${`now ${formatRate(now)}`}
      series=${RATE}
      data=${[cols.t, cols.rate]}
      format=${formatRate}
    />
    <${Chart}
      title="Errors"
      summary=${`now ${formatRate(errNow)}`}
      series=${ERRORS}
      data=${[cols.t, cols.errorRate, cols.clientErrorRate]}
      format=${formatRate}
    />
    <${Chart}
      title="Latency"
      summary=${`p50 ${formatMs(last(cols.p50))} · p99 ${formatMs(last(cols.p99))}`}
      series=${LATENCY}
      data=${[cols.t, cols.p50, cols.p99]}
      format=${formatMs}
    />
  </div>`;
}
