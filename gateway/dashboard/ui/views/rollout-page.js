/**
 * A rollout's page (`#/rollouts/<id>`): its status and reason, the levers (pause, resume, abort,
 * roll back — each enabled where the status takes it), its waves with progress bars (healthy,
 * failed, in flight of the wave's members) and the health comparison's numbers. Reloads on the
 * rollout's live events and every 3 s (the actor checkpoints its counts).
 */
import { api } from '../lib/api.js';
import { html, useEffect, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { Table } from '../lib/table.js';
import { useThrottled } from '../lib/throttle.js';
import { useData } from '../lib/use-data.js';
import { Failure } from './failure.js';

const LEVERS = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  rollback: ['running', 'paused', 'completed', 'aborted'],
};

const pct = (n, of) => (of > 0 ? (100 * n) / of : 0);
const num = (x, digits = 2) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

function WaveBar({ wave }) {
  const m = wave.members;
  return html`<div class="bar" title=${`${wave.healthy} healthy, ${wave.failed} failed, ${wave.inFlight} in flight of ${m}`}>
    <span class="ok" style=${`width:${pct(wave.healthy, m)}%`}></span>
    <span class="bad" style=${`width:${pct(wave.failed + wave.reverted, m)}%`}></span>
    <span class="flight" style=${`width:${pct(wave.inFlight, m)}%`}></span>
  </div>`;
}

const waveColumns = [
  { title: 'wave', cell: (w) => w.name },
  { title: 'state', cell: (w) => w.state, className: (w) => `wave-${w.state}` },
  { title: 'progress', cell: (w) => html`<${WaveBar} wave=${w} />`, className: () => 'progress' },
  {
    title: 'healthy / members',
    cell: (w) =>
      `${w.healthy} / ${w.members} (${pct(w.healthy, w.members).toFixed(0)} %, gate ${w.successPercent} %)`,
  },
  { title: 'failed', cell: (w) => w.failed + w.reverted, className: (w) => (w.failed > 0 ? 'alarm' : '') },
  { title: 'in flight', cell: (w) => w.inFlight },
  { title: 'hold', cell: (w) => `${w.holdSeconds} s` },
];

function Health({ health }) {
  const rows = [
    ['updated', health.updated],
    ['not yet updated', health.notUpdated],
  ];
  return html`<div>
    <h2>Health comparison</h2>
    <table id="health">
      <tr><th></th><th>edges</th><th>events</th><th>edge-hours</th><th>events / edge-hour</th></tr>
      ${rows.map(
        ([name, s]) =>
          html`<tr><td>${name}</td><td>${s.edges}</td><td>${s.events}</td><td>${num(s.edgeHours)}</td><td>${num(s.rate)}</td></tr>`,
      )}
    </table>
    <p id="health-test" class=${health.significant ? 'alarm' : 'muted'}>
      rate ratio ${num(health.ratio)} · p-value ${num(health.pValue, 4)} · α ${health.alpha}${health.significant ? ' · significantly worse: paused' : ''}
    </p>
  </div>`;
}

export function RolloutPage({ id }) {
  const { data, error, reload } = useData(
    async () => (await api(`/v1/rollouts/${encodeURIComponent(id)}`)).body,
    [id],
  );
  const [result, setResult] = useState('');
  const later = useThrottled(reload, 500);
  useLiveEvents((event) => {
    if (event.rollout === id) later();
  });
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [reload]);
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">loading…</p>`;
  const pull = async (lever) => {
    try {
      await api(`/v1/rollouts/${encodeURIComponent(id)}/${lever}`, { method: 'POST', body: '{}' });
      setResult(`${lever} sent`);
      later();
    } catch (e) {
      setResult(e.message);
    }
  };
  return html`
    <section>
      <h2>
        ${data.name} <code>${data.id}</code> <span id="r-status" class=${`status-${data.status}`}>${data.status}</span>
        ${data.reason && html` <span id="r-reason" class="muted">${data.reason}</span>`}
      </h2>
      <p class="muted">
        filter <code>${data.filter || '(every edge)'}</code> · ${data.members} members · created by ${data.createdBy},
        ${new Date(data.createdAt).toLocaleString()}
      </p>
      <div class="levers">
        ${Object.entries(LEVERS).map(
          ([lever, allowed]) =>
            html`<button id=${`r-${lever}`} class=${lever === 'pause' ? '' : 'plain'} disabled=${!allowed.includes(data.status)} onClick=${() => pull(lever)}>${lever}</button> `,
        )}
        <span id="r-result" class="muted">${result}</span>
      </div>
    </section>
    <section>
      <h2>Waves</h2>
      <${Table} id="waves" columns=${waveColumns} rows=${data.waves} rowKey=${(w) => w.index} />
    </section>
    <section><${Health} health=${data.health} /></section>
  `;
}
