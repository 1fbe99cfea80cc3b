/**
 * Operator alert rules, Alertmanager's webhook and silences against real servers: Redis, PGlite,
 * a real Prometheus (rules folder, lifecycle API) and a real Alertmanager routing to the served
 * gateway's webhook. A rule promtool refuses is a 400 with promtool's message and changes
 * nothing; a good one is loaded by Prometheus after the gateway's reload, fires, reaches the
 * webhook through Alertmanager and becomes one `server.alert` event — on /v1/events' feed and at
 * the web backend (BullMQ) — however often Alertmanager repeats it. Silences go through to
 * Alertmanager's API v2.
 */
// Redis Cluster pass: once (the outbox append is one Lua script on one tag group; the rest is HTTP).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AlertmanagerServer,
  type PrometheusServer,
  startWebBackendStandIn,
  type WebBackendStandIn,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../auth.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { auditLog } from '../db/schema.ts';
import { createGateway, type Gateway, type ServedGateway, serveGateway } from '../gateway.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { OPERATOR_GROUP, OPERATOR_RULES_FILE } from './mod.ts';
import { type AlertStack, startAlertStack } from './testdata/alert-stack.ts';

const TOKEN = 'test-webhook-token-0123456789';
let prometheus: PrometheusServer;
let alertmanager: AlertmanagerServer;
let backend: WebBackendStandIn;
let database: Database;
let gateway: Gateway;
let served: ServedGateway;
let rulesDir: string;
let stack: AlertStack;
let operator: Record<string, string>;
let service: Record<string, string>;
const seen: OutboxItem[] = [];

// Registered before useRedis's own: the gateway stops while Redis still runs.
after(async () => {
  await served?.close();
  await gateway?.stop();
  await database?.close();
  await backend?.[Symbol.asyncDispose]();
  await stack?.stop();
});
const t = useRedis();

before(async () => {
  stack = await startAlertStack({ token: TOKEN, repeatInterval: '2s' });
  ({ prometheus, alertmanager, rulesDir } = stack);
  backend = await startWebBackendStandIn();
  database = await openDatabase();
  gateway = await createGateway({
    database,
    bus: t.bus(t.keyspace()),
    leaseTtlMs: 2000,
    webBackend: { url: backend.url, partitions: 2, backoffMs: { first: 50, max: 500 } },
    monitoring: stack.monitoring,
  });
  gateway.feed.subscribe((item) => {
    if (item.event.type === 'server.alert') seen.push(item);
  });
  served = await serveGateway(gateway);
  await stack.routeTo(served.url);
  const op = await createApiKey(database.db, { name: 'op', scope: 'operator' });
  const svc = await createApiKey(database.db, { name: 'svc', scope: 'service' });
  operator = { authorization: `Bearer ${op.key}`, 'content-type': 'application/json' };
  service = { authorization: `Bearer ${svc.key}`, 'content-type': 'application/json' };
});

