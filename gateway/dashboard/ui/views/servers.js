/**
 * The servers page (`#/servers?range=1h`): the alerts firing on top, then every host Prometheus
 * scrapes (node_exporter) with live charts of its CPU, memory, disk and network; the processes
 * (the hub's own /metrics, the exporters) with their health and charts of CPU and RSS; and the
 * hub nodes' messages per second, p99 latency and the mailbox backlog. Charts refresh every 5 s
 * (lib/chart.js); the lists every 15 s.
 */
import { api } from '../lib/api.js';
import { Chart } from '../lib/chart.js';
import { ago } from '../lib/format.js';
import { html, useEffect } from '../lib/html.js';
import { Table } from '../lib/table.js';
import { useData } from '../lib/use-data.js';
import { Failure } from './failure.js';
import { ServerAlerts } from './server-alerts.js';

const RANGES = ['15m', '1h', '6h', '24h'];

const health = (t) => html`<span class=${t.up ? 'on' : 'alarm'}>${t.up ? 'up' : 'down'}</span>`;

const processColumns = [
  { title: 'job', cell: (p) => p.job },
  { title: 'instance', cell: (p) => p.instance },
  { title: 'health', cell: health },
  { title: 'last scrape', cell: (p) => ago(p.lastScrape) },
  { title: 'last error', cell: (p) => p.lastError, className: () => 'muted' },
];

function Host({ host, range }) {
  return html`<section class="host" data-instance=${host.instance}>
    <h2>${host.name} <span class="muted">${host.instance}</span> ${health(host)}</h2>
    ${host.up ? null : html`<p class="chart-error">${host.lastError || 'not scraped yet'}</p>`}
    <div class="charts">
      <${Chart} panel="cpu" title="CPU busy" range=${range} host=${host.instance} />
      <${Chart} panel="memory" title="Memory used" range=${range} host=${host.instance} />
      <${Chart} panel="disk" title="Disk used" range=${range} host=${host.instance} />
      <${Chart} panel="network" title="Network" range=${range} host=${host.instance} />
    </div>
  </section>`;
}

function RangePicker({ range }) {
  return html`<p class="spaced" id="servers-range">
    range:
    ${RANGES.map((r) => [
      ' ',
      r === range ? html`<b>${r}</b>` : html`<a href=${`#/servers?range=${r}`} data-range=${r}>${r}</a>`,
    ])}
  </p>`;
}

export function Servers({ params }) {
  const range = RANGES.includes(params.get('range')) ? params.get('range') : '1h';
  const { data, error, reload } = useData(async () => (await api('/v1/servers')).body, []);
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    return () => clearInterval(timer);
  }, [reload]);

  if (error && !data) return html`<${ServerAlerts} /><${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">loading…</p>`;
  return html`
    <${ServerAlerts} />
    <${RangePicker} range=${range} />
    ${error ? html`<p class="chart-error">${error.message}</p>` : null}
    <h2 class="page-part">Hosts</h2>
    ${data.hosts.length === 0 ? html`<section class="muted">Prometheus scrapes no node_exporter.</section>` : null}
    ${data.hosts.map((h) => html`<${Host} key=${h.instance} host=${h} range=${range} />`)}
    <h2 class="page-part">Processes</h2>
    <section>
      <${Table} id="processes" columns=${processColumns} rows=${data.processes} rowKey=${(p) => `${p.job}|${p.instance}`} empty="none" />
      <div class="charts">
        <${Chart} panel="process-cpu" title="CPU (100 % = one core)" range=${range} />
        <${Chart} panel="process-rss" title="Memory (RSS)" range=${range} />
      </div>
    </section>
    <h2 class="page-part">Hub nodes</h2>
    <section id="hub-node-charts">
      <div class="charts">
        <${Chart} panel="messages" title="Messages handled" range=${range} />
        <${Chart} panel="p99" title="Latency p99" range=${range} />
        <${Chart} panel="backlog" title="Mailbox backlog" range=${range} />
      </div>
    </section>
  `;
}
