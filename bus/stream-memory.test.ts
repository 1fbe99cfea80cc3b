/**
 * What a trimmed mailbox keeps: the Redis servers we start (tests, demo, `npm run cluster`,
 * compose) use 1 KB stream nodes (STREAM_NODE_MAX_BYTES), so a trim that cuts into a node frees
 * the entries it cut instead of keeping them marked deleted (decision 059).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STREAM_NODE_MAX_BYTES } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { CONSUMER_GROUP } from './mod.ts';

const t = useRedis();

describe('stream memory after a trim', () => {
  it('every master runs with small stream nodes', async () => {
    for (const master of await t.masters()) {
      assert.deepEqual(await master.config('GET', 'stream-node-max-bytes'), [
        'stream-node-max-bytes',
        String(STREAM_NODE_MAX_BYTES),
      ]);
    }
  });

  it('trimming ten acknowledged entries of twelve frees their memory', async () => {
    const key = `${t.keyspace().prefix}:{mem}:mb`;
    // ~360 B entries: a 4 KB node holds eleven of them, a 1 KB node two.
    const payload = JSON.stringify({ status: 'x'.repeat(300) });
    await t.redis.xgroup('CREATE', key, CONSUMER_GROUP, '$', 'MKSTREAM');
    for (let i = 0; i < 12; i++)
      await t.redis.xadd(key, '*', 'a', 'edge/E-000001', 'm', 'status', 'p', payload);
    const read = (await t.redis.xreadgroup(
      'GROUP',
      CONSUMER_GROUP,
      'c',
      'COUNT',
      100,
      'STREAMS',
      key,
      '>',
    )) as [string, [string, string[]][]][];
    const ids = read[0]![1].map(([id]) => id);
    await t.redis.xack(key, CONSUMER_GROUP, ...ids.slice(0, 10));
    const usage = async () => Number(await t.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const before = await usage();
    // As trim.lua does: acknowledged entries go, everything from the oldest pending one on stays.
    await t.redis.xtrim(key, 'MINID', ids[10]!);
    assert.equal(await t.redis.xlen(key), 2);
    const freed = before - (await usage());
    assert.ok(
      freed >= 10 * 300 * 0.8,
      `the trim freed ${freed} B of ten ~360 B entries (${before} B before)`,
    );
  });
});
