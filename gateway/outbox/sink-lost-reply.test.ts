/**
 * The outbox sink when a read's reply is lost with its connection: Redis moved the events into
 * the sink's pending list, the sink never heard, and ioredis sent the read again after the
 * reconnect. The events must still reach the handlers, once each and in order. The relay
 * (infra/wire-cut.ts) holds the replies back and cuts at the exact moment.
 *
 * Runs once, on its own redis-server: a TCP relay cannot stand between a client and a cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyspace, openBus } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { pendingCount, useWireCutRedis } from '../../infra/test-wire-cut.ts';
import { OutboxSink, SINK_GROUP } from './sink.ts';

const t = useWireCutRedis();

describe('the outbox sink whose read reply is lost with the connection', () => {
  it('hands every event on once, in order', async () => {
    const keyspace = createKeyspace({ shards: 8, tagGroups: 1, prefix: 'sinklost' });
    const stream = keyspace.outbox(0);
    const redis = t.redis;
    await using cut = await t.relay('gateway');
    const got: number[] = [];
    await using _sink = new OutboxSink({
      bus: openBus({ redis: cut.redis, keyspace }),
      handlers: [
        async (items) => {
          for (const item of items) got.push(item.event.n as number);
        },
      ],
      leaseTtlMs: 3000,
    }).start();
    const emit = (n: number) =>
      redis.xadd(stream, '*', 'e', JSON.stringify({ type: 'edge.online', edgeId: 'E-1', n }));
    const pending = () => pendingCount(redis, [stream], SINK_GROUP);
    await emit(1);
    await waitFor(async () => got.includes(1) && (await pending()) === 0, {
      timeoutMs: 10_000,
      message: 'the sink to handle and acknowledge event 1',
    });

    // Redis serves the sink's blocked read (event 2 pending under its name), and its reply is lost.
    const atCut = await cut.loseReplies(
      '"n":2}',
      () => emit(2),
      async () => (await pending()) === 1,
      'the sink to read event 2',
    );
    await emit(3);
    await emit(4);
    await waitFor(() => got.includes(4), {
      timeoutMs: 15_000,
      message: 'event 4 to be handled',
      explain: () => `got ${JSON.stringify(got)}`,
    });
    await waitFor(async () => (await pending()) === 0, {
      timeoutMs: 10_000,
      message: 'every event acknowledged',
    });
    assert.deepEqual(got, [1, 2, 3, 4], 'each event once, in order');
    assert.ok(cut.wire.connections > atCut, 'the sink connected again after the cut');
  });
});
