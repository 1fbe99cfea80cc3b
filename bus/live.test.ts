/**
 * The live streams (live.ts, live.lua and commit.lua's published events) against a real Redis
 * (and the cluster pass): one entry per append or commit, numbered without a gap; entries past
 * the retention trimmed; a fenced shard's published events never written; entries read back and
 * a gap in their numbers seen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { useRedis } from '../infra/test-redis.ts';
import type { ShardCommit } from './commit.ts';
import { appendLive, LiveSequence, parseLiveEntry } from './live.ts';

const t = useRedis();

const read = async (key: string) =>
  (await t.redis.xrange(key, '-', '+')).map(([id, fields]) => ({ id, ...parseLiveEntry(fields)! }));

describe('live streams', () => {
  it('take a batch of events as one entry, numbered one after another', async () => {
    const keyspace = t.keyspace();
    await appendLive(t.redis, keyspace, 0, [
      '{"type":"edge.tile","edgeId":"E-1"}',
      '{"type":"edge.tile","edgeId":"E-2"}',
    ]);
    await appendLive(t.redis, keyspace, 0, ['{"type":"edge.tile","edgeId":"E-1","floor":3}']);
    const entries = await read(keyspace.live(0));
    assert.deepEqual(
      entries.map((e) => [e.n, e.events]),
      [
        [
          1,
          [
            { type: 'edge.tile', edgeId: 'E-1' },
            { type: 'edge.tile', edgeId: 'E-2' },
          ],
        ],
        [2, [{ type: 'edge.tile', edgeId: 'E-1', floor: 3 }]],
      ],
    );
  });

  it('trim the entries older than the retention when the next is appended', async () => {
    const keyspace = t.keyspace();
    // Big enough that each entry fills a stream node of its own (trimming `~` drops whole nodes).
    const big = JSON.stringify({ type: 'edge.tile', pad: 'x'.repeat(5000) });
    await appendLive(t.redis, keyspace, 0, [big], 300);
    await appendLive(t.redis, keyspace, 0, [big], 300);
    await delay(500);
    await appendLive(t.redis, keyspace, 0, [big], 300);
    assert.deepEqual(
      (await read(keyspace.live(0))).map((e) => e.n),
      [3],
      'the two old ones trimmed: a reader that had read only up to 1 sees 3 next, a gap',
    );
  });

  it('get a commit’s published events as one entry, and none of a fenced shard', async () => {
    const keyspace = t.keyspace({ shards: 64 });
    const bus = t.bus(keyspace);
    // Two shards of one tag group, so one commit.lua call writes both.
    const [a, b] = Array.from({ length: 64 }, (_, s) => s).filter(
      (s) => keyspace.groupOf(s) === keyspace.groupOf(0),
    );
    assert.ok(b !== undefined, 'two shards share a tag group');
    await bus.acquireLeases({ node: 'n1', shards: [a!], ttlMs: 10_000 });
    const write = (shard: number, published: string[]): ShardCommit => ({
      shard,
      epoch: 1,
      acks: [],
      states: [],
      timers: [],
      cancels: [],
      outbox: [],
      published,
    });
    const fenced = await bus.commit({
      node: 'n1',
      shards: [write(a!, ['{"type":"t","v":1}', '{"type":"t","v":2}']), write(b!, ['{"type":"t","v":3}'])],
    });
    assert.deepEqual(fenced, [b], 'the shard n1 holds no lease of is fenced');
    await bus.commit({ node: 'n1', shards: [write(a!, [])] });
    const entries = await read(keyspace.live(keyspace.groupOf(a!)));
    assert.deepEqual(
      entries.map((e) => [e.n, e.events]),
      [
        [
          1,
          [
            { type: 't', v: 1 },
            { type: 't', v: 2 },
          ],
        ],
      ],
      'one entry for the commit, without the fenced shard’s event; a commit publishing nothing adds none',
    );
  });

  it('are read back only when they are what live.lua writes, and a gap in their numbers is seen', () => {
    assert.deepEqual(parseLiveEntry(['n', '7', 'e', '[{"type":"x"}]']), { n: 7, events: [{ type: 'x' }] });
    for (const fields of [
      ['n', '7'],
      ['e', '[]'],
      ['n', 'seven', 'e', '[]'],
      ['n', '7', 'e', '{"type":"x"}'],
      ['n', '7', 'e', '[{"type":'],
    ])
      assert.equal(parseLiveEntry(fields), undefined, JSON.stringify(fields));
    const sequence = new LiveSequence(4);
    assert.deepEqual(
      [5, 6, 8, 9, 1].map((n) => sequence.see(n)),
      [true, true, false, true, false],
    );
    assert.equal(new LiveSequence().see(42), true, 'a stream empty at the start: its first entry is no gap');
  });
});
