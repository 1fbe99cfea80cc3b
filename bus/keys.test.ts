import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keySlot } from './hash.ts';
import {
  createKeyspace,
  groupByTag,
  parseTimerMember,
  parseTunnelClaim,
  recognitionJobId,
  recognitionQueue,
  timerMember,
  tunnelClaim,
  webhookQueue,
} from './keys.ts';

const hashTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe('keyspace', () => {
  it('puts every key of a shard under its group’s hash tag', () => {
    const ks = createKeyspace({ prefix: 'dh', shards: 16, tagGroups: 4 });
    for (let s = 0; s < 16; s++) {
      const k = ks.shard(s);
      const tags = new Set(
        [k.mailbox, k.lease, k.state, ks.timers(k.group), ks.timerData(k.group), ks.outbox(k.group)].map(
          hashTag,
        ),
      );
      assert.deepEqual([...tags], [`g${s % 4}`], `shard ${s}`);
      assert.equal(ks.mailboxTemplate(k.group).replace('%d', String(s)), k.mailbox);
      assert.equal(ks.leaseTemplate(k.group).replace('%d', String(s)), k.lease);
      assert.equal(hashTag(ks.ready(k.group)), `g${s % 4}`);
    }
  });

  it('hashes addresses to stable shards, spread over all of them', () => {
    const ks = createKeyspace({ shards: 64 });
    assert.equal(ks.shardOf('edge/E-1'), ks.shardOf('edge/E-1'));
    const used = new Set(Array.from({ length: 5000 }, (_, i) => ks.shardOf(`edge/E-${i}`)));
    assert.equal(used.size, 64);
  });

  it('groups items by hash tag', () => {
    const ks = createKeyspace({ shards: 8, tagGroups: 2 });
    const groups = groupByTag(
      ks,
      [0, 1, 2, 3, 5].map((shard) => ({ shard })),
    );
    assert.deepEqual(
      [...groups.entries()].map(([g, l]) => [g, l.map((i) => i.shard)]),
      [
        [0, [0, 2]],
        [1, [1, 3, 5]],
      ],
    );
  });

  it('refuses a bad layout with the value at fault', () => {
    assert.throws(() => createKeyspace({ shards: 0 }), /shards must be an integer 1\.\.16384, got 0/);
    assert.throws(
      () => createKeyspace({ shards: 4, tagGroups: 8 }),
      /tagGroups must be an integer 1\.\.4, got 8/,
    );
    assert.throws(() => createKeyspace({ prefix: 'a b' }), /prefix must match/);
  });

  it('computes the Redis Cluster slot of a key as Redis does (where WAIT is sent)', () => {
    // Each pair as `CLUSTER KEYSLOT` answered on a Redis 7 cluster node.
    for (const [key, slot] of [
      ['somekey', 11058],
      ['foo{hash_tag}', 2515],
      ['dh:{g7}:s7:mb', 5129],
      ['{webhook-3}:wait', 13020],
      ['a{}b', 13694],
      ['电梯', 3305],
    ] as const) {
      assert.equal(keySlot(key), slot, key);
    }
  });

  it('builds and parses timer members and tunnel claims; a web-backend queue is its own hash tag', () => {
    const member = timerMember(12, 'edge/E-1', 'offline');
    assert.equal(member, '12|edge/E-1|offline');
    assert.deepEqual(parseTimerMember(member), { shard: 12, address: 'edge/E-1', name: 'offline' });
    assert.equal(parseTimerMember('edge/E-1|offline'), undefined);
    assert.equal(tunnelClaim('E-1', 'ssh'), 'E-1|ssh');
    assert.deepEqual(parseTunnelClaim('E-1|ssh'), { edgeId: 'E-1', service: 'ssh' });
    assert.equal(parseTunnelClaim('nothing'), undefined);
    assert.equal(hashTag(webhookQueue(3)), 'webhook-3');
  });

  it('names a recognition queue per model (its own hash tag) and job ids BullMQ takes', () => {
    assert.equal(recognitionQueue('yolov8n-coco'), '{vision-yolov8n-coco}');
    assert.throws(() => recognitionQueue('a}b'), /model must match/);
    assert.equal(recognitionJobId('E-1', 'ev_7'), 'E-1/ev_7');
    // BullMQ refuses a ':' in a custom job id; an edge id may hold one.
    assert.equal(recognitionJobId('site:E.1', 'ev'), 'site%3AE.1/ev');
    assert.notEqual(recognitionJobId('a', 'b-c'), recognitionJobId('a-b', 'c'));
  });
});
