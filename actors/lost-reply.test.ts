/**
 * A reply lost with its connection: the command ran on Redis, the answer never came, and ioredis
 * sent the command again once it reconnected. A hub node's read moves entries into its pending
 * list, so the read that ran first must not leave them there unseen (CI caught this once as a
 * Redis restart under traffic with every counter five short). The relay (infra/wire-cut.ts) holds
 * the replies back and cuts the connection at the exact moment instead of leaving it to timing.
 *
 * Redis Cluster pass: once. It starts its own redis-server: a relay cannot stand between a
 * client and a cluster's redirections, and what is tested is how the node reads, not the cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONSUMER_GROUP, createKeyspace, openBus, tryDecode } from '../bus/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { FAST_HUB } from '../infra/test-redis.ts';
import { pendingCount, useWireCutRedis } from '../infra/test-wire-cut.ts';
import { createActorClient } from './client.ts';
import { MAIL_EVENT } from './define.ts';
import { silentLogger } from './logger.ts';
import { MAIL_GROUP, MailRelay } from './node/mail-relay.ts';
import { startHubNode } from './node/mod.ts';
import { readActorState } from './read-state.ts';
import { type CounterState, counterActor } from './testdata/actors.ts';

const t = useWireCutRedis();

describe('a hub node whose read reply is lost with the connection', () => {
  it('reads its pending entries again: no message skipped, none applied twice', async () => {
    const keyspace = createKeyspace({ shards: 8, tagGroups: 1, prefix: 'lost' });
    const redis = t.redis;
    const bus = openBus({ redis, keyspace });
    await using cut = await t.relay('hub');
    await using _node = await startHubNode({
      bus: openBus({ redis: cut.redis, keyspace }),
      actors: [counterActor],
      nodeId: 'n1',
      ...FAST_HUB,
    });
    const client = createActorClient(bus, counterActor);
    const actors = 12;
    const round = (seq: number) =>
      client.sendMany(
        Array.from({ length: actors }, (_, i) => ({ id: `c${i}`, method: 'add', payload: { seq } })),
      );
    const states = () =>
      Promise.all(
        Array.from(
          { length: actors },
          async (_, i) => (await readActorState<CounterState>(bus, `counter/c${i}`))?.state,
        ),
      );
    const reach = (count: number) =>
      waitFor(async () => (await states()).every((s) => s?.count === count), {
        timeoutMs: 20_000,
        message: `every counter to reach ${count}`,
        explain: async () => `got ${JSON.stringify(await states())}`,
      });
    const mailboxes = Array.from({ length: keyspace.shards }, (_, s) => keyspace.shard(s).mailbox);
    const pending = () => pendingCount(redis, mailboxes, CONSUMER_GROUP);
    await round(1);
    await reach(1); // checkpointed: round 1 is acknowledged, nothing is pending
    assert.equal(await pending(), 0, 'nothing pending before the cut');

    // The node's read runs (round 2 in its pending list) and its reply is lost.
    const atCut = await cut.loseReplies(
      '{"seq":2}',
      () => round(2),
      async () => (await pending()) === actors,
      'the node to read round 2',
    );
    for (let seq = 3; seq <= 6; seq++) await round(seq);
    await reach(6);
    for (const [i, s] of (await states()).entries()) {
      assert.deepEqual([s!.count, s!.lastSeq, s!.outOfOrder, s!.duplicates], [6, 6, 0, 0], `counter c${i}`);
    }
    assert.ok(cut.wire.connections > atCut, 'the node connected again after the cut');
  });

  it('relays mail whose outbox read lost its reply: every message, in order, without waiting for a takeover', async () => {
    const keyspace = createKeyspace({ shards: 8, tagGroups: 1, prefix: 'lostmail' });
    const outbox = keyspace.outbox(0);
    const mailbox = keyspace.shard(keyspace.shardOf('counter/m')).mailbox;
    const redis = t.redis;
    await using cut = await t.relay('relay');
    // A takeover of abandoned entries would find the lost ones after a minute: too late to count.
    await using _relay = await new MailRelay({
      bus: openBus({ redis: cut.redis, keyspace }),
      consumer: 'n1',
      log: silentLogger,
      claimIdleMs: 60_000,
    }).start();
    const mail = (seq: number) =>
      redis.xadd(
        outbox,
        '*',
        'e',
        JSON.stringify({ type: MAIL_EVENT, to: 'counter/m', method: 'add', payload: { seq } }),
      );
    const pending = () => pendingCount(redis, [outbox], MAIL_GROUP);
    const relayed = async () =>
      (await redis.xrange(mailbox, '-', '+')).map(([id, fields]) => {
        const decoded = tryDecode({ id, fields });
        assert.ok(decoded.ok, 'a relayed message decodes');
        return (decoded.entry.payload as { seq: number }).seq;
      });
    await mail(1);
    await waitFor(async () => (await relayed()).length === 1 && (await pending()) === 0, {
      timeoutMs: 10_000,
      message: 'mail 1 relayed and acknowledged',
    });

    const atCut = await cut.loseReplies(
      '{"seq":2}',
      () => mail(2),
      async () => (await pending()) === 1,
      'the relay to read mail 2',
    );
    await mail(3);
    await waitFor(async () => (await relayed()).length >= 3 && (await pending()) === 0, {
      timeoutMs: 15_000,
      message: 'mail 2 and 3 relayed and acknowledged',
      explain: async () => `relayed ${JSON.stringify(await relayed())}`,
    });
    assert.deepEqual(await relayed(), [1, 2, 3]);
    assert.ok(cut.wire.connections > atCut, 'the relay connected again after the cut');
  });
});
