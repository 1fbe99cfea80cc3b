/** The edges table: the first 300 edges with state, last seen, open alarms, node and group. */
import { alarmNames } from '../lib/fleet.js';
import { ago, edgeHref } from '../lib/format.js';
import { html } from '../lib/html.js';
import { Table } from '../lib/table.js';

const shown = 300;

const columns = [
  { title: 'edge', cell: (e) => html`<a href=${edgeHref(e.id)}>${e.id}</a>` },
  {
    title: 'state',
    cell: (e) => (e.online ? 'online' : 'offline'),
    className: (e) => (e.online ? 'on' : 'off'),
  },
  { title: 'last seen', cell: (e) => ago(e.lastSeen) },
  { title: 'alarms', cell: (e) => alarmNames(e).join(', '), className: () => 'alarm' },
  { title: 'node', cell: (e) => e.node ?? '—' },
  { title: 'group', cell: (e) => e.groupId ?? '' },
];

export function FleetTable({ edges }) {
  return html`<section>
    <h2>Edges</h2>
    <${Table} id="edges" columns=${columns} rows=${edges.slice(0, shown)} rowKey=${(e) => e.id} />
    ${edges.length > shown && html`<p class="muted">first ${shown} of ${edges.length}</p>`}
  </section>`;
}
