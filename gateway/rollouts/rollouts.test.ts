/**
 * The rollout API over a real Redis and a database (PGlite, then PostgreSQL): a rollout created
 * for a dynamic group (the fleet filter over registry and actor states) is stored, its members
 * split into waves (hash order, per building) and sent to `rollout/<id>` as `create` + `join`
 * in its mailbox; bad filters and specs are 400s naming what is wrong; the levers are messages
 * and a 409 when the status cannot take them; a rollout's live state (as its actor checkpoints
 * it) shows the waves' progress and the health comparison.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bus } from '../../bus/mod.ts';
import { initialRolloutState, type RolloutMember, type RolloutState } from '../../edge/rollout/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { DATABASES, useGatewayHarness } from '../testdata/harness.ts';
import { splitIntoWaves } from './membership.ts';
import type { RolloutView } from './schemas.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

const SHA = 'ab'.repeat(32);
const elenet = {
  name: 'elenet',
  version: '2.1.0',
  kind: 'edge-package',
  sha256: SHA,
  length: 5_000_000,
  fileName: 'elenet.tar',
};

/** The messages waiting in an actor's mailbox: method and payload, in order. */
async function mailbox(bus: Bus, address: string) {
  const { keyspace } = bus;
  const entries = (await bus.redis.xrange(keyspace.shard(keyspace.shardOf(address)).mailbox, '-', '+')) as [
    string,
    string[],
  ][];
  return entries.flatMap(([, f]) => {
    const field = (k: string) => f[f.indexOf(k) + 1];
    return field('a') === address ? [{ method: field('m')!, payload: JSON.parse(field('p')!) }] : [];
  });
}

async function putState(bus: Bus, address: string, state: unknown) {
  const { keyspace } = bus;
  await bus.redis.hset(
    keyspace.shard(keyspace.shardOf(address)).state,
    address,
    JSON.stringify({ id: '1-0', s: state }),
  );
}

describe('waves', () => {
  it('splits members by building first, then by cumulative percent in hash order, deterministically', () => {
    const members = Array.from({ length: 200 }, (_, i) => ({ edgeId: `E-${i}`, building: `B${i % 4}` }));
    const waves = [{ buildings: ['B0'] }, { percent: 10 }, { percent: 50 }, { percent: 100 }];
    const a = splitIntoWaves('r1', members, waves);
    const waveOf = (list: { edgeId: string; wave: number }[]) => new Map(list.map((m) => [m.edgeId, m.wave]));
    assert.deepEqual(
      waveOf(splitIntoWaves('r1', [...members].reverse(), waves)),
      waveOf(a),
      'the order given does not matter',
    );
    const count = (w: number) => a.filter((m) => m.wave === w).length;
    assert.deepEqual([count(0), count(1), count(2), count(3)], [50, 15, 60, 75]);
    assert.ok(a.filter((m) => m.wave === 0).every((m) => m.building === 'B0'));
    const other = splitIntoWaves('r2', members, waves)
      .filter((m) => m.wave === 1)
      .map((m) => m.edgeId);
    assert.notDeepEqual(
      other,
      a.filter((m) => m.wave === 1).map((m) => m.edgeId),
      'another rollout, another canary',
    );
    assert.equal(
      splitIntoWaves('r', members.slice(0, 3), [{ percent: 1 }, { percent: 100 }]).filter((m) => m.wave === 0)
        .length,
      1,
    );
  });
});

