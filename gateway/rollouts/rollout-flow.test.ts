/**
 * A rollout end to end over a real Redis, a hub node running the edge and rollout actors and a
 * gateway on PGlite with the web-backend stand-in: created through the API, its members updated
 * wave by wave (agents answer the `update` commands), completed; every state change reaches the
 * web backend through the outbox (`rollout.state`, `rollout.wave`, `update.state`) in order; the
 * rollouts table follows the actor; the edge's installed version and history are readable;
 * pause/resume/abort move the actor; the membership job joins an edge that matches later.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeAgents } from '../../edge/rollout/testdata/fake-agents.ts';
import { startWebBackendStandIn, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { RolloutMembershipJob } from './membership-job.ts';
import type { RolloutView } from './schemas.ts';
import { startRolloutGateway } from './testdata/rollout-gateway.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const pkg = (version: string) => ({
  name: 'elenet',
  version,
  kind: 'edge-package',
  sha256: 'cd'.repeat(32),
  length: 1234,
  fileName: 'elenet.tar',
});

async function start() {
  const backend = await startWebBackendStandIn();
  cleanup.push(() => backend.close());
  const { keyspace, database, gateway, call } = await startRolloutGateway(t, cleanup, {
    leaseTtlMs: 1000,
    webBackend: { url: backend.url, partitions: 4, backoffMs: { first: 50, max: 200 } },
  });
  const rollout = async (id: string) =>
    (await call('GET', `/v1/rollouts/${id}`)).body as unknown as RolloutView;
  return { keyspace, database, backend, gateway, call, rollout };
}

describe('a rollout end to end', { timeout: 90_000 }, () => {
  it('updates its waves, reaches the web backend, takes the levers and joins later matches', async () => {
    const s = await start();
    for (let i = 0; i < 8; i++) {
      const body = { id: `W-${i}`, labels: { building: i < 4 ? 'B1' : 'B2', tz: 'Asia/Shanghai' } };
      assert.equal((await s.call('POST', '/v1/edges', body)).status, 201);
    }
    const agents = new FakeAgents(t.bus(s.keyspace), (_edge, args) =>
      args.rollout === 'r-held' ? 'silent' : 'healthy',
    );
    cleanup.push(() => agents[Symbol.asyncDispose]());

    const created = await s.call('POST', '/v1/rollouts', {
      id: 'r-ok',
      name: 'elenet 2.1.0',
      filter: 'label.building=B*',
      target: { packages: [pkg('2.1.0')] },
      waves: [
        { name: 'B1', buildings: ['B1'], successPercent: 100 },
        { name: 'rest', percent: 100, successPercent: 100 },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await waitFor(async () => (await s.rollout('r-ok')).status === 'completed', {
      timeoutMs: 40_000,
      message: 'r-ok completed',
    });
    const done = await s.rollout('r-ok');
    assert.deepEqual(
      done.waves.map((w) => [w.name, w.state, w.members, w.healthy]),
      [
        ['B1', 'passed', 4, 4],
        ['rest', 'passed', 4, 4],
      ],
    );
    assert.ok(agents.of('W-0')[0]!.order < agents.of('W-4')[0]!.order, 'wave B1 was updated before the rest');
    const updates = (await s.call('GET', '/v1/edges/W-5/updates')).body as {
      installed: Record<string, { version: string; rollout: string }>;
      history: { state: string }[];
    };
    assert.deepEqual(updates.installed.elenet, {
      ...updates.installed.elenet,
      version: '2.1.0',
      rollout: 'r-ok',
    });
    assert.ok(updates.history.some((h) => h.state === 'healthy'));

    // Every state change reached the web backend, in order per edge and per rollout.
    const events = () => [...s.backend.events.values()] as unknown as Record<string, unknown>[];
    await waitFor(
      () =>
        events().some(
          (e) => e.type === 'rollout.state' && e.rollout === 'r-ok' && e.status === 'completed',
        ) && events().filter((e) => e.type === 'update.state' && e.state === 'healthy').length === 8,
      { message: 'the rollout completed and 8 healthy edges at the web backend' },
    );
    assert.ok(
      events().some((e) => e.type === 'rollout.wave' && e.rollout === 'r-ok' && e.phase === 'passed'),
    );
    assert.equal(s.backend.stats.outOfOrder, 0);
    await waitFor(
      async () => ((await s.call('GET', '/v1/rollouts?active=true')).body.rollouts as unknown[]).length === 0,
      {
        message: 'the finished rollout out of the active list (the sink recorded it)',
      },
    );

    // Levers: agents stay silent for r-held, so it stays in its first wave until paused.
    assert.equal(
      (
        await s.call('POST', '/v1/rollouts', {
          id: 'r-held',
          name: 'held',
          filter: 'label.building=B2',
          target: { packages: [pkg('2.2.0')] },
          waves: [{ name: 'all', percent: 100 }],
        })
      ).status,
      201,
    );
    await waitFor(async () => (await s.rollout('r-held')).counts.inFlight === 4, {
      message: 'r-held in flight',
    });
    assert.equal((await s.call('POST', '/v1/rollouts/r-held/pause', { reason: 'test' })).status, 202);
    await waitFor(async () => (await s.rollout('r-held')).status === 'paused', { message: 'r-held paused' });
    await waitFor(
      () =>
        events().some((e) => e.type === 'rollout.state' && e.rollout === 'r-held' && e.status === 'paused'),
      {
        message: 'paused at the web backend',
      },
    );
    assert.equal((await s.call('POST', '/v1/rollouts/r-held/pause')).status, 409);
    assert.equal((await s.call('POST', '/v1/rollouts/r-held/resume')).status, 202);
    await waitFor(async () => (await s.rollout('r-held')).status === 'running', {
      message: 'r-held running again',
    });

    // An edge that matches later joins through the membership job.
    assert.equal((await s.call('POST', '/v1/edges', { id: 'W-9', labels: { building: 'B2' } })).status, 201);
    const job = new RolloutMembershipJob({ db: s.database.db, bus: t.bus(s.keyspace), holder: 'test' });
    assert.equal(await job.pass(), 1, 'W-9 joins r-held (r-ok is finished)');
    assert.equal(await job.pass(), 0, 'once');
    await waitFor(async () => (await s.rollout('r-held')).members === 5, {
      message: 'W-9 a member of r-held',
    });
    assert.equal((await s.call('POST', '/v1/rollouts/r-held/abort')).status, 202);
    await waitFor(async () => (await s.rollout('r-held')).status === 'aborted', {
      message: 'r-held aborted',
    });
  });
});
