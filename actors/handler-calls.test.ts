import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDeadLetters } from '../bus/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { FAST_HUB, useRedis } from '../infra/test-redis.ts';
import type { ActorSlot } from './actor-table.ts';
import { createActorClient } from './client.ts';
import type { ActorContext } from './define.ts';
import { startHubNode } from './node/mod.ts';
import { readActorState } from './read-state.ts';
import { type CounterState, counterActor } from './testdata/actors.ts';
import { HandlerContext } from './turn/context.ts';

const t = useRedis();

describe('handler calls: synchronous ones without a promise, asynchronous ones as before', () => {
  it('applies sync and async handlers in order, retries an async one, and dead-letters it when it keeps failing', async () => {
    const keyspace = t.keyspace({ shards: 1 });
    await using node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [counterActor],
      maxAttempts: 3,
      ...FAST_HUB,
    });
    const client = createActorClient(t.bus(keyspace), counterActor);
    await client.send('h', 'add', { seq: 1 });
    await client.send('h', 'laterFlaky', { seq: 2, failures: 2 }); // third attempt succeeds
    await client.send('h', 'add', { seq: 3 });
    await client.send('h', 'laterFlaky', { seq: 4, failures: 3 }); // every attempt fails
    await client.send('h', 'laterFlaky', { seq: 5, terminal: true }); // refused at once
    await client.send('h', 'laterFlaky', { seq: 6 });
    await client.send('h', 'add', { seq: 7 });
    const state = async () => (await readActorState<CounterState>(t.bus(keyspace), 'counter/h'))?.state;
    await waitFor(async () => (await state())?.lastSeq === 7, { message: 'seq 7 applied' });
    const final = (await state())!;
    assert.equal(final.count, 5, 'seq 1, 2, 3, 6 and 7 applied, once each');
    assert.equal(final.duplicates, 0);
    assert.equal(final.outOfOrder, 1, 'one gap (6 after 3: 4 and 5 dead-lettered), nothing else');

    const letters = await readDeadLetters(t.bus(keyspace));
    assert.deepEqual(letters.map((l) => l.reason).sort(), [
      'handler "laterFlaky" failed: attempt 3 failed',
      'handler "laterFlaky" failed: refused for good, later',
    ]);
    assert.equal(node.stats().deadLettered, 2);
    const events = (
      (await t.redis.xrange(keyspace.outbox(keyspace.groupOf(0)), '-', '+')) as [string, string[]][]
    )
      .map(([, fields]) => JSON.parse(fields[1]!) as { type: string; seq: number; attempt: number })
      .filter((e) => e.type === 'counter.later');
    assert.deepEqual(
      events.map((e) => [e.seq, e.attempt]),
      [
        [2, 3],
        [6, 1],
      ],
      'only the successful attempt’s effects are committed',
    );
  });

  it('keeps the effects of a context wrapped with Object.create (methods run with the wrapper as this)', () => {
    const slot = {
      address: 'counter/w',
      id: 'w',
      shard: 3,
      definition: counterActor,
    } as unknown as ActorSlot;
    const ctx = new HandlerContext(
      slot,
      { id: '1-1', address: 'counter/w', method: 'add', payload: {}, enqueuedAt: 5 },
      {
        log: undefined as never,
        now: 1000,
        epoch: 2,
      },
    );
    const caught: unknown[] = [];
    const inner: ActorContext = Object.create(ctx, { emit: { value: (e: unknown) => caught.push(e) } });
    inner.setTimer('ring', 50, { x: 1 });
    inner.publish({ type: 'counter.tile', n: 1 });
    inner.emit({ type: 'counter.caught' });
    ctx.send('counter/other', 'add', { seq: 1 });
    assert.equal(inner.id, 'w');
    assert.equal(inner.now, 1000);
    assert.deepEqual(
      [...ctx.effects.timers!.values()],
      [{ due: 1050, data: '{"name":"ring","data":{"x":1}}' }],
    );
    assert.equal(ctx.effects.published!.length, 1);
    assert.match(ctx.effects.published![0]!, /"type":"counter.tile".*"address":"counter\/w"/);
    assert.deepEqual(caught, [{ type: 'counter.caught' }], 'the wrapper’s own emit, not the context’s');
    assert.equal(ctx.effects.outbox!.length, 1, 'the send only');
    assert.throws(() => inner.setTimer('bad name', 1), /invalid timer name/);
  });
});
