/** An edge's updates on its page: installed versions (and the rollout that brought each), the current assignment, the history. */
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Table } from '../lib/table.js';
import { useData } from '../lib/use-data.js';
import { rolloutHref } from './rollouts.js';

const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const link = (rollout) => (rollout ? html`<a href=${rolloutHref(rollout)}>${rollout}</a>` : '—');

const installedColumns = [
  { title: 'package', cell: ([name]) => name },
  { title: 'version', cell: ([, p]) => p.version },
  { title: 'rollout', cell: ([, p]) => link(p.rollout) },
  { title: 'since', cell: ([, p]) => when(p.at) },
];

const historyColumns = [
  { title: 'when', cell: (h) => when(h.at) },
  { title: 'rollout', cell: (h) => link(h.rollout) },
  { title: 'package', cell: (h) => `${h.name} ${h.version}` },
  {
    title: 'state',
    cell: (h) => h.state,
    className: (h) => (h.state === 'failed' || h.state === 'rolled_back' ? 'alarm' : ''),
  },
  { title: 'reason', cell: (h) => h.reason ?? '' },
];

export function EdgeUpdates({ id, version }) {
  const { data, error } = useData(
    async () => (await api(`/v1/edges/${encodeURIComponent(id)}/updates`)).body,
    [id, version],
  );
  if (error) return html`<section><h2>Updates</h2><p class="muted">${error.message}</p></section>`;
  if (!data) return null;
  const a = data.assigned;
  return html`<section>
    <h2>Installed versions</h2>
    <${Table} id="installed" columns=${installedColumns} rows=${Object.entries(data.installed)} rowKey=${([n]) => n} empty="none reported" />
    ${a && html`<p id="assigned" class="muted">assigned by ${link(a.rollout)} (wave ${a.wave + 1}, attempt ${a.attempt}): ${a.state}${a.reason ? ` — ${a.reason}` : ''}</p>`}
    <h2 class="spaced">Update history</h2>
    <${Table} id="update-history" columns=${historyColumns} rows=${data.history} empty="no updates yet" />
  </section>`;
}