const call = (method: string, path: string, body?: unknown, headers = operator) =>
  gateway.app.request(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** The rules Prometheus has loaded in the operator group, by name → query. */
async function loadedRules(): Promise<Map<string, string>> {
  const res = await fetch(`${prometheus.url}/api/v1/rules?type=alert`);
  const body = (await res.json()) as {
    data: { groups: { name: string; rules: { name: string; query: string }[] }[] };
  };
  const group = body.data.groups.find((g) => g.name === OPERATOR_GROUP);
  return new Map((group?.rules ?? []).map((r) => [r.name, r.query]));
}

const rule = {
  name: 'DhTestAlwaysFiring',
  metric: 'vector(1)',
  op: '>',
  threshold: 0,
  forSeconds: 0,
  severity: 'critical',
  summary: 'Always firing (test)',
  labels: { team: 'ops' },
};

describe('operator alert rules', { timeout: 60_000 }, () => {
  it('refuses a rule with a bad expression with promtool’s message, and changes nothing', async () => {
    const res = await call('POST', '/v1/alert-rules', {
      ...rule,
      name: 'DhBroken',
      metric: 'rate(node_load1[5m',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; details: { promtool: string } } };
    assert.match(body.error.message, /^promtool refused the rule group: .*DhBroken.*parse error/);
    assert.ok(!body.error.message.includes(tmpdir()), body.error.message);
    const list = (await (await call('GET', '/v1/alert-rules')).json()) as { rules: unknown[] };
    assert.deepEqual(list.rules, []);
    assert.equal((await loadedRules()).size, 0);
  });

  it('refuses a bad name, a reserved label and a service key, naming what is wrong', async () => {
    const bad = await call('POST', '/v1/alert-rules', { ...rule, name: '9lives' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^name:/);
    const label = await call('POST', '/v1/alert-rules', { ...rule, labels: { severity: 'x' } });
    assert.equal(label.status, 400);
    assert.match(
      ((await label.json()) as { error: { message: string } }).error.message,
      /^labels\.severity:/,
    );
    assert.equal((await call('GET', '/v1/alert-rules', undefined, service)).status, 403);
  });

  it('applies a good rule to the real Prometheus, then its change and its deletion', async () => {
    const created = await call('POST', '/v1/alert-rules', rule);
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { expr: string }).expr, '(vector(1)) > 0');
    assert.equal((await call('POST', '/v1/alert-rules', rule)).status, 409);
    const loaded = await waitFor(async () => (await loadedRules()).get(rule.name), {
      timeoutMs: 20_000,
      message: 'the rule loaded in Prometheus',
    });
    assert.equal(loaded, '(vector(1)) > 0');
    assert.ok(existsSync(join(rulesDir, OPERATOR_RULES_FILE)));

    const badPut = await call('PUT', `/v1/alert-rules/${rule.name}`, {
      ...rule,
      name: undefined,
      metric: 'sum(',
    });
    assert.equal(badPut.status, 400);
    const before = readFileSync(join(rulesDir, OPERATOR_RULES_FILE), 'utf8');
    const put = await call('PUT', `/v1/alert-rules/${rule.name}`, {
      ...rule,
      name: undefined,
      threshold: 0.5,
    });
    assert.equal(put.status, 200);
    await waitFor(async () => (await loadedRules()).get(rule.name) === '(vector(1)) > 0.5', {
      timeoutMs: 20_000,
      message: 'the changed rule loaded',
    });
    assert.notEqual(readFileSync(join(rulesDir, OPERATOR_RULES_FILE), 'utf8'), before);
    const audited = await database.db.select().from(auditLog);
    assert.deepEqual(
      audited.filter((a) => a.target === `alert-rule/${rule.name}`).map((a) => a.action),
      ['alert-rule.create', 'alert-rule.update'],
    );
    const metrics = await (await gateway.app.request('/metrics')).text();
    assert.match(metrics, /devicehub_alert_rules_applied\{outcome="applied"\} [1-9]/);
  });

  it('turns the firing alert into one server.alert event on the live feed and at the web backend', async () => {
    const fired = await waitFor(() => seen.find((i) => i.event.alertname === rule.name), {
      timeoutMs: 30_000,
      message: 'the alert on /v1/events’ feed',
    });
    assert.equal(fired.event.status, 'firing');
    assert.equal(fired.event.severity, 'critical');
    assert.equal(fired.event.summary, 'Always firing (test)');
    assert.equal((fired.event.labels as Record<string, string>).team, 'ops');
    await waitFor(() => backend.events.has(fired.id), {
      timeoutMs: 20_000,
      message: 'the event at the web backend',
    });
    // Alertmanager repeats the group every 2 s; wait for a repeat, then count: still one.
    const webhookCalls = () =>
      Number(/alertmanager_notifications_total\{integration="webhook"\} (\d+)/.exec(amMetrics)?.[1] ?? 0);
    let amMetrics = await (await fetch(`${alertmanager.url}/metrics`)).text();
    const calls = webhookCalls();
    await waitFor(
      async () => {
        amMetrics = await (await fetch(`${alertmanager.url}/metrics`)).text();
        return webhookCalls() > calls;
      },
      { timeoutMs: 20_000, message: 'Alertmanager repeating the notification' },
    );
    const firing = [...backend.events.values()].filter(
      (e) =>
        (e as { alertname?: string }).alertname === rule.name &&
        (e as { status?: string }).status === 'firing',
    );
    assert.equal(firing.length, 1);
    assert.equal(
      seen.filter((i) => i.event.alertname === rule.name && i.event.status === 'firing').length,
      1,
    );
  });

  it('deletes the rule: Prometheus drops it and the alert resolves', async () => {
    assert.equal((await call('DELETE', `/v1/alert-rules/${rule.name}`)).status, 204);
    assert.equal((await call('DELETE', `/v1/alert-rules/${rule.name}`)).status, 404);
    await waitFor(async () => !(await loadedRules()).has(rule.name), {
      timeoutMs: 20_000,
      message: 'rule gone',
    });
  });
});

