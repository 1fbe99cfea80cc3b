/**
 * The servers page's top: the alerts Prometheus's rules fire now (`GET /v1/servers/alerts`), most
 * severe first, loaded every 10 s and at once when a `server.alert` event comes over the live feed.
 */
import { api } from '../lib/api.js';
import { ago } from '../lib/format.js';
import { html, useEffect } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { Table } from '../lib/table.js';
import { useData } from '../lib/use-data.js';

const columns = [
  { title: 'alert', cell: (a) => a.alertname },
  { title: 'severity', cell: (a) => a.severity, className: (a) => `severity-${a.severity}` },
  { title: 'state', cell: (a) => a.state },
  { title: 'instance', cell: (a) => a.instance ?? '' },
  { title: 'summary', cell: (a) => a.summary },
  { title: 'since', cell: (a) => ago(a.activeAt) },
];

export function ServerAlerts() {
  const { data, error, reload } = useData(async () => (await api('/v1/servers/alerts')).body.alerts, []);
  useEffect(() => {
    const timer = setInterval(reload, 10_000);
    return () => clearInterval(timer);
  }, [reload]);
  useLiveEvents((event) => {
    if (event.type === 'server.alert') reload();
  });
  const firing = (data ?? []).filter((a) => a.state === 'firing').length;
  return html`<section id="server-alerts-box">
    <h2>Alerts ${data ? html`<span class=${firing ? 'alarm' : 'muted'}>(${firing} firing)</span>` : null}</h2>
    ${error ? html`<p class="chart-error">${error.message}</p>` : null}
    ${
      data
        ? html`<${Table}
          id="server-alerts"
          columns=${columns}
          rows=${data}
          rowKey=${(a) => `${a.alertname}|${a.instance ?? ''}|${a.activeAt}`}
          empty="no alerts firing"
        />`
        : null
    }
  </section>`;
}
