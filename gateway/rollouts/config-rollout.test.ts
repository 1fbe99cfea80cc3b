/**
 * A configuration rollout through the configuration service: the new version is written by the
 * rollout behind its gate, served only to the edges the rollout admitted (wave 1: building B1),
 * the version before to the others; a roll back serves the version before again. An admission
 * wakes that edge's long-poll; a long-poll of an edge not admitted sleeps through. Real Redis, a
 * hub node with the edge and rollout actors, a gateway on PGlite.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { startRolloutGateway } from './testdata/rollout-gateway.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A rollout of `pollSeconds: 60` to the global document: building B1 first, held for an hour, then the rest. */
const pollEveryMinute = (id: string) => ({
  id,
  name: 'poll every minute',
  target: { config: { scope: 'global', body: { pollSeconds: 60 } } },
  waves: [
    { name: 'B1', buildings: ['B1'], holdSeconds: 3600 },
    { name: 'rest', percent: 100 },
  ],
});

describe('a configuration rollout', { timeout: 60_000 }, () => {
  it('serves the new version to admitted edges only, and the version before after a roll back', async () => {
    const { call } = await startRolloutGateway(t, cleanup);
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await call('POST', '/v1/edges', { id: `C-${i}`, labels: { building: i < 2 ? 'B1' : 'B2' } })).status,
        201,
      );
    assert.equal((await call('PUT', '/v1/config/edge/global', { pollSeconds: 30 })).status, 200);
    const poll = async (id: string) => (await call('GET', `/v1/config/edge/${id}`)).body.pollSeconds;

    const created = await call('POST', '/v1/rollouts', pollEveryMinute('r-config'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const history = (await call('GET', '/v1/config/edge/global/history')).body.versions as {
      version: number;
    }[];
    assert.equal(history[0]?.version, 2, 'the rollout wrote version 2');
    assert.deepEqual([await poll('C-2'), await poll('C-3')], [30, 30], 'B2 is not admitted: version 1');
    await waitFor(async () => (await poll('C-0')) === 60 && (await poll('C-1')) === 60, {
      message: 'B1 admitted: version 2',
    });
    assert.deepEqual([await poll('C-2'), await poll('C-3')], [30, 30], 'B2 still on version 1 (B1 holds)');

    assert.equal((await call('POST', '/v1/rollouts/r-config/rollback')).status, 202);
    await waitFor(async () => (await poll('C-0')) === 30 && (await poll('C-1')) === 30, {
      message: 'B1 back on version 1 after the roll back',
    });
    assert.deepEqual([await poll('C-2'), await poll('C-3')], [30, 30]);

    // A body the configuration schema refuses is a 400 and writes nothing.
    const bad = await call('POST', '/v1/rollouts', {
      name: 'bad',
      target: { config: { scope: 'global', body: { pollSeconds: 1 } } },
      waves: [{ name: 'all', percent: 100 }],
    });
    assert.equal(bad.status, 400);
    assert.equal(
      ((await call('GET', '/v1/config/edge/global/history')).body.versions as unknown[]).length,
      2,
    );
  });

  it("wakes an edge's long-poll when it is admitted, and leaves the others' asleep", async () => {
    const { call, gateway, key } = await startRolloutGateway(t, cleanup);
    for (const [id, building] of [
      ['W-0', 'B1'],
      ['W-1', 'B2'],
    ])
      assert.equal((await call('POST', '/v1/edges', { id, labels: { building } })).status, 201);
    assert.equal((await call('PUT', '/v1/config/edge/global', { pollSeconds: 30 })).status, 200);
    const get = (id: string, o: { etag?: string; wait?: number } = {}) =>
      gateway.app.request(`/v1/config/edge/${id}${o.wait === undefined ? '' : `?wait=${o.wait}`}`, {
        headers: {
          authorization: `Bearer ${key}`,
          ...(o.etag === undefined ? {} : { 'if-none-match': o.etag }),
        },
      });
    const etag0 = (await get('W-0')).headers.get('etag')!;
    const etag1 = (await get('W-1')).headers.get('etag')!;
    // W-0's long-poll, on version 1, from before the rollout: its admission answers it.
    const admitted = get('W-0', { etag: etag0, wait: 50 });
    const created = await call('POST', '/v1/rollouts', pollEveryMinute('r-wake'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const answer = await admitted;
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { pollSeconds: number }).pollSeconds, 60);
    // W-1 is not admitted (B1 holds for an hour): its long-poll sleeps through, looking once.
    const checks = gateway.configGate.checks;
    const asleep = await get('W-1', { etag: etag1, wait: 10 });
    assert.equal(asleep.status, 304);
    assert.ok(
      gateway.configGate.checks - checks <= 2,
      `W-1's configuration looked at ${gateway.configGate.checks - checks} times in 10 s (every 3 s before)`,
    );
  });
});
