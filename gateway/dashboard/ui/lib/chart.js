/**
 * A live chart of one named panel of `GET /v1/servers/series` (uPlot): loaded at once and every
 * 5 s after, redrawn in place while the series stay the same, made anew when they change.
 * The box says how many points it drew (`data-points`) and how many series (`data-series`), for
 * people and tests alike; a failed load shows its reason in the box and keeps the last chart.
 */
import uPlot from 'uplot';
import { api } from './api.js';
import { html, useEffect, useRef, useState } from './html.js';

/** How often a chart loads its panel again. */
const REFRESH_MS = 5000;
/** At most this many values: dots as well as the line. */
const SPARSE = 30;

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7ea4', '#57606a'];

const bytes = (v) => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  for (; Math.abs(v) >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
};
const number = (v) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
};

/** A value with its panel's unit, for the axis and the legend. */
const FORMATS = {
  percent: (v) => `${number(v)} %`,
  bytes,
  bytesPerSecond: (v) => `${bytes(v)}/s`,
  perSecond: (v) => `${number(v)}/s`,
  ms: (v) => (Math.abs(v) >= 1000 ? `${number(v / 1000)} s` : `${number(v)} ms`),
  entries: (v) => number(v),
};

function query({ panel, range, host, node }) {
  const q = new URLSearchParams({ panel, range });
  if (host) q.set('host', host);
  if (node) q.set('node', node);
  return `/v1/servers/series?${q}`;
}

/** The legend at each series' last value (its index on the time axis), the time at the last of them. */
function showLatest(u) {
  const idxs = u.data.map((values) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return i;
    return null;
  });
  idxs[0] = Math.max(-1, ...idxs.slice(1).filter((i) => i !== null));
  if (idxs[0] < 0) idxs[0] = null;
  u.setLegend({ idxs });
}

function options(data, width) {
  const format = FORMATS[data.unit] ?? number;
  const show = (_u, v) => (v === null || v === undefined ? '—' : format(v));
  return {
    width,
    height: 160,
    legend: { live: true },
    // Away from the cursor, the legend shows each series' latest value.
    hooks: { setData: [showLatest], setCursor: [(u) => u.cursor.idx == null && showLatest(u)] },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: data.unit === 'percent' ? { range: [0, 100] } : {} },
    axes: [{}, { size: 70, values: (_u, ticks) => ticks.map(format) }],
    series: [
      {},
      ...data.series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        value: show,
        // A series of few values (a host just added, a gap) is drawn as dots: a lone value has no line.
        points: { show: s.values.filter((v) => v !== null).length <= SPARSE, size: 5 },
      })),
    ],
  };
}

const columns = (data) => [data.t, ...data.series.map((s) => s.values)];
const pointsOf = (data) => data.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);

/** One chart box: its title, the uPlot canvas, and the reason when the last load failed. */
export function Chart({ panel, title, range, host, node }) {
  const box = useRef(null);
  const plot = useRef(null);
  const [state, setState] = useState({ points: 0, series: 0, error: undefined, empty: false });
  useEffect(() => {
    let stopped = false;
    let labels = '';
    const load = async () => {
      try {
        const { body } = await api(query({ panel, range, host, node }));
        if (stopped) return;
        const key = body.series.map((s) => s.label).join('\n');
        if (plot.current && key === labels) plot.current.setData(columns(body));
        else {
          plot.current?.destroy();
          labels = key;
          const width = Math.max(240, (box.current?.clientWidth ?? 400) - 4);
          plot.current = new uPlot(options(body, width), columns(body), box.current);
        }
        setState({
          points: pointsOf(body),
          series: body.series.length,
          error: undefined,
          empty: body.series.length === 0,
        });
      } catch (error) {
        if (!stopped) setState((s) => ({ ...s, error: error.message }));
      }
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [panel, range, host, node]);
  return html`<div class="chart" data-panel=${panel} data-points=${state.points} data-series=${state.series}>
    <h3>${title}</h3>
    <div ref=${box} class="chart-plot"></div>
    ${state.empty && !state.error ? html`<p class="muted">no data in this range</p>` : null}
    ${state.error ? html`<p class="chart-error">${state.error}</p>` : null}
  </div>`;
}
