/**
 * The monitoring stack as the demo and `npm run cluster` run it, on loopback: Prometheus scrapes
 * node_exporter, Redis and PostgreSQL through their exporters, Alertmanager and itself (all up);
 * a rule in its rules folder that always fires, for two targets, reaches a webhook receiver
 * through Alertmanager as ONE grouped call with the bearer token; a rule file written later is
 * loaded by `POST /-/reload`, and a broken one is refused while the running rules stay.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startMonitoring } from './monitoring.ts';
import { startPostgres } from './postgres.ts';
import { startRedisServer } from './redis-server.ts';
import { waitFor } from './wait-for.ts';

interface WebhookCall {
  authorization: string | undefined;
  body: {
    status: string;
    receiver: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string>; fingerprint: string }[];
  };
}

/** A tiny HTTP receiver standing in for the gateway's webhook. */
async function startReceiver() {
  const calls: WebhookCall[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/monitoring/alertmanager')
        calls.push({
          authorization: req.headers.authorization,
          body: JSON.parse(text) as WebhookCall['body'],
        });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/monitoring/alertmanager`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The value of a fulfilled start; a rejected one's error. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

const ALWAYS_FIRING = `groups:
  - name: test
    rules:
      - alert: AlwaysFiring
        # One series per target of these two jobs: two alerts, one group.
        expr: up{job=~"node|alertmanager"} >= 0
        labels: { severity: warning }
        annotations: { summary: "{{ $labels.job }} is scraped" }
`;

describe('the monitoring stack', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dh-monitoring-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scrapes the host, Redis and PostgreSQL, and alerts a webhook through Alertmanager, grouped', async () => {
    // Both at once; whichever started is stopped at the end, even if the other failed.
    const [redisStart, postgresStart] = await Promise.allSettled([startRedisServer(), startPostgres()]);
    await using _servers = {
      [Symbol.asyncDispose]: async () => {
        for (const s of [redisStart, postgresStart])
          if (s.status === 'fulfilled') await s.value[Symbol.asyncDispose]();
      },
    };
    const redis = settled(redisStart);
    const postgres = settled(postgresStart);
    await using receiver = Object.assign(await startReceiver(), {
      [Symbol.asyncDispose]: () => receiver.close(),
    });
    // The rule that always fires is there from the start (as the default rules are in compose).
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'test.yml'), ALWAYS_FIRING);
    const token = 'test-token-0123456789abcdef';
    await using stack = await startMonitoring({
      jobs: [],
      rulesDir,
      redisUrl: redis.url,
      postgresDsn: postgres.url,
      scrapeInterval: '1s',
      alertResendDelay: '1s',
      alerts: {
        webhookUrl: receiver.url,
        bearerToken: token,
        groupBy: ['alertname'],
        groupWait: '1s',
        groupInterval: '1s',
        repeatInterval: '1h',
      },
    });
    const { prometheus } = stack;
    // Every target up: node_exporter, the exporters, Alertmanager and Prometheus itself.
    const up = await prometheus.untilTargetsUp({
      jobs: ['node', 'redis', 'postgres', 'alertmanager', 'prometheus'],
      timeoutMs: 20_000,
    });
    assert.equal(up.length, 5);
    const query = async (expr: string) => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    };
    // The exporters reach what they watch.
    await waitFor(async () => (await query('redis_up == 1')).length === 1, { message: 'redis_up 1' });
    await waitFor(async () => (await query('pg_up == 1')).length === 1, { message: 'pg_up 1' });
    assert.ok((await query('node_memory_MemTotal_bytes')).length === 1, 'node_exporter reports memory');

    // It fires for both targets: one call carries both alerts, grouped by their name.
    const call = await waitFor(
      () => receiver.calls.find((c) => c.body.status === 'firing' && c.body.alerts.length === 2),
      { timeoutMs: 20_000, message: 'the webhook called with both firing alerts' },
    );
    assert.equal(call.authorization, `Bearer ${token}`);
    assert.equal(call.body.receiver, 'devicehub');
    assert.deepEqual(call.body.groupLabels, { alertname: 'AlwaysFiring' });
    // Grouped: both targets' alerts in the one call.
    assert.deepEqual(call.body.alerts.map((a) => a.labels.job).sort(), ['alertmanager', 'node']);
    assert.ok(call.body.alerts.every((a) => a.status === 'firing' && a.labels.severity === 'warning'));
    // Every call is the one group (a first one may hold the alert whose target was scraped first).
    assert.ok(receiver.calls.every((c) => c.body.groupLabels.alertname === 'AlwaysFiring'));

    // A rule file written later (the gateway's operator.yml) is loaded by a reload …
    writeFileSync(
      join(rulesDir, 'operator.yml'),
      'groups:\n  - name: operator\n    rules:\n      - alert: Later\n        expr: up == 0\n',
    );
    await prometheus.reload();
    const groups = async () =>
      (
        (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
          data: { groups: { name: string }[] };
        }
      ).data.groups
        .map((g) => g.name)
        .sort();
    assert.deepEqual(await groups(), ['operator', 'test']);
    // … and a broken one is refused, the running rules staying.
    writeFileSync(
      join(rulesDir, 'broken.yml'),
      'groups:\n  - name: broken\n    rules:\n      - alert: X\n        expr: up ==\n',
    );
    await assert.rejects(prometheus.reload(), /refused its configuration/);
    assert.deepEqual(await groups(), ['operator', 'test']);
  });
});
