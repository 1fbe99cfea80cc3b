import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openBus } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { peekType, toItems } from './events.ts';
import { OutboxSink, SINK_GROUP } from './sink.ts';

const t = useRedis();

describe('outbox events read without parsing what is skipped', () => {
  it('peekType reads the type the way the hub writes events, and nothing else', () => {
    // As ctx.emit / ctx.publish write them: `at` first (an alarm's own `at` keeps the key's place).
    assert.equal(
      peekType(JSON.stringify({ at: 1764590000123, type: 'edge.tile', edgeId: 'E-1' })),
      'edge.tile',
    );
    assert.equal(peekType(JSON.stringify({ at: -5.5e3, type: 'alarm.start' })), 'alarm.start');
    // As ctx.send writes mail.
    assert.equal(peekType('{"type":"mail","to":"edge/E-1"}'), 'mail');
    for (const raw of [
      '{"edgeId":"E-1","type":"edge.tile"}', // type not where the hub puts it
      '{"at":"x","type":"edge.tile"}', // `at` not a number
      '{"at":1,"kind":"edge.tile"}',
      '{"type":"edge.t\\u0069le"}', // escaped: only JSON.parse may say what it is
      '{"type":"edge.tile', // cut short
      'not json',
      '',
    ]) {
      assert.equal(peekType(raw), undefined, raw);
    }
  });

  it('toItems leaves skipped types unparsed and counted, and parses everything else as before', () => {
    const entries: [string, string[]][] = [
      ['5-0', ['e', JSON.stringify({ at: 5, type: 'edge.tile', edgeId: 'E-1' })]],
      ['6-0', ['e', JSON.stringify({ at: 6, type: 'alarm.start', edgeId: 'E-1' })]],
      ['7-0', ['e', '{"type":"edge.tile",']], // malformed, and its type is a skipped one: skipped
      ['8-0', ['e', '{"edgeId":"E-2","type":"edge.tile"}']], // not peekable: parsed
      ['9-0', ['e', '{broken']],
    ];
    const all = toItems(0, entries);
    assert.equal(all.items.length, 3);
    assert.equal(all.unreadable.length, 2);
    assert.equal(all.skipped, 0);
    const some = toItems(0, entries, new Set(['edge.tile']));
    assert.deepEqual(
      some.items.map((i) => [i.id, i.event.type]),
      [
        ['g0-6-0', 'alarm.start'],
        ['g0-8-0', 'edge.tile'],
      ],
    );
    assert.deepEqual(
      some.unreadable.map((u) => u.id),
      ['g0-9-0'],
    );
    assert.equal(some.skipped, 2);
  });

  it('a sink acknowledges skipped events with their batch and hands the handlers only the rest', async () => {
    const keyspace = t.keyspace({ shards: 4 });
    const stream = keyspace.outbox(0);
    const got: string[] = [];
    await using sink = new OutboxSink({
      bus: openBus({ redis: t.connect(), keyspace }),
      skipTypes: new Set(['edge.tile']),
      handlers: [
        async (items) => {
          for (const item of items) got.push(`${item.event.type}:${item.event.n}`);
        },
      ],
      leaseTtlMs: 3000,
    }).start();
    for (let n = 1; n <= 6; n++) {
      const type = n % 2 === 0 ? 'edge.online' : 'edge.tile';
      await t.redis.xadd(stream, '*', 'e', JSON.stringify({ at: n, type, edgeId: 'E-1', n }));
    }
    await waitFor(() => sink.stats.handled + sink.stats.skipped === 6, { message: 'all six read' });
    assert.deepEqual(got, ['edge.online:2', 'edge.online:4', 'edge.online:6']);
    assert.equal(sink.stats.skipped, 3);
    const [pending] = (await t.redis.xpending(stream, SINK_GROUP)) as [number];
    assert.equal(pending, 0, 'skipped entries are acknowledged too');
  });
});
