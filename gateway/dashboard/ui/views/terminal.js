/**
 * The browser terminal: xterm.js over `/v1/edges/<id>/tunnels/<tunnelId>/terminal` (the gateway is
 * the SSH client). Preact renders the box and never its content, so redrawing the page around it
 * keeps the session; leaving the page closes the socket. `window.devicehubTerminal` is the open
 * terminal (the browser test reads its buffer).
 */
import { Terminal as XTerm } from '@xterm/xterm';
import { openSocket } from '../lib/api.js';
import { html, useEffect, useRef } from '../lib/html.js';

export function Terminal({ edgeId, tunnelId }) {
  const box = useRef(null);
  useEffect(() => {
    if (!tunnelId) return;
    const term = new XTerm({ fontSize: 13, cursorBlink: true });
    term.open(box.current);
    const ws = openSocket(`/v1/edges/${edgeId}/tunnels/${tunnelId}/terminal`);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
      term.focus();
    };
    ws.onmessage = (m) => term.write(new Uint8Array(m.data));
    ws.onclose = (e) => term.write(`\r\n[connection closed${e.reason ? `: ${e.reason}` : ''}]\r\n`);
    term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(new TextEncoder().encode(d)));
    window.devicehubTerminal = term;
    return () => {
      ws.onclose = null;
      ws.close();
      term.dispose();
    };
  }, [edgeId, tunnelId]);
  return html`<div id="terminal" class=${tunnelId ? 'active' : ''} ref=${box}></div>`;
}
