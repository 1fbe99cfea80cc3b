/**
 * Remote access on an edge's page: open a tunnel (SSH, the camera and the console for 30 minutes),
 * its services and how to connect, the browser terminal, closing it, and the recent tunnels.
 */
import { api } from '../lib/api.js';
import { html, useEffect, useState } from '../lib/html.js';
import { Table } from '../lib/table.js';
import { logsAround } from './logs.js';
import { Terminal } from './terminal.js';

const recentColumns = [
  { cell: (x) => html`<code>${x.id}</code>` },
  { cell: (x) => x.state },
  { cell: (x) => x.reason ?? '' },
  { cell: (x) => x.requestedBy },
  { cell: (x) => x.requestedAt },
  { cell: (x) => html`<a class="tunnel-logs" href=${logsAround(x.edgeId, x.requestedAt)}>logs</a>` },
];

function Service({ service: s }) {
  const target =
    s.name !== 'ssh' && s.connect?.startsWith('http')
      ? html`<a target="_blank" href=${s.connect}>${s.connect}</a>`
      : html`<code>${s.connect ?? ''}</code>`;
  return html`<li>${s.name}: ${target}</li>`;
}

function OpenTunnel({ tunnel, onTerminal, onClose }) {
  return html`
    <p>
      Tunnel <code>${tunnel.id}</code>: <b id="tunnel-state">${tunnel.state}</b> · closes by itself at${' '}
      ${new Date(tunnel.expiresAt).toLocaleTimeString()}
    </p>
    <ul>${tunnel.services.map((s) => html`<${Service} key=${s.name} service=${s} />`)}</ul>
    <button id="terminal-open" disabled=${tunnel.state !== 'open'} onClick=${onTerminal}>Terminal</button>${' '}
    <button class="plain" id="tunnel-close" onClick=${onClose}>Close the connection</button>
  `;
}

export function RemoteAccess({ id, tunnels, reload }) {
  const [terminalFor, setTerminalFor] = useState(undefined);
  const open = tunnels.find((x) => x.state === 'open' || x.state === 'requested');
  useEffect(() => {
    if (open?.state !== 'requested') return;
    const timer = setTimeout(reload, 500);
    return () => clearTimeout(timer);
  }, [open?.id, open?.state, reload]);

  const openTunnel = async () => {
    await api(`/v1/edges/${id}/tunnels`, {
      method: 'POST',
      body: JSON.stringify({ services: ['ssh', 'camera', 'console'] }),
    });
    await reload();
  };
  const closeTunnel = async () => {
    await api(`/v1/edges/${id}/tunnels/${open.id}`, { method: 'DELETE' });
    setTimeout(reload, 500);
  };

  return html`<section>
    <h2>Remote access</h2>
    ${
      open
        ? html`<${OpenTunnel} tunnel=${open} onTerminal=${() => setTerminalFor(open.id)} onClose=${closeTunnel} />`
        : html`<button id="tunnel-open" onClick=${openTunnel}>Open remote connection</button>${' '}
            <span class="muted">SSH, the camera and the console for 30 minutes</span>`
    }
    <${Terminal} edgeId=${id} tunnelId=${terminalFor} />
    <h2 class="spaced">Recent tunnels</h2>
    <${Table} id="recent-tunnels" columns=${recentColumns} rows=${tunnels.slice(0, 8)} rowKey=${(x) => x.id} />
  </section>`;
}
