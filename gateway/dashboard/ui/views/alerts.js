/**
 * The alerts page (`#/alerts`): the alerts Alertmanager holds now (`GET /v1/monitoring/alerts`,
 * silenced ones marked) with the `server.alert` events that came over the live feed while the page
 * was open; the operator alert rules with a form to add, change and delete them (promtool's
 * message shown when it refuses one); the silences, with a form to add one and a button to expire.
 */
import { api } from '../lib/api.js';
import { html, useEffect, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { Table } from '../lib/table.js';
import { useData } from '../lib/use-data.js';

const EMPTY_RULE = {
  name: '',
  metric: '',
  op: '>',
  threshold: '0',
  forSeconds: '60',
  severity: 'warning',
  summary: '',
};

export function Alerts() {
  return html`<section>
    <h2>Alerts</h2>
    <${FiringAlerts} />
    <${AlertRules} />
    <${Silences} />
  </section>`;
}

function FiringAlerts() {
  const { data, error, reload } = useData(async () => (await api('/v1/monitoring/alerts')).body.alerts, []);
  const [events, setEvents] = useState([]);
  useEffect(() => {
    const timer = setInterval(reload, 10_000);
    return () => clearInterval(timer);
  }, [reload]);
  useLiveEvents((event) => {
    if (event.type !== 'server.alert') return;
    setEvents((list) => [event, ...list].slice(0, 50));
    reload();
  });
  const columns = [
    { title: 'alert', cell: (a) => a.alertname },
    { title: 'severity', cell: (a) => a.severity, className: (a) => `severity-${a.severity}` },
    { title: 'state', cell: (a) => (a.state === 'suppressed' ? 'silenced' : a.state) },
    { title: 'instance', cell: (a) => a.instance ?? '' },
    { title: 'summary', cell: (a) => a.summary },
    { title: 'since', cell: (a) => new Date(a.startsAt).toLocaleString() },
  ];
  const eventColumns = [
    { title: 'status', cell: (e) => e.status, className: (e) => (e.status === 'firing' ? 'alarm' : '') },
    { title: 'alert', cell: (e) => e.alertname },
    { title: 'severity', cell: (e) => e.severity },
    { title: 'summary', cell: (e) => e.summary },
    { title: 'at', cell: (e) => new Date(e.endsAt ?? e.startsAt).toLocaleString() },
  ];
  return html`<h3>Firing now</h3>
    ${error ? html`<p class="chart-error" id="firing-error">${error.message}</p>` : null}
    ${data ? html`<${Table} id="firing-alerts" columns=${columns} rows=${data} rowKey=${(a) => a.fingerprint} empty="no alerts firing" />` : null}
    ${
      events.length > 0
        ? html`<h3>Live</h3><${Table} id="alert-events" columns=${eventColumns} rows=${events} rowKey=${(e) => e.eventId} />`
        : null
    }`;
}

function AlertRules() {
  const { data, error, reload } = useData(async () => (await api('/v1/alert-rules')).body.rules, []);
  const [form, setForm] = useState(EMPTY_RULE);
  const [editing, setEditing] = useState(null);
  const [refusal, setRefusal] = useState(null);
  const field = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    const body = {
      metric: form.metric,
      op: form.op,
      threshold: Number(form.threshold),
      forSeconds: Number(form.forSeconds),
      severity: form.severity,
      summary: form.summary,
    };
    try {
      if (editing)
        await api(`/v1/alert-rules/${encodeURIComponent(editing)}`, {
          method: 'PUT',
          body: JSON.stringify(body),
        });
      else
        await api('/v1/alert-rules', { method: 'POST', body: JSON.stringify({ name: form.name, ...body }) });
      setRefusal(null);
      setForm(EMPTY_RULE);
      setEditing(null);
      reload();
    } catch (err) {
      setRefusal(err.message);
    }
  };
  const edit = (r) => {
    setEditing(r.name);
    setForm({ ...r, threshold: String(r.threshold), forSeconds: String(r.forSeconds) });
  };
  const remove = async (r) => {
    try {
      await api(`/v1/alert-rules/${encodeURIComponent(r.name)}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setRefusal(err.message);
    }
  };
  const columns = [
    { title: 'rule', cell: (r) => r.name },
    { title: 'fires when', cell: (r) => html`<code>${r.expr}</code>` },
    { title: 'for', cell: (r) => `${r.forSeconds} s` },
    { title: 'severity', cell: (r) => r.severity, className: (r) => `severity-${r.severity}` },
    { title: 'summary', cell: (r) => r.summary },
    {
      cell: (r) => html`<button class="rule-edit" onClick=${() => edit(r)}>edit</button>${' '}
        <button class="rule-delete" onClick=${() => remove(r)}>delete</button>`,
    },
  ];
  return html`<h3>Rules</h3>
    ${error ? html`<p class="chart-error">${error.message}</p>` : null}
    ${data ? html`<${Table} id="alert-rules" columns=${columns} rows=${data} rowKey=${(r) => r.name} empty="no rules yet" />` : null}
    <form id="rule-form" onSubmit=${save}>
      <input id="rule-name" placeholder="name" value=${form.name} disabled=${editing !== null} onInput=${field('name')} size="18" />${' '}
      <input id="rule-metric" placeholder="PromQL, e.g. node_load1" value=${form.metric} onInput=${field('metric')} size="40" />${' '}
      <select id="rule-op" value=${form.op} onChange=${field('op')}>${['>', '<', '>=', '<='].map((o) => html`<option>${o}</option>`)}</select>${' '}
      <input id="rule-threshold" value=${form.threshold} onInput=${field('threshold')} size="6" />${' '}
      for <input id="rule-for" value=${form.forSeconds} onInput=${field('forSeconds')} size="5" /> s${' '}
      <select id="rule-severity" value=${form.severity} onChange=${field('severity')}>
        ${['info', 'warning', 'critical'].map((s) => html`<option>${s}</option>`)}
      </select>${' '}
      <input id="rule-summary" placeholder="summary" value=${form.summary} onInput=${field('summary')} size="30" />${' '}
      <button id="rule-save" type="submit">${editing ? `save ${editing}` : 'add rule'}</button>
    </form>
    ${refusal ? html`<pre id="rule-refusal" class="chart-error">${refusal}</pre>` : null}`;
}

function Silences() {
  const { data, error, reload } = useData(async () => (await api('/v1/alert-silences')).body.silences, []);
  const [form, setForm] = useState({ alertname: '', minutes: '60', comment: '' });
  const [refusal, setRefusal] = useState(null);
  const add = async (e) => {
    e.preventDefault();
    try {
      await api('/v1/alert-silences', {
        method: 'POST',
        body: JSON.stringify({
          matchers: [{ name: 'alertname', value: form.alertname }],
          minutes: Number(form.minutes),
          comment: form.comment,
        }),
      });
      setRefusal(null);
      reload();
    } catch (err) {
      setRefusal(err.message);
    }
  };
  const expire = async (s) => {
    await api(`/v1/alert-silences/${s.id}`, { method: 'DELETE' }).catch((err) => setRefusal(err.message));
    reload();
  };
  const columns = [
    {
      title: 'matchers',
      cell: (s) =>
        s.matchers
          .map((m) => `${m.name}${m.isEqual ? '' : '!'}${m.isRegex ? '=~' : '='}"${m.value}"`)
          .join(', '),
    },
    { title: 'state', cell: (s) => s.state },
    { title: 'until', cell: (s) => new Date(s.endsAt).toLocaleString() },
    { title: 'by', cell: (s) => s.createdBy },
    { title: 'comment', cell: (s) => s.comment },
    {
      cell: (s) =>
        s.state === 'expired'
          ? ''
          : html`<button class="silence-expire" onClick=${() => expire(s)}>expire</button>`,
    },
  ];
  const field = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  return html`<h3>Silences</h3>
    ${error ? html`<p class="chart-error">${error.message}</p>` : null}
    ${data ? html`<${Table} id="alert-silences" columns=${columns} rows=${data} rowKey=${(s) => s.id} empty="no silences" />` : null}
    <form id="silence-form" onSubmit=${add}>
      alertname <input id="silence-alertname" value=${form.alertname} onInput=${field('alertname')} size="20" />${' '}
      for <input id="silence-minutes" value=${form.minutes} onInput=${field('minutes')} size="5" /> min${' '}
      <input id="silence-comment" placeholder="why" value=${form.comment} onInput=${field('comment')} size="30" />${' '}
      <button id="silence-add" type="submit">silence</button>
    </form>
    ${refusal ? html`<pre id="silence-refusal" class="chart-error">${refusal}</pre>` : null}`;
}
