/**
 * Who may do what through the gateway, in-process over a real Redis, once over PGlite and once
 * over PostgreSQL: each scope (and an edge with its own credentials) on every route group, and a
 * revoked key or a deregistered edge refused at once on every gateway despite their caches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { createGateway } from './gateway.ts';
import { basic, DATABASES, type Keys, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

for (const which of DATABASES)
  describe(`gateway auth (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

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

    it('refuses a revoked key and a deregistered edge at once on every gateway, despite their caches', async () => {
      await using s = await setupDisposable();
      await using other = await createGateway({
        database: s.database,
        bus: t.bus(s.keyspace, t.connect()),
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
  });
