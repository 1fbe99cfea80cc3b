/**
 * Fleet search: the filter language (terms, operators, quoting, errors with their position),
 * version order, and `GET /v1/edges?q=…` over the registry and edge actors' states (written
 * into Redis as a hub node checkpoints them), paged, once over PGlite and once over PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bus } from '../../bus/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { DATABASES, useGatewayHarness } from '../testdata/harness.ts';
import { compareVersions, type FleetEdge, matchesFleetQuery, parseFleetQuery } from './mod.ts';

const edge = (o: Partial<FleetEdge> = {}): FleetEdge => ({
  id: 'E-1',
  groupId: 'b12',
  labels: { building: 'B12', tz: 'Asia/Shanghai' },
  online: true,
  hardware: 'rv1126',
  installed: { elenet: '2.0.9', agent: '1.4.0' },
  shadow: { status: { fw: '1.2', temp: 41 } },
  ...o,
});
const matches = (q: string, e = edge()) => matchesFleetQuery(parseFleetQuery(q), e);

describe('fleet query language', () => {
  it('reads terms, ANDs them and compares versions part by part', () => {
    assert.ok(matches(''));
    assert.ok(matches('group=b12 label.building=B12 hardware=rv1126 online=true'));
    assert.ok(matches('group=b12 AND installed.elenet<2.1.0 installed.elenet>=2.0.9'));
    assert.ok(!matches('installed.elenet<2.0.9'));
    assert.ok(matches('installed.elenet<2.10'), '2.0.9 < 2.10');
    assert.ok(!matches('installed.litefcccore<9'), 'a missing version is below nothing');
    assert.ok(matches('installed.litefcccore!=*') && matches('installed.agent=*'));
    assert.ok(matches('shadow.status.fw=1.2 shadow.status.temp>40 shadow.status.temp<=41'));
    assert.ok(!matches('shadow.status.temp>41'));
    assert.ok(matches('id=E-* label.building!=B13 label.floor!=3'));
    assert.ok(matches('label.site="Tower A"', edge({ labels: { site: 'Tower A' } })));
    assert.ok(!matches('online=true', edge({ online: false })));
    assert.ok(matches('hardware=screen', edge({ hardware: 'screen' })));
    assert.ok(compareVersions('2.1.0-rc.1', '2.1.0') < 0);
    assert.ok(compareVersions('v2.10.0', '2.9.9') > 0);
    assert.equal(compareVersions('1.2', '1.2.0'), 0);
  });

  it('refuses what it cannot read, naming the position and the reason', () => {
    const bad: [string, number, RegExp][] = [
      ['group=b1 lable.x=1', 9, /unknown field "lable.x"/],
      ['group', 5, /operator is missing/],
      ['group=', 6, /value is missing/],
      ['group<b1', 0, /only = and !=/],
      ['online=maybe', 7, /true or false/],
      ['label.=x', 5, /label needs a name/],
      ['shadow.status=1', 6, /shadow.<kind>.<field>/],
      ['label.site="Tower A', 11, /not closed/],
      ['installed.elenet<2.*', 17, /not a pattern/],
      ['group=a=b', 7, /unexpected "="/],
    ];
    for (const [q, position, reason] of bad)
      assert.throws(
        () => parseFleetQuery(q),
        (e: { position: number; reason: string }) => e.position === position && reason.test(e.reason),
        q,
      );
  });
});

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

/** An edge actor's checkpoint, as a hub node writes it. */
async function putState(bus: Bus, id: string, state: Record<string, unknown>) {
  const { keyspace } = bus;
  await bus.redis.hset(
    keyspace.shard(keyspace.shardOf(`edge/${id}`)).state,
    `edge/${id}`,
    JSON.stringify({ id: '1-0', s: { online: false, shadow: {}, openAlarms: {}, ...state } }),
  );
}

