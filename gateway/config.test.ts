/**
 * Configuration through the gateway, in-process over a real Redis, once over PGlite and once over
 * PostgreSQL: merged by scope, ETag and 304, a long-poll woken by a write on another gateway,
 * If-Match, history and rollback; each edge's broker named from the pool (weighted rendezvous).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { assignBroker, type PoolBroker } from './broker-assignment.ts';
import { createGateway } from './gateway.ts';
import { basic, DATABASES, useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

for (const which of DATABASES)
  describe(`gateway config (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

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
        bus: t.bus(s.keyspace, t.connect()),
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
