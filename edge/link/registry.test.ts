/**
 * The links' copy of the fleet: read again only when the fleet's version moved (every provision
 * and deprovision moves it in the same transaction), and every time for a fleet written without
 * a version.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { useRedis } from '../../infra/test-redis.ts';
import { deprovisionEdges, provisionEdges, RedisEdgeRegistry } from './registry.ts';

const t = useRedis();

it('reads the fleet again only when its version moved', async () => {
  const bus = t.bus(t.keyspace());
  await provisionEdges(bus, ['A', 'B']);
  await using registry = await new RedisEdgeRegistry({ bus, refreshMs: 3_600_000 }).start();
  assert.ok(registry.has('A') && registry.has('B') && !registry.has('C'));
  assert.equal(registry.reads, 1);
  for (let i = 0; i < 3; i++) await registry.refresh();
  assert.equal(registry.reads, 1, 'nothing moved: the set is not read again');

  await provisionEdges(bus, ['C']);
  await registry.refresh();
  assert.ok(registry.has('C'));
  await deprovisionEdges(bus, ['A']);
  await registry.refresh();
  assert.ok(!registry.has('A') && registry.has('B'));
  assert.equal(registry.reads, 3);
});

it('reads a fleet written without a version on every refresh', async () => {
  const bus = t.bus(t.keyspace());
  await bus.redis.sadd(bus.keyspace.fleet, 'A');
  await using registry = await new RedisEdgeRegistry({ bus, refreshMs: 3_600_000 }).start();
  await bus.redis.sadd(bus.keyspace.fleet, 'B');
  await registry.refresh();
  assert.ok(registry.has('B'));
  assert.equal(registry.reads, 2);
});
