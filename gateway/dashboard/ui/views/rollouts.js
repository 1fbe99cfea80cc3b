/**
 * The rollouts page (`#/rollouts`): every rollout, newest first, with its status, current wave
 * and counts; follows the rollouts' live events (redrawn at most once a second).
 */
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { Table } from '../lib/table.js';
import { useThrottled } from '../lib/throttle.js';
import { useData } from '../lib/use-data.js';
import { Failure } from './failure.js';

export const rolloutHref = (id) => `#/rollouts/${encodeURIComponent(id)}`;

const columns = [
  { title: 'rollout', cell: (r) => html`<a href=${rolloutHref(r.id)}>${r.id}</a>` },
  { title: 'name', cell: (r) => r.name },
  { title: 'status', cell: (r) => r.status, className: (r) => `status-${r.status}` },
  { title: 'wave', cell: (r) => (r.currentWave === null ? '—' : r.waves[r.currentWave]?.name) },
  { title: 'members', cell: (r) => r.members },
  { title: 'healthy', cell: (r) => r.counts.healthy },
  { title: 'failed', cell: (r) => r.counts.failed, className: (r) => (r.counts.failed > 0 ? 'alarm' : '') },
  { title: 'created', cell: (r) => new Date(r.createdAt).toLocaleString() },
];

export function Rollouts() {
  const { data, error, reload } = useData(
    async () => (await api('/v1/rollouts?limit=100')).body.rollouts,
    [],
  );
  const later = useThrottled(reload, 1000);
  useLiveEvents((event) => {
    if (event.type.startsWith('rollout.')) later();
  });
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">loading…</p>`;
  return html`<section>
    <h2>Rollouts</h2>
    <${Table} id="rollouts" columns=${columns} rows=${data} rowKey=${(r) => r.id} empty="no rollouts yet" />
  </section>`;
}
