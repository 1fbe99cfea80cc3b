/**
 * An edge's page (`#/edges/<id>`): its state and shadow, the effective configuration, its second
 * looks (the frames with the model's boxes), its installed versions and update history, its dead
 * letters (operator scope; left out when the key may not read them) and remote access. Reloads
 * when one of its tunnels changes state; the updates when it reports an update state.
 */
import { api } from '../lib/api.js';
import { ago, pretty } from '../lib/format.js';
import { html, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { useData } from '../lib/use-data.js';
import { alarmsHref } from './alarms.js';
import { DeadLetters } from './dead-letters.js';
import { EdgeLogs } from './edge-logs.js';
import { EdgeUpdates } from './edge-updates.js';
import { EdgeVerdicts } from './edge-verdicts.js';
import { Failure } from './failure.js';
import { RemoteAccess } from './remote-access.js';

async function loadEdge(id) {
  const [{ body: edge }, config, { body: tunnels }, dead] = await Promise.all([
    api(`/v1/edges/${id}`),
    api(`/v1/config/edge/${id}`).then(
      (r) => r.body,
      (e) => ({ error: e.message }),
    ),
    api(`/v1/edges/${id}/tunnels`),
    api(`/v1/dead-letters?edge=${encodeURIComponent(id)}&limit=5`).then(
      (r) => r.body,
      () => null,
    ),
  ]);
  return { edge, config, tunnels: tunnels.tunnels, dead };
}

export function EdgePage({ id }) {
  const { data, error, reload } = useData(() => loadEdge(id), [id]);
  const [updates, setUpdates] = useState(0);
  useLiveEvents((event) => {
    if (event.edgeId === id && event.type === 'tunnel.state') reload();
    if (event.edgeId === id && event.type === 'update.state') setUpdates((n) => n + 1);
  });
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">loading…</p>`;
  const { edge, config, tunnels, dead } = data;
  const shadow = { status: edge.status, birth: edge.birth, health: edge.health, openAlarms: edge.openAlarms };
  return html`
    <section>
      <h2>
        ${id} <span class=${edge.online ? 'on' : 'off'}>${edge.online ? 'online' : 'offline'}</span>${' '}
        <span class="muted">last seen ${ago(edge.lastSeen)} · node ${edge.node ?? '—'} · ${edge.transport ?? ''}</span>${' '}
        <a id="edge-alarms" href=${alarmsHref({ edge: id })}>alarms and clips</a>${' '}
        <${EdgeLogs} id=${id} />
      </h2>
      <div class="grid">
        <div><h2>Shadow</h2><pre id="shadow">${pretty(shadow)}</pre></div>
        <div><h2>Effective configuration</h2><pre id="effective-config">${pretty(config)}</pre></div>
      </div>
      ${dead && html`<${DeadLetters} dead=${dead} />`}
    </section>
    <${EdgeVerdicts} id=${id} />
    <${EdgeUpdates} id=${id} version=${updates} />
    <${RemoteAccess} id=${id} tunnels=${tunnels} reload=${reload} />
  `;
}
