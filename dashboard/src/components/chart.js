// A uPlot time-series chart that fills its container's width, follows the
// theme (colours from CSS custom properties) and takes new data in place
// (setData), so a 5 s poll does not rebuild it.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { useTheme } from '../lib/theme.js';

const HEIGHT = 180;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function clock(unixS) {
  const d = new Date(unixS * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// The newest non-null value of series `i`: what the legend shows while the
// pointer is not over the chart.
function newest(u, i) {
  const col = u.data[i] || [];
  for (let k = col.length - 1; k >= 0; k--) if (col[k] != null) return col[k];
  return null;
}

function makeOptions(width, series, format) {
  const muted = cssVar('--muted');
  const grid = cssVar('--grid');
  const axis = {
    stroke: muted,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    font: '11px system-ui, sans-serif',
  };
  return {
    width,
    height: HEIGHT,
    padding: [8, 18, 0, 4], // room for the last time label
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    legend: { show: true, live: true },
    scales: {
      x: { time: true },
      // From zero, with headroom; a flat zero line still gets a scale.
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    series: [
      { label: 'Time', value: (u, v) => (v == null ? 'now' : clock(v)) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: cssVar(s.color),
        fill: s.fill ? cssVar(s.color) + '22' : undefined,
        width: 1.75,
        spanGaps: false,
        points: { show: false },
        value: (u, v, si, idx) => {
          const shown = idx == null ? newest(u, i + 1) : v;
          return shown == null ? '—' : format(shown);
        },
      })),
    ],
    axes: [
      { ...axis, size: 30, values: (u, splits) => splits.map(clock) },
      { ...axis, size: 64, values: (u, splits) => splits.map((v) => format(v)) },
    ],
  };
}

// series: [{label, color: '--chart-1', fill?}]; data: [t[], y1[], y2[]...]
export function Chart({ title, summary, series, data, format }) {
  const box = useRef(null);
  const plot = useRef(null);
  const theme = useTheme();
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const el = box.current;
    const u = new uPlot(makeOptions(Math.max(200, el.clientWidth), series, format), dataRef.current, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt on a theme change: uPlot bakes colours in at creation.
  }, [theme, series.length]);

  useEffect(() => {
    if (plot.current && data) plot.current.setData(data);
  }, [data]);

  return html`<figure class="chart">
    <figcaption><span class="chart-title">${title}</span>${summary && html`<span class="chart-summary">${summary}</span>`}</figcaption>
    <div class="chart-box" ref=${box}></div>
  </figure>`;
}
