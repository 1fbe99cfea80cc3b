/**
 * The gateway in-process (`app.request`) over a real Redis and each database it supports —
 * embedded PGlite and a real PostgreSQL server — with the same cases: authorization, validation,
 * fleet state with a real hub node, commands, configuration (ETag, 304, long-poll across two
 * gateway instances, If-Match, history, rollback), the broker pool and the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { createActorClient } from '../actors/mod.ts';
import { edgeActor } from '../edge/mod.ts';
import { type PostgresServer, startPostgres, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createApiKey } from './auth.ts';
import { assignBroker, type PoolBroker } from './broker-assignment.ts';
import { ensureAlarmPartitions } from './db/alarm-partitions.ts';
import { type Database, openDatabase } from './db/database.ts';
import { auditLog, tunnels } from './db/schema.ts';
import { createGateway, type Gateway } from './gateway.ts';

const t = useRedis();
/** Each test's own database: a fresh PGlite in memory, or a fresh database on the server. */
const databases: Database[] = [];
let server: PostgresServer | undefined;
let driver: 'pglite' | 'postgres' = 'pglite';
after(async () => {
  for (const d of databases) await d.close();
  await server?.stop();
});
let counter = 0;
async function freshDatabase(): Promise<Database> {
  if (driver === 'pglite') return await openDatabase();
  server ??= await startPostgres();
  return await openDatabase({ url: await server.createDatabase(`gw_${process.pid}_${++counter}`) });
}

type Keys = Record<'service' | 'operator' | 'admin', string>;

