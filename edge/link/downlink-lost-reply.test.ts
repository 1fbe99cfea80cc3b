/**
 * The downlink relay when a read's reply is lost with its connection: Redis moved the command
 * into the relay's pending list, the relay never heard, and ioredis sent the read again after the
 * reconnect. The command must still reach the edge (real mosquitto), and the ones after it too,
 * in order. The relay in infra/wire-cut.ts holds the replies back and cuts at the exact moment.
 *
 * Runs once, on its own redis-server: a TCP relay cannot stand between a client and a cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createKeyspace, openBus } from '../../bus/mod.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { pendingCount, useWireCutRedis } from '../../infra/test-wire-cut.ts';
import { LINK_USER } from '../broker/mod.ts';
import { downlinkTopic } from '../protocol/mod.ts';
import { DownlinkRelay, downlinkGroup, mqttDownlink } from './downlink-relay.ts';

const users = { [LINK_USER]: 'hub-secret', 'E-1': 'e1-secret' };
const t = useWireCutRedis();
let broker: MosquittoServer;
before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

describe('the downlink relay whose read reply is lost with the connection', { timeout: 60_000 }, () => {
  it('still sends every command to the edge, in order', async () => {
    const keyspace = createKeyspace({ shards: 8, tagGroups: 1, prefix: 'downlost' });
    const stream = keyspace.outbox(0);
    const edge = await mqtt.connectAsync(broker.url, {
      username: 'E-1',
      password: users['E-1'],
      clientId: 'E-1',
      protocolVersion: 5,
    });
    await using _edge = { [Symbol.asyncDispose]: () => edge.endAsync() };
    const got: string[] = [];
    edge.on('message', (_topic, payload) => got.push((JSON.parse(payload.toString()) as { id: string }).id));
    await edge.subscribeAsync(downlinkTopic('E-1'), { qos: 1 });
    const redis = t.redis;
    await using cut = await t.relay('relay');
    await using _relay = await new DownlinkRelay({
      sender: await mqttDownlink({ url: broker.url, username: LINK_USER, password: users[LINK_USER] }),
      bus: openBus({ redis: cut.redis, keyspace }),
    }).start();
    const command = (n: number) =>
      redis.xadd(
        stream,
        '*',
        'e',
        JSON.stringify({
          type: 'command',
          edgeId: 'E-1',
          transport: 'mqtt',
          id: `c${n}`,
          command: 'ping',
          args: {},
          deadline: Date.now() + 60_000,
          epoch: 1,
        }),
      );
    const pending = () => pendingCount(redis, [stream], downlinkGroup('mqtt'));
    await command(1);
    await waitFor(async () => got.includes('c1') && (await pending()) === 0, {
      timeoutMs: 10_000,
      message: 'command 1 at the edge and acknowledged',
    });

    // Redis runs the relay's read (command 2 pending under its name), and its reply is lost.
    const atCut = await cut.loseReplies(
      '"id":"c2"',
      () => command(2),
      async () => (await pending()) === 1,
      'the relay to read command 2',
    );
    await command(3);
    await waitFor(() => got.includes('c3'), {
      timeoutMs: 15_000,
      message: 'command 3 at the edge',
      explain: () => `got ${JSON.stringify(got)}`,
    });
    await waitFor(async () => (await pending()) === 0, { timeoutMs: 10_000, message: 'all acknowledged' });
    assert.deepEqual(got, ['c1', 'c2', 'c3']);
    assert.ok(cut.wire.connections > atCut, 'the relay connected again after the cut');
  });
});