describe('Alertmanager’s webhook', () => {
  const notification = (status: 'firing' | 'resolved') => ({
    version: '4',
    status,
    receiver: 'devicehub',
    groupKey: '{}:{alertname="DiskFull"}',
    alerts: [
      {
        status,
        labels: { alertname: 'DiskFull', severity: 'warning', instance: 'host-1:9100' },
        annotations: { summary: 'Disk 95% full' },
        startsAt: '2026-11-30T10:00:00.000Z',
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-30T10:05:00.000Z',
        generatorURL: 'http://prometheus/graph',
        fingerprint: 'a1b2c3d4e5f60718',
      },
    ],
  });
  const post = (body: unknown, token = TOKEN) =>
    gateway.app.request('/v1/monitoring/alertmanager', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses a wrong token with 401', async () => {
    assert.equal((await post(notification('firing'), 'wrong')).status, 401);
    const none = await gateway.app.request('/v1/monitoring/alertmanager', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...{ authorization: operator.authorization! } },
      body: JSON.stringify(notification('firing')),
    });
    assert.equal(none.status, 401);
    // The token is checked before the body is read: a big body without it is a 401 too.
    const big = { ...notification('firing'), padding: 'x'.repeat(2 * 1024 * 1024) };
    assert.equal((await post(big, 'wrong')).status, 401);
  });

  it('appends each alert state once, firing then resolved, in order', async () => {
    assert.deepEqual(await (await post(notification('firing'))).json(), { events: 1, repeats: 0 });
    assert.deepEqual(await (await post(notification('firing'))).json(), { events: 0, repeats: 1 });
    assert.deepEqual(await (await post(notification('resolved'))).json(), { events: 1, repeats: 0 });
    const states = await waitFor(
      () => {
        const s = seen.filter((i) => i.event.alertname === 'DiskFull');
        return s.length >= 2 ? s : undefined;
      },
      { timeoutMs: 10_000, message: 'both states on the feed' },
    );
    assert.deepEqual(
      states.map((s) => [s.event.status, s.event.endsAt]),
      [
        ['firing', undefined],
        ['resolved', '2026-11-30T10:05:00.000Z'],
      ],
    );
    assert.equal(states[0]!.event.instance, 'host-1:9100');
    assert.equal(states[0]!.event.startsAt, '2026-11-30T10:00:00.000Z');
    await waitFor(() => states.every((s) => backend.events.has(s.id)), {
      timeoutMs: 10_000,
      message: 'both at the web backend',
    });
  });

  it('counts each alert of a notification of several: new ones as events, sent ones as repeats', async () => {
    const [alert] = notification('firing').alerts;
    const of = (fingerprints: string[]) => ({
      ...notification('firing'),
      alerts: fingerprints.map((fingerprint) => ({
        ...alert!,
        labels: { ...alert!.labels, alertname: 'DiskFullMany' },
        fingerprint,
      })),
    });
    assert.deepEqual(await (await post(of(['b1', 'b2', 'b3']))).json(), { events: 3, repeats: 0 });
    assert.deepEqual(await (await post(of(['b1', 'b2', 'b3', 'b4']))).json(), { events: 1, repeats: 3 });
    const many = await waitFor(
      () => {
        const s = seen.filter((i) => i.event.alertname === 'DiskFullMany');
        return s.length >= 4 ? s : undefined;
      },
      { timeoutMs: 10_000, message: 'the four alerts on the feed' },
    );
    assert.deepEqual(many.map((s) => s.event.fingerprint).sort(), ['b1', 'b2', 'b3', 'b4']);
  });
});

describe('silences', () => {
  it('creates, lists and expires a silence in the real Alertmanager; refuses bad ones naming the field', async () => {
    const refused = await call('POST', '/v1/alert-silences', {
      matchers: [{ name: 'alertname', value: 'DiskFull' }],
      comment: 'maintenance',
    });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /^endsAt:/);
    const badName = await call('POST', '/v1/alert-silences', {
      matchers: [{ name: 'bad-name', value: 'x' }],
      minutes: 10,
      comment: 'x',
    });
    assert.equal(badName.status, 400);
    assert.match(
      ((await badName.json()) as { error: { message: string } }).error.message,
      /^matchers\.0\.name:/,
    );

    const created = await call('POST', '/v1/alert-silences', {
      matchers: [{ name: 'alertname', value: 'DiskFull' }],
      minutes: 60,
      comment: 'maintenance',
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const list = (await (await call('GET', '/v1/alert-silences')).json()) as {
      silences: { id: string; state: string; createdBy: string }[];
    };
    const silence = list.silences.find((s) => s.id === id);
    assert.equal(silence?.state, 'active');
    assert.equal(silence?.createdBy, 'key:op');
    assert.equal((await call('DELETE', `/v1/alert-silences/${id}`)).status, 204);
    const after = (await (await call('GET', '/v1/alert-silences')).json()) as {
      silences: { id: string; state: string }[];
    };
    assert.equal(after.silences.find((s) => s.id === id)?.state, 'expired');
    const unknown = await call('DELETE', '/v1/alert-silences/00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
  });
});
