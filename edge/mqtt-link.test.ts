/**
 * The MQTT link against a real mosquitto (per-edge passwords and ACLs) and a real Redis, with a
 * hub node applying what arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type EdgeState, readActorState } from '../actors/mod.ts';
import { readDeadLetters } from '../bus/mod.ts';
import { type MosquittoServer, spawnDevicehub, startMosquitto, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { encodeCompact } from './compact.ts';
import { MqttLink } from './mqtt-link.ts';
import { downlinkTopic, uplinkTopic } from './protocol.ts';

const t = useRedis();
let broker: MosquittoServer;
const users = { hub: 'hub-secret', 'E-1': 'e1-secret', 'E-2': 'e2-secret' };

before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

/** The hub's side of the broker, as a hub process runs it. */
function hubLink(keyspace: ReturnType<typeof t.keyspace>) {
  return new MqttLink({
    url: broker.url,
    username: 'hub',
    password: users.hub,
    redis: t.connect(),
    keyspace,
  }).start();
}

async function edgeClient(id: 'E-1' | 'E-2') {
  const client = await mqtt.connectAsync(broker.url, {
    username: id,
    password: users[id],
    protocolVersion: 5,
    clientId: id,
    reconnectPeriod: 0,
  });
  return client;
}

describe('MQTT link (mosquitto, per-edge ACL)', () => {
  it('carries compact messages from an edge into its actor, QoS 1 acknowledged after Redis has them', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await using link = await hubLink(keyspace);
    const edge = await edgeClient('E-1');
    const birth = {
      model: 'RV1126-ELEV',
      firmware: '3.2.14',
      registrationCode: 'R-1',
      buildingId: 'B-1',
      elevatorNo: 'A',
    };
    await edge.publishAsync(
      uplinkTopic('E-1', 'birth'),
      Buffer.from(encodeCompact({ kind: 'birth', seq: 1, ts: 1, boot: 'b1', birth })),
      { qos: 1 },
    );
    await edge.publishAsync(
      uplinkTopic('E-1', 'status'),
      Buffer.from(
        encodeCompact({ kind: 'status', seq: 2, ts: 2, snapshot: false, status: { floor: 4, door: 'open' } }),
      ),
      { qos: 0 },
    );
    await edge.publishAsync(
      uplinkTopic('E-1', 'alarm'),
      Buffer.from(
        encodeCompact({ kind: 'alarm', seq: 3, ts: 3, alarm: 'trapped', phase: 'start', floor: 4 }),
      ),
      { qos: 1 },
    );
    await edge.endAsync();
    await waitFor(
      async () => Object.keys((await t.edgeState(keyspace, 'E-1'))?.openAlarms ?? {}).length === 1,
      {
        message: 'the alarm to reach the actor',
      },
    );
    await waitFor(async () => (await t.edgeState(keyspace, 'E-1'))?.shadow.status?.floor === 4, {
      message: 'the status to be checkpointed',
    });
    const state = (await readActorState<EdgeState>(t.redis, keyspace, 'edge/E-1'))!.state;
    assert.deepEqual(state.shadow.birth, birth);
    assert.deepEqual(state.seq, { boot: 'b1', last: 3, window: 0b11, received: 3, gaps: 0, duplicates: 0 });
    assert.equal(link.stats.enqueued, 3);
  });

  it('dead-letters malformed device messages with the reason and keeps going', async () => {
    const keyspace = t.keyspace();
    await using link = await hubLink(keyspace);
    const edge = await edgeClient('E-2');
    await edge.publishAsync(uplinkTopic('E-2', 'status'), Buffer.from('not msgpack at all'), { qos: 1 });
    await edge.publishAsync(
      uplinkTopic('E-2', 'alarm'),
      Buffer.from(encodeCompact({ kind: 'status', seq: 1, ts: 1, snapshot: false, status: { floor: 1 } })),
      { qos: 1 },
    );
    await edge.publishAsync(
      uplinkTopic('E-2', 'status'),
      Buffer.from(encodeCompact({ kind: 'status', seq: 2, ts: 2, snapshot: false, status: { floor: 2 } })),
      { qos: 1 },
    );
    await edge.endAsync();
    await waitFor(() => link.stats.enqueued === 1, { message: 'the good message' });
    const letters = await readDeadLetters(t.redis, keyspace);
    assert.equal(letters.length, 2);
    assert.match(letters.map((l) => l.reason).join('\n'), /BAD_HEADER: topic says alarm, header says kind 2/);
    assert.match(
      letters.map((l) => l.reason).join('\n'),
      /BAD_HEADER: topic says status, header says kind 14/,
    );
    assert.ok(letters.every((l) => l.address === 'edge/E-2'));
    assert.deepEqual(link.stats.deadLettered, { BAD_HEADER: 2 });
  });

  it('lets an edge publish and subscribe only its own topics', async () => {
    const keyspace = t.keyspace();
    await using link = await hubLink(keyspace);
    const a = await edgeClient('E-1');
    // Publishing as E-2: the broker refuses it (MQTT 5 PUBACK 0x87, not authorized).
    await assert.rejects(
      a.publishAsync(
        uplinkTopic('E-2', 'alarm'),
        Buffer.from(
          encodeCompact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 1 }),
        ),
        { qos: 1 },
      ),
      /Not authorized|135/i,
    );
    // Reading E-2's commands: mosquitto grants the subscription but never delivers E-2's
    // messages to E-1 (its ACL is checked on delivery); E-2 itself gets them.
    await a.subscribeAsync(downlinkTopic('E-2'), { qos: 1 });
    const b = await edgeClient('E-2');
    await b.subscribeAsync(downlinkTopic('E-2'), { qos: 1 });
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.on('message', (topic) => seenByA.push(topic));
    b.on('message', (topic) => seenByB.push(topic));
    const hub = await mqtt.connectAsync(broker.url, {
      username: 'hub',
      password: users.hub,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await hub.publishAsync(downlinkTopic('E-2'), 'command for E-2', { qos: 1 });
    await hub.publishAsync(downlinkTopic('E-1'), 'command for E-1', { qos: 1 });
    await a.subscribeAsync(downlinkTopic('E-1'), { qos: 1 });
    await hub.publishAsync(downlinkTopic('E-1'), 'command for E-1', { qos: 1 });
    await waitFor(() => seenByB.length === 1 && seenByA.length === 1, {
      message: 'each edge to get its own command',
    });
    assert.deepEqual(seenByA, [downlinkTopic('E-1')], 'E-1 never saw E-2’s command');
    assert.deepEqual(seenByB, [downlinkTopic('E-2')]);
    await Promise.all([a.endAsync(), b.endAsync(), hub.endAsync()]);
    // Wrong password: no connection at all.
    await assert.rejects(
      mqtt.connectAsync(broker.url, {
        username: 'E-1',
        password: 'guess',
        protocolVersion: 5,
        reconnectPeriod: 0,
      }),
      /Bad User Name or Password|Not authorized|134|135/i,
    );
    assert.equal(link.stats.received, 0, 'nothing reached the hub');
  });

  it('redelivers a QoS 1 message whose link process died between receiving and enqueueing it', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const args = ['link', 'mqtt', ...t.cliArgs(keyspace)];
    args.push(
      '--url',
      broker.url,
      '--password',
      users.hub,
      '--client-id',
      `crash-${keyspace.prefix}`,
      '--group',
      keyspace.prefix,
    );
    const first = spawnDevicehub(args, { env: { DH_TEST_CRASH_BEFORE_ENQUEUE: '1', DH_LOG_LEVEL: 'warn' } });
    await first.ready;
    const edge = await edgeClient('E-1');
    const alarm = encodeCompact({ kind: 'alarm', seq: 1, ts: 1, alarm: 'smoke', phase: 'start', floor: 6 });
    await edge.publishAsync(uplinkTopic('E-1', 'alarm'), Buffer.from(alarm), { qos: 1 });
    await edge.endAsync();
    assert.equal(await first.exited, 70, 'the link died after receiving, before enqueueing');
    assert.equal(
      await readActorState<EdgeState>(t.redis, keyspace, 'edge/E-1'),
      undefined,
      'nothing reached the hub',
    );
    await using second = spawnDevicehub(args, { env: { DH_LOG_LEVEL: 'warn' } });
    await second.ready;
    await waitFor(async () => (await t.edgeState(keyspace, 'E-1'))?.openAlarms.smoke !== undefined, {
      message: 'the broker to redeliver the unacknowledged alarm to the restarted link',
    });
  });
});
