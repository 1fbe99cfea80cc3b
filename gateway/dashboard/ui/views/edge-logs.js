/**
 * Logs on an edge's page: a link to its last hour of logs, and "debug for an hour" — the edge's
 * log level turned to `debug` for 60 minutes through `POST /v1/edges/{id}/log-level` (the agent
 * goes back to its configured level by itself when the hour is over).
 */
import { api } from '../lib/api.js';
import { html, useState } from '../lib/html.js';
import { logsHref } from './logs.js';

const HOUR_MS = 3600_000;

export function EdgeLogs({ id }) {
  const [status, setStatus] = useState('');
  const debugForAnHour = async () => {
    setStatus('asking…');
    try {
      const { body } = await api(`/v1/edges/${encodeURIComponent(id)}/log-level`, {
        method: 'POST',
        body: JSON.stringify({ level: 'debug', minutes: 60 }),
      });
      const until = body?.until ? new Date(body.until) : new Date(Date.now() + HOUR_MS);
      setStatus(`debug until ${until.toLocaleTimeString()}`);
    } catch (error) {
      setStatus(`not changed: ${error.message}`);
    }
  };
  // The last hour, counted when the link is followed.
  const from = () => String(Date.now() - HOUR_MS);
  return html`<span class="edge-logs">
    <a id="edge-logs" href=${logsHref({ edge: id })} onClick=${(e) => {
      e.preventDefault();
      location.hash = logsHref({ edge: id, from: from() });
    }}>logs</a>${' '}
    <button class="plain" id="edge-debug-hour" onClick=${debugForAnHour}>debug for an hour</button>${' '}
    <span id="edge-log-level" class="muted">${status}</span>
  </span>`;
}
