/**
 * The hub node's clip policy: the default until a gateway wrote one, then the written one; a value
 * that is not a policy keeps the last good one (and says so once).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient, type Logger, type OutboxEvent } from '../../actors/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type ClipPolicy, clipIdOf, DEFAULT_CLIP_POLICY } from '../protocol/mod.ts';
import { edgeActor } from './edge-actor.ts';
import { openPolicySource } from './policy-source.ts';

const t = useRedis();

function warnings(list: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_fields, msg) => void list.push(String(msg)),
    error: () => {},
    child: () => logger,
  };
  return logger;
}

describe('policy source: the clip policy', () => {
  it('reads the default, then the written policy, and keeps the last good one over a bad value', async () => {
    const keyspace = t.keyspace();
    const warned: string[] = [];
    await using source = await openPolicySource({ redis: t.redis, keyspace, logger: warnings(warned) });
    assert.deepEqual(source.clips(), DEFAULT_CLIP_POLICY, 'nothing written yet: the default');

    const policy: ClipPolicy = {
      kinds: {
        smoke: {
          preRollSeconds: 0,
          postRollSeconds: 5,
          maxSeconds: 60,
          retentionDays: 7,
          deadlineMinutes: 30,
        },
      },
    };
    await t.redis.set(keyspace.clipPolicy, JSON.stringify(policy));
    await source.refresh();
    assert.deepEqual(source.clips(), policy);

    for (const bad of [
      '{not json',
      JSON.stringify({ kinds: { smoke: { ...policy.kinds.smoke, maxSeconds: 1 } } }),
    ]) {
      await t.redis.set(keyspace.clipPolicy, bad);
      await source.refresh();
      await source.refresh();
      assert.deepEqual(source.clips(), policy, `kept over ${bad}`);
    }
    assert.deepEqual(warned, [
      'clip policy: not JSON, keeping the last one',
      'clip policy: refused, keeping the last one',
    ]);

    await t.redis.del(keyspace.clipPolicy);
    await source.refresh();
    assert.deepEqual(source.clips(), DEFAULT_CLIP_POLICY, 'gone: the default again');
  });

  it('is what a devicehub node’s edge actors request clips by', { timeout: 60_000 }, async () => {
    const keyspace = t.keyspace();
    const policy: ClipPolicy = {
      kinds: {
        smoke: {
          preRollSeconds: 2,
          postRollSeconds: 3,
          maxSeconds: 60,
          retentionDays: 9,
          deadlineMinutes: 5,
        },
      },
    };
    await t.redis.set(keyspace.clipPolicy, JSON.stringify(policy));
    await using node = t.hubProcess(keyspace, 'clip-node');
    await node.ready;
    const client = createActorClient(t.bus(keyspace), edgeActor);
    const since = Date.now();
    await client.send('E-3', 'alarm', { alarm: 'trapped', phase: 'start', ts: since });
    await client.send('E-3', 'alarm', { alarm: 'smoke', phase: 'start', ts: since });
    await client.send('E-3', 'alarm', { alarm: 'trapped', phase: 'end', ts: since + 1000 });
    await client.send('E-3', 'alarm', { alarm: 'smoke', phase: 'end', ts: since + 1000 });
    const group = keyspace.groupOf(keyspace.shardOf('edge/E-3'));
    const events = async () =>
      ((await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][]).map(
        ([, fields]) => JSON.parse(fields[1]!) as OutboxEvent,
      );
    await waitFor(async () => (await events()).filter((e) => e.type === 'alarm.end').length === 2, {
      message: 'both alarms ended on the node',
    });
    const requested = (await events()).filter((e) => e.type === 'clip.requested');
    assert.deepEqual(
      requested.map((e) => [e.clipId, e.retentionDays, e.window]),
      [[clipIdOf('E-3', 'smoke', since), 9, { start: since - 2000, end: since + 4000 }]],
      'the written policy, not the default (which has trapped and not smoke)',
    );
  });
});
