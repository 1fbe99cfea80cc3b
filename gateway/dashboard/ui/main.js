/**
 * The dashboard's entry: sign in, the live-events feed and the router (`#/` the overview,
 * `#/edges/<id>` an edge's page, `#/rollouts` the rollouts, `#/rollouts/<id>` one rollout,
 * `#/alarms?<filters>` the alarm history, `#/clips/<id>` an alarm clip, `#/logs?<filters>` the logs,
 * `#/servers?range=` the servers' live charts, `#/alerts` alerts, their rules and silences).
 * Each view is a module in `views/`; shared pieces in `lib/`.
 */
import { key } from './lib/api.js';
import { html, render, useEffect, useState } from './lib/html.js';
import { startLiveEvents } from './lib/live.js';
import { Alarms } from './views/alarms.js';
import { Alerts } from './views/alerts.js';
import { ClipPage } from './views/clip-page.js';
import { EdgePage } from './views/edge-page.js';
import { Login } from './views/login.js';
import { Logs } from './views/logs.js';
import { Overview } from './views/overview.js';
import { RolloutPage } from './views/rollout-page.js';
import { Rollouts } from './views/rollouts.js';
import { Servers } from './views/servers.js';

function App() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onHashChange = () => setHash(location.hash);
    addEventListener('hashchange', onHashChange);
    return () => removeEventListener('hashchange', onHashChange);
  }, []);
  const edge = /^#\/edges\/(.+)$/.exec(hash);
  if (edge) return html`<${EdgePage} key=${edge[1]} id=${decodeURIComponent(edge[1])} />`;
  const rollout = /^#\/rollouts\/(.+)$/.exec(hash);
  if (rollout) return html`<${RolloutPage} key=${rollout[1]} id=${decodeURIComponent(rollout[1])} />`;
  if (hash === '#/rollouts') return html`<${Rollouts} />`;
  const alarms = /^#\/alarms(?:\?(.*))?$/.exec(hash);
  if (alarms) return html`<${Alarms} params=${new URLSearchParams(alarms[1] ?? '')} />`;
  const logs = /^#\/logs(?:\?(.*))?$/.exec(hash);
  if (logs) return html`<${Logs} params=${new URLSearchParams(logs[1] ?? '')} />`;
  const servers = /^#\/servers(?:\?(.*))?$/.exec(hash);
  if (servers) return html`<${Servers} params=${new URLSearchParams(servers[1] ?? '')} />`;
  if (hash === '#/alerts') return html`<${Alerts} />`;
  const clip = /^#\/clips\/(.+)$/.exec(hash);
  if (clip) return html`<${ClipPage} key=${clip[1]} id=${decodeURIComponent(clip[1])} />`;
  return html`<${Overview} />`;
}

const main = document.getElementById('main');
if (!key) render(html`<${Login} />`, main);
else {
  document.getElementById('who').textContent = 'signed in with an API key';
  const live = document.getElementById('live');
  startLiveEvents((text) => {
    live.textContent = text;
  });
  render(html`<${App} />`, main);
}