async function setup() {
  const keyspace = t.keyspace();
  const database = await freshDatabase();
  databases.push(database);
  const gateway = await createGateway({ database, redis: t.connect(), keyspace, maxWaitSeconds: 10 });
  const keys = {} as Keys;
  for (const scope of ['service', 'operator', 'admin'] as const)
    keys[scope] = (await createApiKey(database.db, { name: `${scope}-${keyspace.prefix}`, scope })).key;
  const call = (
    method: string,
    path: string,
    o: { key?: string; auth?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    gateway.app.request(path, {
      method,
      headers: {
        ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
        ...(o.auth ? { authorization: o.auth } : {}),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...o.headers,
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  return { keyspace, gateway, keys, call, database };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

for (const which of ['pglite', 'postgres'] as const)
  describe(`gateway (${which})`, { timeout: 180_000 }, () => {
    before(() => {
      driver = which;
    });

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

    it('lets each scope do what it may and no more', async () => {
      await using s = await setupDisposable();
      const reg = await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'A-1' } });
      assert.equal(reg.status, 201);
      const { secret } = (await reg.json()) as { secret: string };
      const edge = basic('A-1', secret);
      // [method, path, body, minimum scope ('edge' = the edge itself may)]
      const routes: [string, string, unknown, 'edge' | keyof Keys][] = [
        ['GET', '/v1/edges', undefined, 'service'],
        ['GET', '/v1/edges/A-1', undefined, 'service'],
        ['POST', '/v1/edges/A-1/commands', { type: 'echo' }, 'service'],
        ['GET', '/v1/edges/A-1/tunnels', undefined, 'service'],
        ['POST', '/v1/edges/A-1/tunnels', { services: ['ssh'] }, 'operator'],
        ['GET', '/v1/config/edge/A-1', undefined, 'edge'],
        ['PUT', '/v1/config/edge/global', { pollSeconds: 30 }, 'operator'],
        ['GET', '/v1/config/edge/global/history', undefined, 'service'],
        ['POST', '/v1/config/edge/global/rollback', { version: 1 }, 'operator'],
        ['GET', '/v1/brokers', undefined, 'operator'],
        ['POST', '/v1/api-keys', { name: 'x', scope: 'service' }, 'admin'],
      ];
      const rank = { edge: 0, service: 1, operator: 2, admin: 3 } as const;
      for (const [method, path, body, needs] of routes) {
        const none = await s.call(method, path, { body });
        assert.equal(none.status, 401, `${method} ${path} without credentials`);
        const asEdge = await s.call(method, path, { body, auth: edge });
        assert.equal(
          asEdge.status < 400,
          needs === 'edge',
          `${method} ${path} as the edge: ${asEdge.status}`,
        );
        for (const scope of ['service', 'operator', 'admin'] as const) {
          const res = await s.call(method, path, { body, key: s.keys[scope] });
          const allowed = rank[scope] >= rank[needs];
          assert.equal(res.status < 400, allowed, `${method} ${path} as ${scope}: ${res.status}`);
          if (!allowed) {
            assert.equal(res.status, 403);
            assert.match(((await res.json()) as { error: { message: string } }).error.message, /needs scope/);
          }
        }
      }
      assert.equal((await s.call('GET', '/v1/edges', { auth: basic('A-1', 'wrong') })).status, 401);
      assert.equal(
        (await s.call('GET', '/v1/config/edge/B-2', { auth: edge })).status,
        403,
        'another edge’s config',
      );
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

    it('registers edges into the fleet, shows their live state and queues commands for them', async () => {
      await using s = await setupDisposable();
      for (const id of ['F-1', 'F-2', 'F-3'])
        assert.equal(
          (await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id, groupId: 'b7' } })).status,
          201,
        );
      assert.equal(
        (await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'F-1' } })).status,
        409,
      );
      assert.deepEqual(
        (await t.redis.smembers(s.keyspace.fleet)).sort(),
        ['F-1', 'F-2', 'F-3'],
        'the links will take them',
      );
      // A command to an edge whose actor has not run yet waits in its mailbox.
      const sent = await s.call('POST', '/v1/edges/F-2/commands', {
        key: s.keys.service,
        body: { type: 'reboot', deadlineSeconds: 30 },
      });
      assert.equal(sent.status, 202);
      const { id: commandId } = (await sent.json()) as { id: string };
      const status = async () =>
        (
          (await (
            await s.call('GET', `/v1/edges/F-2/commands/${commandId}`, { key: s.keys.service })
          ).json()) as { status: string }
        ).status;
      assert.equal(await status(), 'queued');
      assert.equal(
        (await s.call('GET', '/v1/edges/F-2/commands/c-made-up', { key: s.keys.service })).status,
        404,
      );
      await using _node = await t.hub(s.keyspace);
      await createActorClient(t.redis, s.keyspace, edgeActor).send('F-1', 'telemetry', {
        kind: 'status',
        seq: 1,
        boot: 'b',
        ts: 1,
        data: { floor: 9 },
      });
      await waitFor(async () => (await status()) === 'sent', { message: 'the actor to take the command' });
      await waitFor(
        async () =>
          (
            (await (await s.call('GET', '/v1/edges/F-1', { key: s.keys.service })).json()) as {
              online: boolean;
            }
          ).online,
        { message: 'F-1 online' },
      );
      const f1 = (await (await s.call('GET', '/v1/edges/F-1', { key: s.keys.service })).json()) as Record<
        string,
        unknown
      >;
      assert.deepEqual(f1.status, { floor: 9 });
      assert.equal(f1.groupId, 'b7');
      assert.equal(typeof f1.node, 'string', 'the node holding its shard');
      await waitFor(
        async () =>
          /devicehub_node_shards\{node="[^"]+"\} [1-9]/.test(await (await s.call('GET', '/metrics')).text()),
        {
          message: 'the hub node’s published stats in the metrics',
        },
      );
      const page = (await (await s.call('GET', '/v1/edges?limit=2', { key: s.keys.service })).json()) as {
        edges: { id: string }[];
        next: string;
      };
      assert.deepEqual(
        page.edges.map((e) => e.id),
        ['F-1', 'F-2'],
      );
      const rest = (await (
        await s.call('GET', `/v1/edges?limit=2&after=${page.next}`, { key: s.keys.service })
      ).json()) as { edges: { id: string }[] };
      assert.deepEqual(
        rest.edges.map((e) => e.id),
        ['F-3'],
      );
      assert.equal((await s.call('DELETE', '/v1/edges/F-3', { key: s.keys.operator })).status, 204);
      assert.ok(!(await t.redis.sismember(s.keyspace.fleet, 'F-3')));
      const audited = (await s.database.db.select().from(auditLog)).map((a) => `${a.action} ${a.target}`);
      for (const line of ['edge.register edge/F-1', 'edge.command edge/F-2', 'edge.deregister edge/F-3'])
        assert.ok(audited.includes(line), line);
    });

    it('merges configuration by scope, answers 304 to a known ETag and wakes a long-poll on another gateway', async () => {
      await using s = await setupDisposable();
      const reg = await s.call('POST', '/v1/edges', {
        key: s.keys.operator,
        body: { id: 'C-1', groupId: 'g1' },
      });
      const { secret } = (await reg.json()) as { secret: string };
      const edge = basic('C-1', secret);
      const put = (scope: string, body: unknown, ifMatch?: string) =>
        s.call('PUT', `/v1/config/edge/${scope}`, {
          key: s.keys.operator,
          body,
          headers: ifMatch ? { 'if-match': ifMatch } : {},
        });
      assert.equal((await put('global', { pollSeconds: 60, snapshotSeconds: 60 }, '"0"')).status, 200);
      assert.equal((await put('group:g1', { snapshotSeconds: 120 })).status, 200);
      assert.equal((await put('module:C-1', { modules: { elenet: { threshold: 0.7 } } })).status, 200);
      const first = await s.call('GET', '/v1/config/edge/C-1', { auth: edge });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), {
        pollSeconds: 60,
        snapshotSeconds: 120,
        modules: { elenet: { threshold: 0.7 } },
      });
      const etag = first.headers.get('etag')!;
      assert.equal(
        (await s.call('GET', '/v1/config/edge/C-1', { auth: edge, headers: { 'if-none-match': etag } }))
          .status,
        304,
      );
      // Someone else wrote global meanwhile: a stale If-Match is refused.
      const stale = await put('global', { pollSeconds: 10 }, '"0"');
      assert.equal(stale.status, 412);
      // A long-poll on this gateway, a write through another one.
      await using other = await createGateway({
        database: s.database,
        redis: t.connect(),
        keyspace: s.keyspace,
      });
      const waiting = s.call('GET', '/v1/config/edge/C-1?wait=10', {
        auth: edge,
        headers: { 'if-none-match': etag },
      });
      await waitFor(() => s.gateway.view.waiting === 1, { message: 'the long-poll to wait' });
      const write = await other.app.request('/v1/config/edge/global', {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${s.keys.operator}`,
          'content-type': 'application/json',
          'if-match': '"1"',
        },
        body: JSON.stringify({ pollSeconds: 15, snapshotSeconds: 60 }),
      });
      assert.equal(write.status, 200);
      const woken = await waiting;
      assert.equal(woken.status, 200, 'a 200, not the 304 that ends a wait nothing woke');
      assert.equal(((await woken.json()) as { pollSeconds: number }).pollSeconds, 15);
      const history = (await (
        await s.call('GET', '/v1/config/edge/global/history', { key: s.keys.service })
      ).json()) as { versions: { version: number }[] };
      assert.deepEqual(
        history.versions.map((v) => v.version),
        [2, 1],
      );
      const back = await s.call('POST', '/v1/config/edge/global/rollback', {
        key: s.keys.operator,
        body: { version: 1 },
      });
      assert.deepEqual(await back.json(), { kind: 'edge', scope: 'global', version: 3 });
      const after = (await (await s.call('GET', '/v1/config/edge/C-1', { auth: edge })).json()) as {
        pollSeconds: number;
      };
      assert.equal(after.pollSeconds, 60);
    });

    it('refuses a revoked key and a deregistered edge at once on every gateway, despite their caches', async () => {
      await using s = await setupDisposable();
      await using other = await createGateway({
        database: s.database,
        redis: t.connect(),
        keyspace: s.keyspace,
      });
      const onOther = (path: string, authorization: string) =>
        other.app.request(path, { headers: { authorization } });
      const created = await s.call('POST', '/v1/api-keys', {
        key: s.keys.admin,
        body: { name: 'short-lived', scope: 'service' },
      });
      const { id, key } = (await created.json()) as { id: string; key: string };
      const reg = await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'R-1' } });
      const { secret } = (await reg.json()) as { secret: string };
      // Both are now in the other gateway's cache.
      assert.equal((await onOther('/v1/edges', `Bearer ${key}`)).status, 200);
      // (The other gateway learns of the new edge by the change channel, a moment later.)
      await waitFor(async () => (await onOther('/v1/config/edge/R-1', basic('R-1', secret))).status === 200, {
        timeoutMs: 3000,
        message: 'the other gateway to serve the new edge',
      });
      assert.equal((await s.call('DELETE', `/v1/api-keys/${id}`, { key: s.keys.admin })).status, 204);
      assert.equal((await s.call('DELETE', '/v1/edges/R-1', { key: s.keys.operator })).status, 204);
      await waitFor(async () => (await onOther('/v1/edges', `Bearer ${key}`)).status === 401, {
        timeoutMs: 3000,
        message: 'the other gateway to refuse the revoked key',
      });
      await waitFor(async () => (await onOther('/v1/config/edge/R-1', basic('R-1', secret))).status === 401, {
        timeoutMs: 3000,
        message: 'the other gateway to refuse the deregistered edge',
      });
    });

    it('records alarms in monthly partitions and tunnels with their states', async () => {
      await using s = await setupDisposable();
      await using _node = await t.hub(s.keyspace);
      // This month's table and the next two exist; creating them again is harmless.
      const again = await ensureAlarmPartitions(s.database.db);
      assert.equal(again.length, 3);
      const client = createActorClient(t.redis, s.keyspace, edgeActor);
      await client.send('H-1', 'alarm', { alarm: 'smoke', phase: 'start', ts: Date.now() - 5000 });
      await client.send('H-1', 'alarm', { alarm: 'smoke', phase: 'end' });
      const list = async () => {
        const r = await s.database.db.execute(
          sql`select tableoid::regclass::text as part, phase, since is not null as has_since from alarms order by phase desc`,
        );
        const found = ((r as { rows?: unknown[] }).rows ?? r) as {
          part: string;
          phase: string;
          has_since: boolean;
        }[];
        return found.map((row) => ({ ...row })); // plain objects from either driver
      };
      await waitFor(async () => (await list()).length === 2, { message: 'both alarm events recorded' });
      const month = again[0]!;
      assert.deepEqual(await list(), [
        { part: month, phase: 'start', has_since: false },
        { part: month, phase: 'end', has_since: true },
      ]);
      await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'H-1' } });
      const opened = await s.call('POST', '/v1/edges/H-1/tunnels', {
        key: s.keys.operator,
        body: { services: ['console'], ttlSeconds: 1 },
      });
      assert.equal(opened.status, 202);
      const { id } = (await opened.json()) as { id: string };
      await waitFor(
        async () =>
          (await s.database.db.select().from(tunnels).where(eq(tunnels.id, id)))[0]?.state === 'expired',
        { message: 'the tunnel row to follow the actor to expired' },
      );
    });

    it('names each edge’s broker from the pool, moving only the new broker’s share when one is added', async () => {
      await using s = await setupDisposable();
      const reg = await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'P-1' } });
      const { secret } = (await reg.json()) as { secret: string };
      await s.call('PUT', '/v1/brokers/m1', {
        key: s.keys.operator,
        body: { transport: 'mqtt', address: 'mqtt://m1:1883', weight: 1 },
      });
      const config = (await (
        await s.call('GET', '/v1/config/edge/P-1', { auth: basic('P-1', secret) })
      ).json()) as { broker: unknown };
      assert.deepEqual(config.broker, { transport: 'mqtt', url: 'mqtt://m1:1883' });
      const pool: PoolBroker[] = [
        { id: 'm1', transport: 'mqtt', address: 'a', weight: 1 },
        { id: 'm2', transport: 'mqtt', address: 'b', weight: 1 },
      ];
      const grown = [...pool, { id: 'k1', transport: 'kafka' as const, address: 'c', weight: 2 }];
      let moved = 0;
      let movedElsewhere = 0;
      const edges = 4000;
      for (let i = 0; i < edges; i++) {
        const [before, afterAdd] = [assignBroker(`E-${i}`, pool)!.id, assignBroker(`E-${i}`, grown)!.id];
        if (before !== afterAdd) moved++;
        if (before !== afterAdd && afterAdd !== 'k1') movedElsewhere++;
      }
      assert.equal(movedElsewhere, 0, 'edges move only to the new broker');
      assert.ok(Math.abs(moved / edges - 0.5) < 0.05, `the new broker (weight 2 of 4) took ${moved / edges}`);
    });
  });

/** `setup()` whose gateway stops at the end of the test. */
async function setupDisposable() {
  const s = await setup();
  return { ...s, [Symbol.asyncDispose]: () => (s.gateway as Gateway).stop() };
}

describe('gateway failures of its own', { timeout: 60_000 }, () => {
  it('answers them with a 500 whose request id its log line carries, with the error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const database = await openDatabase();
    const gateway = await createGateway({ database, redis: t.connect(), keyspace: t.keyspace(), logger });
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
