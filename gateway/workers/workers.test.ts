/**
 * `devicehub gateway --workers 2`, for real: two worker processes on one port (node:cluster).
 * Long-polls spread over both are all woken by a configuration change made through one of them
 * (the fleet view of every process hears it on Redis); /metrics answers for both (the long-polls
 * held counted over the two); the web-backend delivery, a lease-held job, delivers each event
 * once and in order; SIGTERM stops the primary and both workers.
 * Redis Cluster pass: once
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { MetricType } from 'prom-client';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import {
  type DevicehubProcess,
  type PostgresServer,
  spawnDevicehub,
  startPostgres,
  startWebBackendStandIn,
  type WebBackendStandIn,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../api-keys.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { mergeMetrics } from './mod.ts';

const t = useRedis();
const POLLS = 8;

/** One request on a connection of its own (so the primary hands each to the next worker). */
function send(
  url: string,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(o.path, url),
      { method: o.method ?? 'GET', headers: o.headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('devicehub gateway --workers 2', { timeout: 60_000 }, () => {
  let postgres: PostgresServer;
  let database: Database;
  let backend: WebBackendStandIn;
  let gateway: DevicehubProcess;
  let url = '';
  let operator = '';
  const keyspace = t.keyspace();

  before(async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase(`gateway_workers_${process.pid}`);
    backend = await startWebBackendStandIn();
    gateway = spawnDevicehub(
      [
        'gateway',
        ...t.cliArgs(keyspace),
        ...['--workers', '2', '--port', '0', '--database-url', databaseUrl],
        ...['--web-backend-url', backend.url, '--web-backend-partitions', '4'],
      ],
      { name: 'gateway --workers 2' },
    );
    url = String((await gateway.ready).url);
    database = await openDatabase({ url: databaseUrl });
    operator = (await createApiKey(database.db, { name: 'workers-test', scope: 'operator' })).key;
  });
  after(async () => {
    await gateway?.kill();
    await database?.close();
    await backend?.close();
    await postgres?.stop();
  });

  it('answers a re-poll 304 before the app, and leaves everything else to it', async () => {
    const auth = { authorization: `Bearer ${operator}` };
    const path = '/v1/config/devicehub/fast-path';
    const first = await send(url, { path, headers: auth });
    assert.equal(first.status, 200, first.body);
    assert.ok(first.headers['x-request-id'], 'the app answered the first fetch');
    const etag = String(first.headers.etag);
    // Both workers: the credentials are cached in each once it has looked them up.
    for (let i = 0; i < 4; i++) await send(url, { path, headers: { ...auth, 'if-none-match': etag } });
    const again = await send(url, { path, headers: { ...auth, 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers['x-request-id'], undefined, 'answered before the app');
    const stranger = await send(url, {
      path,
      headers: { authorization: 'Bearer dhk_not-a-key', 'if-none-match': etag },
    });
    assert.equal(stranger.status, 401, 'unknown credentials still go to the app');
    const stale = await send(url, { path, headers: { ...auth, 'if-none-match': '"stale"' } });
    assert.equal(stale.status, 200);
  });

  it('wakes long-polls in every worker on a change made through one, and counts them over both', async () => {
    const auth = { authorization: `Bearer ${operator}` };
    const path = '/v1/config/devicehub/worker-test';
    const first = await send(url, { path, headers: auth });
    assert.equal(first.status, 200, first.body);
    const etag = String(first.headers.etag);
    const polls = Array.from({ length: POLLS }, () =>
      send(url, { path: `${path}?wait=30`, headers: { ...auth, 'if-none-match': etag } }),
    );
    // Held by both workers: the merged /metrics counts the polls over the two processes.
    await waitFor(
      async () =>
        /^devicehub_config_long_polls (\d+)$/m.exec((await send(url, { path: '/metrics' })).body)?.[1] ===
        String(POLLS),
      { timeoutMs: 15_000, message: `${POLLS} long-polls held over both workers` },
    );
    const put = await send(url, {
      method: 'PUT',
      path: '/v1/config/devicehub/global',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ workerTest: 1 }),
    });
    assert.equal(put.status, 200, put.body);
    const answers = await Promise.all(polls);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(POLLS).fill(200),
    );
    for (const a of answers) assert.equal((JSON.parse(a.body) as { workerTest?: number }).workerTest, 1);
  });

  it('delivers each fleet event once, in order per edge, with both workers sharing the delivery leases', async () => {
    const node = await t.hub(keyspace);
    try {
      const client = createActorClient(t.bus(keyspace), edgeActor);
      const edges = ['W-1', 'W-2', 'W-3', 'W-4'];
      for (const edgeId of edges) {
        await client.send(edgeId, 'alarm', { alarm: 'a1', phase: 'start', data: {} });
        await client.send(edgeId, 'alarm', { alarm: 'a1', phase: 'end', data: {} });
      }
      // Each edge: its edge.online, the alarm's start and its end.
      const expected = edges.length * 3;
      await waitFor(() => backend.stats.delivered >= expected, {
        timeoutMs: 30_000,
        message: `${expected} events delivered`,
      });
      assert.equal(backend.stats.delivered, expected);
      assert.equal(backend.stats.duplicates, 0);
      assert.equal(backend.stats.outOfOrder, 0);
    } finally {
      await node.stop();
    }
  });

  it('stops the primary and both workers on SIGTERM', async () => {
    await gateway.stop();
    assert.equal(await gateway.exited, 0);
    await assert.rejects(send(url, { path: '/healthz' }));
  });
});

describe('merged /metrics', () => {
  it('sums what each process counts and keeps one reading of what every worker reads from Redis', async () => {
    const worker = (requests: number, fleet: number) => [
      {
        name: 'devicehub_http_errors_total',
        help: 'h',
        type: 'counter' as unknown as MetricType,
        aggregator: 'sum' as const,
        values: [{ value: requests, labels: { status: '500' } }],
      },
      {
        name: 'devicehub_fleet_edges',
        help: 'h',
        type: 'gauge' as unknown as MetricType,
        aggregator: 'sum' as const,
        values: [{ value: fleet, labels: {} }],
      },
    ];
    const text = await mergeMetrics([worker(2, 50_000), worker(3, 50_000)]);
    assert.match(text, /^devicehub_http_errors_total\{status="500"\} 5$/m);
    assert.match(text, /^devicehub_fleet_edges 50000$/m);
  });
});
