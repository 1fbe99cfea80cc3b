/**
 * The hub node's clip policy: the default until a gateway wrote one, then the written one; a value
 * that is not a policy keeps the last good one (and says so once).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../actors/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type ClipPolicy, DEFAULT_CLIP_POLICY } from '../protocol/mod.ts';
import { openClipPolicySource } from './clip-policy-source.ts';

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

describe('clip policy source', () => {
  it('reads the default, then the written policy, and keeps the last good one over a bad value', async () => {
    const keyspace = t.keyspace();
    const warned: string[] = [];
    await using source = await openClipPolicySource({ redis: t.redis, keyspace, logger: warnings(warned) });
    assert.deepEqual(source.current(), DEFAULT_CLIP_POLICY, 'nothing written yet: the default');

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
    assert.deepEqual(source.current(), policy);

    for (const bad of [
      '{not json',
      JSON.stringify({ kinds: { smoke: { ...policy.kinds.smoke, maxSeconds: 1 } } }),
    ]) {
      await t.redis.set(keyspace.clipPolicy, bad);
      await source.refresh();
      await source.refresh();
      assert.deepEqual(source.current(), policy, `kept over ${bad}`);
    }
    assert.deepEqual(warned, [
      'clip policy: not JSON, keeping the last one',
      'clip policy: refused, keeping the last one',
    ]);

    await t.redis.del(keyspace.clipPolicy);
    await source.refresh();
    assert.deepEqual(source.current(), DEFAULT_CLIP_POLICY, 'gone: the default again');
  });
});
