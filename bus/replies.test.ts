/**
 * Script replies into typed results and errors (replies.ts), against a real Redis (and the
 * cluster pass): fenced commits and lost leases come back per shard, a connection without the
 * scripts and a reply of the wrong shape are typed errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import type { ShardCommit } from './commit.ts';
import { BusError, ScriptReplyError, ScriptsNotLoadedError } from './errors.ts';
import { isCluster, type Redis } from './redis.ts';
import { acquireReply, commitReply, heartbeatReply, portsAllocateReply } from './replies.ts';

const t = useRedis();

const write = (shard: number, epoch: number): ShardCommit => ({
  shard,
  epoch,
  acks: [],
  states: [{ address: `counter/${shard}`, json: JSON.stringify({ id: '0-1', s: shard }) }],
  timers: [],
  cancels: [],
  outbox: [],
  published: [],
});

describe('script replies', () => {
  it('map a refused commit to its fenced shard and a lost lease to its shard, per shard', async () => {
    const bus = t.bus(t.keyspace({ shards: 4 }));
    const granted = await bus.acquireLeases({ node: 'a', shards: [0, 1], ttlMs: 10_000 });
    assert.deepEqual(
      granted.map((g) => [g.shard, g.epoch, g.previous]),
      [
        [0, 1, ''],
        [1, 1, ''],
      ],
    );
    assert.deepEqual(await bus.acquireLeases({ node: 'b', shards: [0], ttlMs: 10_000 }), [], 'held by a');
    assert.deepEqual(
      await bus.commit({ node: 'a', shards: [write(0, 1), write(1, 7)] }),
      [1],
      'epoch 7 is stale',
    );
    assert.equal(await bus.redis.hget(bus.keyspace.shard(0).state, 'counter/0'), '{"id":"0-1","s":0}');
    assert.equal(
      await bus.redis.hget(bus.keyspace.shard(1).state, 'counter/1'),
      null,
      'the fenced shard wrote nothing',
    );
    const held = [
      { shard: 0, epoch: 1 },
      { shard: 1, epoch: 2 },
    ];
    assert.deepEqual(await bus.renewLeases({ node: 'a', held, ttlMs: 10_000 }), [1]);
    assert.equal(await bus.releaseLeases({ node: 'a', held }), 1);
    assert.deepEqual(await bus.commit({ node: 'a', shards: [write(0, 1)] }), [0], 'released: fenced');
  });

  it('refuse a connection without the bus scripts with ScriptsNotLoadedError', async () => {
    // ioredis's own copy of the connection: the bus scripts are not defined on it.
    // Both branches alike: the check narrows the Redis | Cluster union so duplicate() type-checks.
    const bare: Redis = isCluster(t.redis) ? t.redis.duplicate() : t.redis.duplicate();
    try {
      const bus = t.bus(t.keyspace(), bare);
      await assert.rejects(bus.heartbeat('n1', 1000), (error: unknown) => {
        assert.ok(error instanceof ScriptsNotLoadedError);
        assert.equal(error.code, 'SCRIPTS_NOT_LOADED');
        assert.match(error.message, /heartbeat.*connectRedis/);
        return true;
      });
    } finally {
      bare.disconnect();
    }
  });

  it('turn a reply of the wrong shape into ScriptReplyError, naming the script', async () => {
    const real = await t.bus(t.keyspace()).heartbeat('n1', 1000);
    assert.deepEqual(real.nodes, ['n1']);
    const cases: [() => unknown, string][] = [
      [() => heartbeatReply('OK'), 'heartbeat'],
      [() => acquireReply([[1, '']], [0, 1]), 'acquire'],
      [() => commitReply([3], [0, 1]), 'commit'],
      [() => portsAllocateReply([1, 'x'], { count: 1, low: 1, high: 2 }), 'ports-allocate'],
    ];
    for (const [read, script] of cases) {
      assert.throws(read, (error: unknown) => {
        assert.ok(error instanceof ScriptReplyError && error instanceof BusError);
        assert.equal(error.code, 'SCRIPT_REPLY');
        assert.equal(error.script, script);
        assert.equal(error.retryable, false);
        return true;
      });
    }
  });
});
