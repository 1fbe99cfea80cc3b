/**
 * The logs (`#/logs?edge=&service=&level=&from=&to=&q=`): filters, the lines newest first a page at
 * a time ("older" follows the cursor), and a live tail (`/v1/logs/tail` over a WebSocket) whose
 * lines arrive on top; when the page falls behind, the gateway drops lines and says how many.
 * An alarm, a tunnel and an edge's page link here around their moment (`logsAround`).
 */
import { api, openSocket } from '../lib/api.js';
import { edgeHref, hashHref, timeParam } from '../lib/format.js';
import { html, useEffect, useState } from '../lib/html.js';
import { Table } from '../lib/table.js';
import { useData } from '../lib/use-data.js';
import { Failure } from './failure.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const FIELDS = ['edge', 'service', 'level', 'from', 'to', 'q'];
/** How far before and after a moment `logsAround` reads. */
const AROUND_MS = 5 * 60_000;
/** The most live-tail lines the page keeps. */
const MAX_TAIL = 500;

export const logsHref = (filters = {}) => hashHref('#/logs', filters);

/** An edge's logs from 5 minutes before `at` (ms or an ISO time) to 5 minutes after. */
export const logsAround = (edgeId, at) => {
  const t = typeof at === 'number' ? at : Date.parse(at);
  return logsHref({ edge: edgeId, from: String(t - AROUND_MS), to: String(t + AROUND_MS) });
};

/** ms as a datetime-local input's value (local time, to the second). */
const toInput = (value) => {
  if (!/^\d+$/.test(value)) return value;
  const d = new Date(Number(value));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
};

function query(path, filters, extra = {}) {
  const q = new URLSearchParams(extra);
  for (const name of FIELDS) {
    const value = filters[name];
    if (!value) continue;
    q.set(name, name === 'from' || name === 'to' ? timeParam(value) : value);
  }
  return `${path}?${q}`;
}

const time = (ms) => {
  const d = new Date(ms);
  return `${d.toLocaleString()}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

const columns = [
  { title: 'time', cell: (r) => time(r.time), className: () => 'log-time' },
  { title: 'level', cell: (r) => r.level, className: (r) => `log-level level-${r.level}` },
  { title: 'service', cell: (r) => r.service },
  { title: 'edge', cell: (r) => (r.edgeId ? html`<a href=${edgeHref(r.edgeId)}>${r.edgeId}</a>` : '') },
  { title: 'message', cell: (r) => r.msg, className: (r) => (r.tail ? 'log-msg tail' : 'log-msg') },
];

function Filters({ initial, apply }) {
  const [f, setF] = useState({ ...initial, from: toInput(initial.from), to: toInput(initial.to) });
  const set = (name) => (e) => setF({ ...f, [name]: e.currentTarget.value });
  const input = (name, type = 'text') =>
    html`<label>${name} <input id=${`lf-${name}`} type=${type} step=${type === 'text' ? undefined : 1}
      value=${f[name] ?? ''} onInput=${set(name)} /></label>`;
  return html`<form id="log-filters" class="filters" onSubmit=${(e) => {
    e.preventDefault();
    apply(f);
  }}>
    ${input('edge')} ${input('service')}
    <label>level <select id="lf-level" value=${f.level ?? ''} onChange=${set('level')}>
      <option value="">any</option>
      ${LEVELS.map((l) => html`<option value=${l}>${l} or worse</option>`)}
    </select></label>
    ${input('from', 'datetime-local')} ${input('to', 'datetime-local')} ${input('q')}
    <button type="submit">show</button>
  </form>`;
}

/** The live tail while `on`: lines (newest first), the socket's state and the lines dropped. */
function useTail(on, filters) {
  const [tail, setTail] = useState({ rows: [], status: '', dropped: 0 });
  const key = JSON.stringify(filters);
  useEffect(() => {
    setTail({ rows: [], status: on ? 'connecting…' : '', dropped: 0 });
    if (!on) return;
    const { from: _from, to: _to, ...live } = filters;
    const ws = openSocket(query('/v1/logs/tail', live));
    let serial = 0;
    ws.onmessage = (m) => {
      const frame = JSON.parse(m.data);
      if (frame.type === 'ready') setTail((t) => ({ ...t, status: 'live' }));
      else if (frame.type === 'line') {
        const row = { ...frame.record, tail: true, key: `tail-${serial++}` };
        setTail((t) => ({ ...t, rows: [row, ...t.rows].slice(0, MAX_TAIL) }));
      } else if (frame.type === 'dropped') setTail((t) => ({ ...t, dropped: frame.total }));
      else if (frame.type === 'error') setTail((t) => ({ ...t, status: frame.message }));
    };
    ws.onclose = (e) =>
      setTail((t) => ({ ...t, status: t.status === 'live' ? `closed (${e.reason || e.code})` : t.status }));
    return () => ws.close();
  }, [on, key]);
  return tail;
}

export function Logs({ params }) {
  const filters = Object.fromEntries(FIELDS.map((n) => [n, params.get(n) ?? '']));
  const [older, setOlder] = useState({ rows: [], next: undefined });
  const [tailing, setTailing] = useState(false);
  const tail = useTail(tailing, filters);
  const { data, error } = useData(async () => {
    setOlder({ rows: [], next: undefined });
    return (await api(query('/v1/logs', filters, { limit: '100' }))).body;
  }, [params.toString()]);
  const keyed = (records, page) => records.map((r, i) => ({ ...r, key: `${page}-${i}` }));
  const rows = data ? [...tail.rows, ...keyed(data.records, 'p0'), ...older.rows] : tail.rows;
  const next = older.next === undefined ? data?.next : older.next;
  const more = async () => {
    const { body } = await api(query('/v1/logs', filters, { limit: '100', cursor: next }));
    setOlder({ rows: [...older.rows, ...keyed(body.records, next)], next: body.next });
  };
  return html`<section>
    <h2>Logs</h2>
    <${Filters} initial=${filters} apply=${(f) => (location.hash = logsHref(f))} />
    <p>
      <label><input id="logs-tail" type="checkbox" checked=${tailing}
        onChange=${(e) => setTailing(e.currentTarget.checked)} /> live tail</label>${' '}
      <span id="logs-tail-status" class="muted">${tail.status}</span>${' '}
      ${tail.dropped > 0 ? html`<span id="logs-dropped" class="alarm">${tail.dropped} lines dropped: this page fell behind</span>` : null}
    </p>
    ${error ? html`<${Failure} error=${error} />` : null}
    ${
      data || tail.rows.length > 0
        ? html`<${Table} id="logs" columns=${columns} rows=${rows} rowKey=${(r) => r.key} empty="no lines in this range" />
          ${next ? html`<button id="logs-older" onClick=${more}>older</button>` : null}`
        : error
          ? null
          : html`<p class="muted">loading…</p>`
    }
  </section>`;
}
