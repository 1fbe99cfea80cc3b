/**
 * The mailbox trim in chunks: one trim.lua per TRIM_CHUNK_STREAMS mailboxes of a tag group, each
 * sent after the last answered, so no single script holds Redis for a whole node's shards
 * (decision 060) — and the chunks together trim and count exactly what one script did.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from '../infra/test-redis.ts';
import { CONSUMER_GROUP, groupByTag, TRIM_CHUNK_STREAMS } from './mod.ts';
import { trimShards } from './upkeep.ts';

const t = useRedis();

/** Scripts run so far (EVALSHA and EVAL), summed over every master. */
const scriptCalls = () => t.commandCalls('evalsha', 'eval');

describe('mailbox trim', () => {
  it('runs one script per chunk of a tag group and trims every acknowledged entry', async () => {
    const keyspace = t.keyspace({ shards: 200 });
    const bus = t.bus(keyspace);
    const shards = Array.from({ length: keyspace.shards }, (_, s) => s);
    // Each mailbox: three entries read by the group, the first two acknowledged.
    for (const shard of shards) {
      const key = keyspace.shard(shard).mailbox;
      await t.redis.xgroup('CREATE', key, CONSUMER_GROUP, '$', 'MKSTREAM');
      for (let i = 0; i < 3; i++)
        await t.redis.xadd(key, '*', 'a', `edge/E-${shard}`, 'm', 'status', 'p', '{}');
      const read = (await t.redis.xreadgroup('GROUP', CONSUMER_GROUP, 'c', 'STREAMS', key, '>')) as [
        string,
        [string, string[]][],
      ][];
      const ids = read[0]![1].map(([id]) => id);
      await t.redis.xack(key, CONSUMER_GROUP, ids[0]!, ids[1]!);
    }
    const chunk = 16;
    const expected = [
      ...groupByTag(
        keyspace,
        shards.map((shard) => ({ shard })),
      ).values(),
    ].reduce((sum, list) => sum + Math.ceil(list.length / chunk), 0);
    assert.ok(expected >= 13, `${expected} chunks: more than one per tag group`);

    const before = await scriptCalls();
    const trimmed = await trimShards(bus, shards, chunk);
    const calls = (await scriptCalls()) - before;

    assert.deepEqual(trimmed, { removed: 2 * shards.length, backlog: shards.length });
    assert.equal(calls, expected, `one trim script per ${chunk} mailboxes of a tag group`);
    for (const shard of [0, 17, 199]) assert.equal(await t.redis.xlen(keyspace.shard(shard).mailbox), 1);
  });

  it('chunks a node of 1,024 shards into scripts of at most TRIM_CHUNK_STREAMS mailboxes', async () => {
    const keyspace = t.keyspace({ shards: 1024 });
    const shards = Array.from({ length: keyspace.shards }, (_, s) => s);
    const before = await scriptCalls();
    // Mailboxes that do not exist yet (a node that holds shards no edge has written to) trim to nothing.
    assert.deepEqual(await trimShards(t.bus(keyspace), shards), { removed: 0, backlog: 0 });
    assert.equal((await scriptCalls()) - before, 1024 / TRIM_CHUNK_STREAMS);
  });
});
