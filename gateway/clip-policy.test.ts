/**
 * The alarm-clip policy through the configuration: the gateway writes the default to Redis at
 * start and the devicehub document's `clips` once it is written (the hub node's source reads it
 * there); invalid clip settings and edge cameras are refused with a 400 naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { silentLogger } from '../actors/mod.ts';
import { type ClipPolicy, DEFAULT_CLIP_POLICY, openPolicySource } from '../edge/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

const kind = {
  preRollSeconds: 10,
  postRollSeconds: 20,
  maxSeconds: 120,
  retentionDays: 30,
  deadlineMinutes: 90,
};

describe('the clip policy', { timeout: 60_000 }, () => {
  useDatabase('pglite');

  it('is the default until the devicehub configuration names one, then that one, in Redis for the nodes', async () => {
    await using s = await setupDisposable();
    const stored = async () => JSON.parse((await t.redis.get(s.keyspace.clipPolicy)) ?? 'null') as unknown;
    assert.deepEqual(await stored(), DEFAULT_CLIP_POLICY, 'written at start');
    await using source = await openPolicySource({
      redis: t.redis,
      keyspace: s.keyspace,
      logger: silentLogger,
    });

    const policy: ClipPolicy = { kinds: { trapped: kind, smoke: { ...kind, maxSeconds: 1800 } } };
    const put = (clipsValue: unknown) =>
      s.call('PUT', '/v1/config/devicehub/global', { key: s.keys.operator, body: { clips: clipsValue } });
    assert.equal((await put(policy)).status, 200);
    await waitFor(async () => isDeepStrictEqual(await stored(), policy), {
      message: 'the written policy in Redis',
    });
    await source.refresh();
    assert.deepEqual(source.clips(), policy, 'what the hub node’s edge actors use');

    for (const [bad, field] of [
      [{ kinds: { trapped: { ...kind, maxSeconds: 1801 } } }, 'clips.kinds.trapped.maxSeconds'],
      [{ kinds: { trapped: { ...kind, maxSeconds: 4 } } }, 'clips.kinds.trapped.maxSeconds'],
      [{ kinds: { trapped: { ...kind, preRollSeconds: -1 } } }, 'clips.kinds.trapped.preRollSeconds'],
      [{ kinds: { trapped: { ...kind, postRollSeconds: 301 } } }, 'clips.kinds.trapped.postRollSeconds'],
      [{ kinds: { trapped: { ...kind, retentionDays: 0 } } }, 'clips.kinds.trapped.retentionDays'],
      [{ kinds: { trapped: { ...kind, deadlineMinutes: 1441 } } }, 'clips.kinds.trapped.deadlineMinutes'],
      [{ kinds: { trapped: { ...kind, maxSeconds: 12.5 } } }, 'clips.kinds.trapped.maxSeconds'],
      [{ kinds: { trapped: { ...kind, extra: 1 } } }, 'clips.kinds.trapped'],
      [{ kinds: { 'no spaces': kind } }, 'clips.kinds'],
      [{ kinds: [] }, 'clips.kinds'],
      ['all', 'clips'],
    ] as const) {
      const res = await put(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.includes(field), `${error.message} names ${field}`);
    }
    assert.deepEqual(await stored(), policy, 'a refused write changes nothing');

    const camera = (value: unknown) =>
      s.call('PUT', '/v1/config/edge/module:E-1', { key: s.keys.operator, body: { camera: value } });
    assert.equal((await camera({ serial: 'K7L2M9Q4Z', channel: 1 })).status, 200);
    for (const [bad, field] of [
      [{ serial: 'K7L 2M9', channel: 1 }, 'camera.serial'],
      [{ serial: 'K7L2M9Q4Z', channel: 0 }, 'camera.channel'],
      [{ serial: 'K7L2M9Q4Z' }, 'camera.channel'],
    ] as const) {
      const res = await camera(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.includes(field), `${error.message} names ${field}`);
    }
  });
});
