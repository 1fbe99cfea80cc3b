/**
 * The alarm history (`#/alarms`, `#/alarms?edge=<id>`): filters (time range, edge, building,
 * kind), newest first with each alarm's clip — its poster as a thumbnail, its status or why it
 * failed — a page at a time ("older" follows the cursor); redrawn when a clip is stored or fails.
 */
import { api } from '../lib/api.js';
import { edgeHref, hashHref, timeParam } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { Table } from '../lib/table.js';
import { useThrottled } from '../lib/throttle.js';
import { useData } from '../lib/use-data.js';
import { Failure } from './failure.js';
import { logsAround } from './logs.js';

export const alarmsHref = (filters = {}) => hashHref('#/alarms', filters);
export const clipHref = (id) => `#/clips/${encodeURIComponent(id)}`;

const FIELDS = ['from', 'to', 'edge', 'building', 'kind'];

/** The API query of the filters (datetime-local inputs are local time). */
function query(filters, cursor) {
  const q = new URLSearchParams({ limit: '50' });
  for (const name of FIELDS) {
    const value = filters[name];
    if (!value) continue;
    q.set(name, name === 'from' || name === 'to' ? timeParam(value) : value);
  }
  if (cursor) q.set('cursor', cursor);
  return `/v1/alarms?${q}`;
}

function ClipCell({ clip }) {
  if (!clip) return html`<span class="muted">no clip</span>`;
  const status = html`<span class=${`clip-${clip.status}`}>${clip.status}</span>`;
  return html`<a class="clip" href=${clipHref(clip.id)} title=${clip.reason ?? ''}>
    ${clip.links ? html`<img class="poster" src=${clip.links.poster} alt="poster" loading="lazy" />` : null}
    ${status}${clip.durationMs ? html` <span class="muted">${Math.round(clip.durationMs / 1000)} s</span>` : null}
    ${clip.status === 'failed' && clip.reason ? html`<div class="muted">${clip.reason}</div>` : null}
  </a>`;
}

const columns = [
  { title: 'when', cell: (a) => new Date(a.at).toLocaleString() },
  { title: 'edge', cell: (a) => html`<a href=${edgeHref(a.edgeId)}>${a.edgeId}</a>` },
  { title: 'kind', cell: (a) => a.alarm, className: () => 'alarm' },
  { title: 'phase', cell: (a) => a.phase },
  {
    title: 'lasted',
    cell: (a) => (a.phase === 'end' && a.since !== null ? `${Math.round((a.at - a.since) / 1000)} s` : ''),
  },
  { title: 'clip', cell: (a) => html`<${ClipCell} clip=${a.clip} />` },
  {
    title: 'logs',
    cell: (a) =>
      html`<a class="alarm-logs" href=${logsAround(a.edgeId, a.at)} title="the edge’s logs 5 minutes either side">logs</a>`,
  },
];

function Filters({ initial, apply }) {
  const [f, setF] = useState(initial);
  const input = (name, type = 'text') =>
    html`<label>${name} <input id=${`f-${name}`} type=${type} value=${f[name] ?? ''}
      onInput=${(e) => setF({ ...f, [name]: e.currentTarget.value })} /></label>`;
  return html`<form id="alarm-filters" class="filters" onSubmit=${(e) => {
    e.preventDefault();
    apply(f);
  }}>
    ${input('from', 'datetime-local')} ${input('to', 'datetime-local')} ${input('edge')} ${input('building')}
    ${input('kind')} <button type="submit">show</button>
  </form>`;
}

export function Alarms({ params }) {
  const filters = Object.fromEntries(FIELDS.map((n) => [n, params.get(n) ?? '']));
  const [older, setOlder] = useState({ rows: [], next: undefined });
  const { data, error, reload } = useData(async () => {
    setOlder({ rows: [], next: undefined });
    return (await api(query(filters))).body;
  }, [params.toString()]);
  const later = useThrottled(reload, 1000);
  useLiveEvents((event) => {
    if (event.type === 'clip.ready' || event.type === 'clip.failed' || event.type.startsWith('alarm.'))
      later();
  });
  if (error) return html`<${Failure} error=${error} />`;
  const rows = data ? [...data.alarms, ...older.rows] : [];
  const next = older.next === undefined ? data?.next : older.next;
  const more = async () => {
    const { body } = await api(query(filters, next));
    setOlder({ rows: [...older.rows, ...body.alarms], next: body.next });
  };
  return html`<section>
    <h2>Alarms</h2>
    <${Filters} initial=${filters} apply=${(f) => (location.hash = alarmsHref(f))} />
    ${
      data
        ? html`<${Table} id="alarms" columns=${columns} rows=${rows} rowKey=${(a) => a.eventId} empty="no alarms in this range" />
          ${next ? html`<button id="alarms-older" onClick=${more}>older</button>` : null}`
        : html`<p class="muted">loading…</p>`
    }
  </section>`;
}