for (const which of DATABASES)
  describe(`GET /v1/edges?q= (${which})`, { timeout: 60_000 }, () => {
    useDatabase(which);

    it('filters the fleet by registry and actor state, in pages, and refuses a bad query with 400', async () => {
      await using s = await setupDisposable();
      for (let i = 1; i <= 30; i++) {
        const id = `S-${String(i).padStart(2, '0')}`;
        const building = i % 3 === 0 ? 'B12' : 'B7';
        const body = {
          id,
          groupId: `g${i % 2}`,
          labels: { building, ...(i === 5 ? { hardware: 'screen' } : {}) },
        };
        assert.equal((await s.call('POST', '/v1/edges', { key: s.keys.operator, body })).status, 201);
      }
      const testBus = t.bus(s.keyspace);
      for (let i = 1; i <= 30; i += 2)
        await putState(testBus, `S-${String(i).padStart(2, '0')}`, {
          online: i < 20,
          shadow: { status: { fw: i < 10 ? '1.2' : '1.3' }, birth: { hardware: 'rv1126' } },
          updates: { installed: { elenet: { version: i < 15 ? '2.0.0' : '2.1.0' } } },
        });
      const ids = async (q: string, extra = '') => {
        const res = await s.call('GET', `/v1/edges?q=${encodeURIComponent(q)}${extra}`, {
          key: s.keys.service,
        });
        assert.equal(res.status, 200, q);
        const body = (await res.json()) as { edges: { id: string }[]; next: string | null };
        return { ids: body.edges.map((e) => e.id), next: body.next };
      };
      assert.deepEqual((await ids('label.building=B12 installed.elenet<2.1.0')).ids, ['S-03', 'S-09']);
      // A match's view is built from the state the search read (not read again).
      const shaped = await s.call('GET', `/v1/edges?q=${encodeURIComponent('id=S-03')}`, {
        key: s.keys.service,
      });
      const [s03] = ((await shaped.json()) as { edges: { online: boolean; status: unknown }[] }).edges;
      assert.deepEqual([s03?.online, s03?.status], [true, { fw: '1.2' }]);
      assert.deepEqual((await ids('online=true shadow.status.fw=1.3')).ids, [
        'S-11',
        'S-13',
        'S-15',
        'S-17',
        'S-19',
      ]);
      assert.deepEqual((await ids('hardware=screen')).ids, ['S-05'], 'the label wins over the birth');
      assert.deepEqual((await ids('hardware=rv1126 installed.elenet>=2.1')).ids, [
        'S-15',
        'S-17',
        'S-19',
        'S-21',
        'S-23',
        'S-25',
        'S-27',
        'S-29',
      ]);
      assert.deepEqual((await ids('id=S-2*', '&group=g0')).ids, ['S-20', 'S-22', 'S-24', 'S-26', 'S-28']);
      // Wildcards go to SQL as LIKE: an underscore or a percent sign in the query is itself.
      assert.deepEqual((await ids('id=S_0*')).ids, []);
      assert.deepEqual((await ids('label.building=B%')).ids, []);
      assert.deepEqual((await ids('label.building=B1*')).ids.length, 10);

      // Pages: 3 at a time, following next, until it is null.
      const seen: string[] = [];
      let next: string | null = '';
      while (next !== null) {
        const page = await ids('installed.elenet=*', `&limit=3${next ? `&after=${next}` : ''}`);
        assert.ok(page.ids.length <= 3);
        seen.push(...page.ids);
        next = page.next;
      }
      assert.equal(seen.length, 15, 'every edge with an installed elenet, once');
      assert.deepEqual(seen, [...seen].sort());

      const bad = await s.call('GET', `/v1/edges?q=${encodeURIComponent('group=b1 version<2')}`, {
        key: s.keys.service,
      });
      assert.equal(bad.status, 400);
      const error = (
        (await bad.json()) as { error: { message: string; details: { position: number; reason: string } } }
      ).error;
      assert.equal(error.details.position, 9);
      assert.match(error.details.reason, /unknown field "version"/);
      assert.match(error.message, /^q: Bad fleet query at position 9/);
    });
  });
