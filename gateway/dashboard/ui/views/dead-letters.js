/** An edge's latest dead letters (`GET /v1/dead-letters?edge=`): when, the code, why, from where. */
import { html } from '../lib/html.js';
import { Table } from '../lib/table.js';

const columns = [
  { cell: (l) => new Date(l.at).toLocaleString() },
  { cell: (l) => html`<code>${l.code}</code>` },
  { cell: (l) => l.reason },
  { cell: (l) => `${l.source} · ${l.excerpt.bytes} B`, className: () => 'muted' },
];

export function DeadLetters({ dead }) {
  return html`
    <h2 id="dead-letters">Dead letters: ${dead.count}</h2>
    <${Table} columns=${columns} rows=${dead.deadLetters} />
  `;
}