for (const which of DATABASES)
  describe(`rollouts API (${which})`, { timeout: 60_000 }, () => {
    useDatabase(which);

    it('creates a rollout for a dynamic group, sends its members in waves and takes the levers', async () => {
      await using s = await setupDisposable();
      const bus = t.bus(s.keyspace);
      for (let i = 0; i < 40; i++) {
        const id = `R-${String(i).padStart(2, '0')}`;
        const labels = {
          building: `B${i % 4}`,
          tz: i % 4 === 0 ? 'Asia/Shanghai' : 'Nope/Zone',
          ...(i === 7 ? { hardware: 'screen' } : {}),
        };
        assert.equal(
          (await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id, labels } })).status,
          201,
        );
        if (i < 30)
          await putState(bus, `edge/${id}`, {
            online: true,
            shadow: { birth: { hardware: 'rv1126' } },
            openAlarms: {},
            updates: { installed: { elenet: { version: '2.0.3', path: 'x', rollout: 'r0', at: 1 } } },
          });
      }
      const request = {
        id: 'r-elenet-210',
        name: 'elenet 2.1.0',
        filter: 'installed.elenet<2.1.0',
        target: { packages: [elenet] },
        waves: [
          { name: 'B1 first', buildings: ['B1'], successPercent: 90, holdSeconds: 30 },
          { name: 'canary', percent: 10 },
          { name: 'all', percent: 100 },
        ],
        errorThreshold: { count: 3 },
        maintenanceWindows: [{ start: '01:00', end: '05:00' }],
      };
      const post = (body: unknown, key = s.keys.admin) => s.call('POST', '/v1/rollouts', { key, body });
      assert.equal((await post(request, s.keys.operator)).status, 403, 'creating a rollout is for admins');
      const res = await post(request);
      assert.equal(res.status, 201, await res.clone().text());
      const created = (await res.json()) as RolloutView;
      assert.equal(created.members, 30);
      assert.deepEqual(
        created.waves.map((w) => w.name),
        ['B1 first', 'canary', 'all'],
      );
      assert.equal(created.live, false);
      assert.equal((await post(request)).status, 409, 'the same id again');

      const messages = await mailbox(bus, 'rollout/r-elenet-210');
      assert.equal(messages[0]?.method, 'create');
      const create = messages[0]!.payload;
      assert.equal(create.spec.target.targets[0].path, 'edge-package/elenet/2.1.0/elenet.tar');
      assert.equal(create.spec.waves[0].holdMs, 30_000);
      const members = messages.flatMap((m) => m.payload.members);
      assert.equal(members.length, 30);
      const byId = new Map<string, RolloutMember>(members.map((m: RolloutMember) => [m.edgeId, m]));
      assert.deepEqual(byId.get('R-01'), {
        edgeId: 'R-01',
        building: 'B1',
        timeZone: 'UTC',
        delivery: 'command',
        wave: 0,
      });
      assert.equal(byId.get('R-04')?.timeZone, 'Asia/Shanghai');
      assert.equal(byId.get('R-07')?.delivery, 'pull', 'a wall screen pulls');
      assert.ok(
        members
          .filter((m: { building: string }) => m.building === 'B1')
          .every((m: { wave: number }) => m.wave === 0),
      );
      assert.equal(
        members.filter((m: { wave: number }) => m.wave === 1).length,
        3,
        '10 % of the 23 others, rounded up',
      );

      // Bad input names what is wrong.
      const bad = await post({ ...request, id: 'r2', filter: 'installed.elenet<<2' });
      assert.equal(bad.status, 400);
      const error = ((await bad.json()) as { error: { details: { position: number } } }).error;
      assert.equal(error.details.position, 17);
      const spec = await post({
        ...request,
        id: 'r3',
        waves: [
          { name: 'a', percent: 50 },
          { name: 'b', percent: 10 },
        ],
      });
      assert.equal(spec.status, 400);
      assert.match(
        ((await spec.json()) as { error: { message: string } }).error.message,
        /waves\[1\]\.percent/,
      );

      // Levers: messages to the actor; a status that cannot take one is a 409.
      const lever = (action: string, key = s.keys.admin) =>
        s.call('POST', `/v1/rollouts/r-elenet-210/${action}`, { key, body: { reason: 'looking' } });
      assert.equal((await lever('resume')).status, 409, 'running: nothing to resume');
      assert.equal((await lever('abort', s.keys.operator)).status, 403);
      assert.equal((await lever('pause', s.keys.operator)).status, 202);
      assert.deepEqual((await mailbox(bus, 'rollout/r-elenet-210')).at(-1), {
        method: 'pause',
        payload: { by: `key:operator-${s.keyspace.prefix}`, reason: 'looking' },
      });
      assert.equal((await s.call('POST', '/v1/rollouts/nope/pause', { key: s.keys.admin })).status, 404);

      // The actor's checkpoint: waves' progress and the health comparison's numbers.
      const base = initialRolloutState();
      const state: RolloutState = {
        ...base,
        id: 'r-elenet-210',
        spec: {
          ...create.spec,
          ratePerMinute: 600,
          edgeTimeoutMs: 1,
          retries: 1,
          spreadMs: 0,
          healthDeadlineMs: 1000,
          delivery: 'command',
          tickMs: 1000,
        },
        status: 'paused',
        reason: 'health comparison',
        wave: 1,
        members: {
          'R-01': [0, 6, 1, 0, 0, 0],
          'R-05': [0, 8, 1, 0, 0, 0],
          'R-02': [1, 2, 1, 0, 0, 0],
          'R-03': [2, 0, 0, 0, 0, 0],
        },
        health: {
          updated: { events: 9, exposureMs: 3_600_000, edges: 1, byKind: {} },
          control: { events: 2, exposureMs: 7_200_000, edges: 2, byKind: {} },
          at: 1,
        },
        healthTest: {
          updatedEvents: 9,
          updatedHours: 1,
          controlEvents: 2,
          controlHours: 2,
          ratio: 9,
          pValue: 0.0004,
          significant: true,
        },
      };
      await putState(bus, 'rollout/r-elenet-210', state);
      const view = (await (
        await s.call('GET', '/v1/rollouts/r-elenet-210', { key: s.keys.service })
      ).json()) as RolloutView;
      assert.equal(view.status, 'paused');
      assert.equal(view.live, true);
      assert.deepEqual(
        view.waves.map((w) => [w.state, w.members, w.healthy, w.failed, w.inFlight, w.pending]),
        [
          ['passed', 2, 1, 1, 0, 0],
          ['running', 1, 0, 0, 1, 0],
          ['waiting', 1, 0, 0, 0, 1],
        ],
      );
      assert.deepEqual(view.health.updated, { edges: 1, events: 9, edgeHours: 1, rate: 9 });
      assert.equal(view.health.notUpdated.rate, 1);
      assert.equal(view.health.pValue, 0.0004);
      assert.equal((await lever('resume')).status, 202, 'paused: it may resume');

      const list = (await (await s.call('GET', '/v1/rollouts', { key: s.keys.service })).json()) as {
        rollouts: RolloutView[];
      };
      assert.deepEqual(
        list.rollouts.map((r) => [r.id, r.status]),
        [['r-elenet-210', 'paused']],
      );
      const doc = (await (await s.call('GET', '/v1/openapi.json')).json()) as {
        paths: Record<string, unknown>;
      };
      assert.ok(doc.paths['/v1/rollouts/{id}/rollback']);
    });
  });
