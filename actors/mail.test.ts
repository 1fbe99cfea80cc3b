import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../infra/mod.ts';
import { FAST_HUB, useRedis } from '../infra/test-redis.ts';
import { createActorClient } from './client.ts';
import { type ActorContext, defineActor, MAIL_EVENT } from './define.ts';
import { MAIL_GROUP } from './node/mail-relay.ts';
import { startHubNode } from './node/mod.ts';
import { readActorState } from './read-state.ts';

const t = useRedis();

/** Forwards each `forward` to `inbox/<to>` as `got` with its number (and to an invalid address when asked). */
const sender = defineActor({
  type: 'sender',
  initialState: () => ({ sent: 0 }),
  handlers: {
    forward(state: { sent: number }, p: { to: string; n: number }, ctx: ActorContext) {
      ctx.send(`inbox/${p.to}`, 'got', { n: p.n, from: ctx.id });
      return { sent: state.sent + 1 };
    },
  },
});

interface Inbox {
  readonly got: readonly number[];
  readonly repeated: number;
}

/** Keeps each number once (idempotent, as mail handlers must be) and counts repeats. */
const inbox = defineActor({
  type: 'inbox',
  initialState: (): Inbox => ({ got: [], repeated: 0 }),
  handlers: {
    got(state: Inbox, p: { n: number }): Inbox {
      if (state.got.includes(p.n)) return { ...state, repeated: state.repeated + 1 };
      return { ...state, got: [...state.got, p.n] };
    },
  },
});

const inboxOf = async (keyspace: ReturnType<typeof t.keyspace>, id: string) =>
  (await readActorState<Inbox>(t.bus(keyspace), `inbox/${id}`))?.state;

describe('mail between actors (ctx.send through the outbox and the relay)', () => {
  it('delivers every message in order across two nodes', async () => {
    const keyspace = t.keyspace();
    const start = (nodeId: string) =>
      startHubNode({ bus: t.bus(keyspace, t.connect()), actors: [sender, inbox], nodeId, ...FAST_HUB });
    await using _a = await start('a');
    await using _b = await start('b');
    const client = createActorClient(t.bus(keyspace), sender);
    for (let n = 1; n <= 20; n++)
      await client.sendMany(
        Array.from({ length: 5 }, (_, i) => ({
          id: `s${i}`,
          method: 'forward',
          payload: { to: 'x', n: i * 100 + n },
        })),
      );
    const state = await waitFor(
      async () => {
        const s = await inboxOf(keyspace, 'x');
        return s !== undefined && s.got.length === 100 ? s : undefined;
      },
      { message: 'the inbox to get 100 messages' },
    );
    for (let i = 0; i < 5; i++) {
      const fromSender = state.got.filter((n) => Math.floor(n / 100) === i);
      assert.deepEqual(
        fromSender,
        [...fromSender].sort((a, b) => a - b),
        `sender s${i}'s mail in order`,
      );
    }
  });

  it('takes over mail a dead node read and never acknowledged (at least once)', async () => {
    const keyspace = t.keyspace();
    const outbox = keyspace.outbox(keyspace.groupOf(keyspace.shardOf('inbox/y')));
    await t.redis.xgroup('CREATE', outbox, MAIL_GROUP, '0', 'MKSTREAM');
    const mail = (n: number) =>
      JSON.stringify({
        type: MAIL_EVENT,
        to: 'inbox/y',
        method: 'got',
        payload: { n },
        address: 'sender/z',
        at: 1,
      });
    await t.redis.xadd(outbox, '*', 'e', mail(1));
    await t.redis.xadd(outbox, '*', 'e', mail(2));
    await t.redis.xadd(outbox, '*', 'e', JSON.stringify({ type: 'edge.online', edgeId: 'E-1' }));
    // A node read them and died before enqueueing or acknowledging.
    await t.redis.xreadgroup('GROUP', MAIL_GROUP, 'dead-node', 'COUNT', 10, 'STREAMS', outbox, '>');
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [sender, inbox],
      nodeId: 'c',
      ...FAST_HUB,
    });
    const state = await waitFor(
      async () => {
        const s = await inboxOf(keyspace, 'y');
        return s !== undefined && s.got.length === 2 ? s : undefined;
      },
      { message: 'the abandoned mail to arrive' },
    );
    assert.deepEqual(state.got, [1, 2]);
    await waitFor(async () => Number((await t.redis.xpending(outbox, MAIL_GROUP))[0]) === 0, {
      message: 'every outbox entry acknowledged by the mail group',
    });
  });

  it('refuses to send to an address no actor can have (the handler fails for good)', async () => {
    const keyspace = t.keyspace();
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [sender, inbox],
      nodeId: 'd',
      ...FAST_HUB,
    });
    const client = createActorClient(t.bus(keyspace), sender);
    await client.send('s1', 'forward', { to: 'bad id with spaces', n: 1 });
    await client.send('s1', 'forward', { to: 'ok', n: 2 });
    const state = await waitFor(async () => inboxOf(keyspace, 'ok'), { message: 'the good mail' });
    assert.deepEqual(state.got, [2]);
    const s1 = await readActorState<{ sent: number }>(t.bus(keyspace), 'sender/s1');
    assert.equal(s1?.state.sent, 1, 'the bad send was dead-lettered, not applied');
  });

  it('stops within its stop timeout when Redis is gone (the relay’s read in flight does not hold it)', async () => {
    const keyspace = t.keyspace();
    const node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [sender, inbox],
      nodeId: 'e',
      ...FAST_HUB,
    });
    await t.server.kill();
    // The pause is the point: the relay (a read every 50 ms) issues a read while Redis is gone,
    // which then waits for a reconnect that never comes (nothing signals that it is in flight).
    await sleep(300);
    try {
      // A deadline, not a sleep: the race ends as soon as the stop does (about leaseMs, 600 ms).
      const stopped = await Promise.race([
        node.stopWithReport(),
        sleep(20_000).then(() => 'still stopping' as const),
      ]);
      // (What it still held depends on how long the kill took against the 600 ms leases.)
      assert.notEqual(stopped, 'still stopping', 'the stop ended');
    } finally {
      await t.server.restart();
    }
  });
});

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });
