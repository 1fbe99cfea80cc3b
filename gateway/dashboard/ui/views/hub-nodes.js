/** The hub nodes with their shards, actors, messages handled and memory. */
import { html } from '../lib/html.js';
import { Table } from '../lib/table.js';

const columns = [
  { title: 'node', cell: (n) => n.node },
  { title: 'shards', cell: (n) => n.shards },
  { title: 'actors', cell: (n) => n.actors },
  { title: 'handled', cell: (n) => n.handled },
  { title: 'RSS MB', cell: (n) => Math.round(n.rssBytes / 1e6) },
];

export function HubNodes({ nodes }) {
  return html`<section>
    <h2>Hub nodes</h2>
    <${Table} id="nodes" columns=${columns} rows=${nodes} rowKey=${(n) => n.node} />
  </section>`;
}
