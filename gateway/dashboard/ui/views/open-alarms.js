/** The first 15 edges with open alarms, and which. */
import { alarmNames } from '../lib/fleet.js';
import { edgeHref } from '../lib/format.js';
import { html } from '../lib/html.js';
import { Table } from '../lib/table.js';

const columns = [
  { cell: (e) => html`<a href=${edgeHref(e.id)}>${e.id}</a>` },
  { cell: (e) => alarmNames(e).join(', '), className: () => 'alarm' },
];

export function OpenAlarms({ edges }) {
  const withAlarms = edges.filter((e) => alarmNames(e).length > 0).slice(0, 15);
  return html`<section>
    <h2>Edges with open alarms</h2>
    <${Table} id="open-alarms" columns=${columns} rows=${withAlarms} rowKey=${(e) => e.id} empty="none" />
  </section>`;
}
