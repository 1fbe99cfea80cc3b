/**
 * Commands to edges end to end: actor → outbox → downlink relay → mosquitto → agent executor →
 * result over MQTT → link → actor. Real Redis, real mosquitto, a real hub node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActorClient, readActorState } from '../../actors/mod.ts';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type CommandRecord, type EdgeState, edgeActor } from '../actor/mod.ts';
import { EdgeAgent } from '../agent/mod.ts';
import { LINK_USER } from '../broker/mod.ts';
import { DownlinkRelay, mqttDownlink } from './downlink-relay.ts';
import { MqttLink } from './mqtt-link.ts';

const t = useRedis();
const users = { [LINK_USER]: 'hub-secret', 'E-3': 'e3-secret' };
let broker: MosquittoServer;
before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

const birth = { model: 'M', firmware: '1', registrationCode: 'R', buildingId: 'B', elevatorNo: 'A' };

describe('commands to edges', { timeout: 60_000 }, () => {
  it('reach the edge once, run, and come back with their result; late ones fail by deadline', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const hubCredentials = { url: broker.url, username: LINK_USER, password: users[LINK_USER] };
    await using _link = await new MqttLink({ ...hubCredentials, bus: t.bus(keyspace, t.connect()) }).start();
    await using relay = await new DownlinkRelay({
      sender: await mqttDownlink(hubCredentials),
      bus: t.bus(keyspace, t.connect()),
    }).start();
    let echoes = 0;
    await using _agent = await new EdgeAgent({
      edgeId: 'E-3',
      password: users['E-3'],
      birth,
      dataDir: mkdtempSync(join(tmpdir(), 'agent-')),
      brokerUrl: broker.url,
      executors: {
        echo: async (args) => {
          echoes++;
          return args;
        },
        hang: (_args, signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('aborted at the deadline'))),
          ),
      },
    }).start();
    const client = createActorClient(t.bus(keyspace), edgeActor);
    const command = async (id: string) =>
      (await t.edgeState(keyspace, 'E-3'))?.commands?.[id] as CommandRecord | undefined;

    await client.send('E-3', 'command', {
      id: 'c1',
      type: 'echo',
      args: { hello: 'world' },
      deadline: Date.now() + 10_000,
    });
    await client.send('E-3', 'command', {
      id: 'c1',
      type: 'echo',
      args: { hello: 'again' },
      deadline: Date.now() + 10_000,
    });
    await waitFor(async () => (await command('c1'))?.status === 'succeeded', { message: 'c1 to succeed' });
    assert.deepEqual((await command('c1'))?.result, { hello: 'world' });
    assert.equal(echoes, 1, 'a repeated id ran once');

    await client.send('E-3', 'command', { id: 'c2', type: 'hang', deadline: Date.now() + 400 });
    await client.send('E-3', 'command', { id: 'c3', type: 'nosuch', deadline: Date.now() + 10_000 });
    await waitFor(
      async () => (await command('c2'))?.status === 'failed' && (await command('c3'))?.status === 'failed',
      {
        message: 'c2 and c3 to fail',
      },
    );
    assert.match((await command('c2'))!.error!, /timeout|aborted at the deadline/);
    assert.match((await command('c3'))!.error!, /no executor for "nosuch"/);
    assert.ok(relay.stats.published >= 3);
  });

  it('fails a command to an edge that never answers when its deadline passes', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await createActorClient(t.bus(keyspace), edgeActor).send('E-404', 'command', {
      id: 'x',
      type: 'echo',
      deadline: Date.now() + 300,
    });
    await waitFor(async () => (await t.edgeState(keyspace, 'E-404'))?.commands?.x?.status === 'failed', {
      message: 'the deadline timer to fail it',
    });
    const x = (await readActorState<EdgeState>(t.bus(keyspace), 'edge/E-404'))!.state.commands!.x!;
    assert.match(x.error!, /timeout/);
  });
});
