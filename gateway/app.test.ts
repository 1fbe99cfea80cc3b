/**
 * The gateway's HTTP surface in-process (`app.request`) over a real Redis, once over PGlite and
 * once over PostgreSQL: health, readiness, the OpenAPI document and the metrics; requests it
 * refuses (a 400 that names the field, 413, 415, never a 500); and its own failures (a 500 whose
 * request id its log line carries).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { openDatabase } from './db/database.ts';
import { createGateway } from './gateway.ts';
import { basic, DATABASES, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

for (const which of DATABASES)
  describe(`gateway (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

    it('serves health, readiness, its OpenAPI document and clear errors', async () => {
      await using s = await setupDisposable();
      assert.deepEqual(await (await s.call('GET', '/healthz')).json(), { status: 'ok' });
      const ready = await s.call('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'ok', redis: 'ok' });
      const doc = (await (await s.call('GET', '/v1/openapi.json')).json()) as {
        paths: Record<string, unknown>;
      };
      for (const path of [
        '/v1/edges',
        '/v1/edges/{id}/commands',
        '/v1/edges/{id}/tunnels/{tunnelId}',
        '/v1/config/{kind}/{id}',
        '/v1/brokers/{id}',
      ])
        assert.ok(doc.paths[path], `${path} is documented`);
      assert.match(await (await s.call('GET', '/v1/docs')).text(), /openapi\.json/);
      const metrics = await (await s.call('GET', '/metrics')).text();
      assert.match(
        metrics,
        /devicehub_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/,
      );
      assert.match(metrics, /devicehub_outbox_entries\{group="0"\} \d+/);
      assert.match(metrics, /devicehub_fleet_edges 0/);
      assert.match(metrics, /devicehub_mailbox_backlog_entries\{group="0"\} 0/);
      const missing = await s.call('GET', '/v1/nothing');
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    });

    it('refuses invalid requests with a 400 that says why', async () => {
      await using s = await setupDisposable();
      const bad = await s.call('POST', '/v1/edges', {
        key: s.keys.operator,
        body: { id: 'no spaces allowed' },
      });
      assert.equal(bad.status, 400);
      const body = (await bad.json()) as { error: { code: string; message: string; details: unknown[] } };
      assert.equal(body.error.code, 'INVALID_REQUEST');
      assert.match(body.error.message, /^id: an edge id/);
      assert.ok(Array.isArray(body.error.details));
      const config = await s.call('PUT', '/v1/config/edge/global', {
        key: s.keys.operator,
        body: { snapshotSeconds: 1 },
      });
      assert.equal(config.status, 400);
      assert.match(JSON.stringify(await config.json()), /snapshotSeconds/);
      const scope = await s.call('PUT', '/v1/config/edge/everywhere', { key: s.keys.operator, body: {} });
      assert.equal(scope.status, 400);
      const limit = await s.call('GET', '/v1/edges?limit=100000', { key: s.keys.service });
      assert.equal(limit.status, 400);
    });

    it('answers malformed requests with their 4xx and a reason naming the field, never a 500', async () => {
      await using s = await setupDisposable();
      const raw = (method: string, path: string, body?: string, type?: string) =>
        s.gateway.app.request(path, {
          method,
          headers: { authorization: `Bearer ${s.keys.admin}`, ...(type ? { 'content-type': type } : {}) },
          body,
        });
      // [what, response, status, the reason's pattern]
      const cases: [string, Response, number, RegExp][] = [
        ['invalid JSON', await raw('POST', '/v1/edges', '{"id":', 'application/json'), 400, /JSON/],
        ['an empty JSON body', await raw('POST', '/v1/edges', '', 'application/json'), 400, /JSON/],
        ['a wrong content type', await raw('POST', '/v1/edges', '{"id":"X-1"}', 'text/plain'), 415, /json/],
        ['no body', await raw('POST', '/v1/edges/X-1/tunnels'), 400, /body is required/],
        [
          'a body over 1 MiB',
          await raw(
            'PUT',
            '/v1/config/screen/global',
            JSON.stringify({ a: 'x'.repeat(1 << 20) }),
            'application/json',
          ),
          413,
          /larger than/,
        ],
        [
          'no body (a free-form one)',
          await raw('PUT', '/v1/config/devicehub/global'),
          400,
          /body is required/,
        ],
        ['NUL in a query cursor', await raw('GET', '/v1/edges?after=a%00b'), 400, /^after: .*NUL/],
        ['NUL in a query filter', await raw('GET', '/v1/edges?group=%00'), 400, /^group: .*NUL/],
        ['NUL in a path id', await raw('DELETE', '/v1/api-keys/k%00'), 400, /^id: .*NUL/],
        ['NUL in a command id', await raw('GET', '/v1/edges/X-1/commands/c%00'), 400, /^commandId: /],
        [
          'a lone surrogate in a label',
          await raw('POST', '/v1/edges', '{"id":"X-1","labels":{"a":"\\ud800"}}', 'application/json'),
          400,
          /^labels\.a: .*surrogate/,
        ],
        [
          'NUL deep in a configuration document',
          await raw('PUT', '/v1/config/screen/global', '{"a":{"b":[1,"x\\u0000"]}}', 'application/json'),
          400,
          /^a\.b\.1: .*NUL/,
        ],
        [
          'NUL in a JSON key',
          await raw(
            'POST',
            '/v1/edges/X-1/commands',
            '{"type":"echo","args":{"k\\u0000":1}}',
            'application/json',
          ),
          400,
          /NUL/,
        ],
        [
          'a version beyond the column',
          await raw('POST', '/v1/config/edge/global/rollback', '{"version":1e12}', 'application/json'),
          400,
          /^version: /,
        ],
        [
          'NUL in an edge credential',
          await s.call('GET', '/v1/edges', { auth: basic('a\u0000b', 'c') }),
          401,
          /./,
        ],
      ];
      for (const [what, response, status, reason] of cases) {
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(response.status, status, `${what}: ${JSON.stringify(body)}`);
        assert.match(body.error.message, reason, what);
      }
    });
  });

describe('gateway failures of its own', { timeout: 60_000 }, () => {
  it('answers them with a 500 whose request id its log line carries, with the error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const database = await openDatabase();
    const gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), logger });
    try {
      const { key } = await createApiKey(database.db, { name: 'admin', scope: 'admin' });
      const headers = { authorization: `Bearer ${key}` };
      assert.equal((await gateway.app.request('/v1/edges', { headers })).status, 200); // the key is cached
      await database.close(); // the database is gone
      const failed = await gateway.app.request('/v1/edges', { headers });
      assert.equal(failed.status, 500);
      const body = (await failed.json()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, 'INTERNAL');
      assert.equal(body.error.requestId, failed.headers.get('x-request-id'));
      assert.match(body.error.message, new RegExp(body.error.requestId));
      const logged = lines.find((l) => l.msg === 'request failed');
      assert.equal(logged?.requestId, body.error.requestId, JSON.stringify(lines));
      assert.ok((logged?.err as { message?: string } | undefined)?.message, 'the line has the error');
    } finally {
      await gateway.stop();
    }
  });
});
