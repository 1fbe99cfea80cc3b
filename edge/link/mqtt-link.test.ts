/**
 * The MQTT link against a real mosquitto (per-edge passwords and ACLs, sessions that survive a
 * restart) and a real Redis: the shared link contract, and the broker's edge security.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type MosquittoServer, startMosquitto, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { LINK_USER } from '../broker/mod.ts';
import type { DownlinkCommand } from '../protocol/mod.ts';
import { downlinkTopic, encodeCompact, legacyUplinkTopic, uplinkTopic } from '../protocol/mod.ts';
import { mqttDownlink } from './downlink-relay.ts';
import { MqttLink } from './mqtt-link.ts';
import { type LinkHarness, linkContract } from './testdata/link-contract.ts';

const t = useRedis();
let broker: MosquittoServer;
const EDGE_IDS = ['E-1', 'E-2', 'E-3', 'E-4', 'E-5', 'E-6', 'E-7', 'E-8'];
const users: Record<string, string> = {
  [LINK_USER]: 'hub-secret',
  ...Object.fromEntries(EDGE_IDS.map((id) => [id, `${id.toLowerCase()}-secret`])),
};

before(async () => {
  broker = await startMosquitto({ users });
});
after(async () => {
  await broker?.stop();
});

const hub = () => ({ url: broker.url, username: LINK_USER, password: users[LINK_USER]! });

async function edgeClient(id: string) {
  return await mqtt.connectAsync(broker.url, {
    username: id,
    password: users[id],
    protocolVersion: 5,
    clientId: id,
    reconnectPeriod: 0,
  });
}

const harness: LinkHarness = {
  transport: 'mqtt',
  edgeIds: EDGE_IDS,
  // A shared-subscription group per test: a link's session outlives it, and would take a share.
  link: (o) =>
    new MqttLink({
      ...o,
      ...hub(),
      clientId: `link-${o.bus.keyspace.prefix}`,
      group: o.bus.keyspace.prefix,
    }).start(),
  linkProcess: (keyspace) => ({
    args: [
      ...['link', 'mqtt', ...t.cliArgs(keyspace), '--url', broker.url, '--password', users[LINK_USER]!],
      ...['--client-id', `crash-${keyspace.prefix}`, '--group', keyspace.prefix],
    ],
    env: { DH_LOG_LEVEL: 'warn' },
  }),
  sender: () => mqttDownlink(hub()),
  async edge(id) {
    const client = await mqtt.connectAsync(broker.url, {
      username: id,
      password: users[id],
      protocolVersion: 5,
      clientId: id,
      // As the agent and the simulator: edges come back after the hub's link (500 ms), which
      // must subscribe again first: mosquitto 2.0 restores sessions but not shared subscriptions.
      reconnectPeriod: 2000,
    });
    const commands: DownlinkCommand[] = [];
    client.on('message', (_topic, payload) =>
      commands.push(JSON.parse(payload.toString()) as DownlinkCommand),
    );
    await client.subscribeAsync(downlinkTopic(id), { qos: 1 });
    const publish = async (topic: string, payload: Uint8Array | string) => {
      await client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), {
        qos: 1,
      });
    };
    return {
      id,
      commands,
      compact: (m) => publish(uplinkTopic(id, m.kind), encodeCompact(m)),
      legacy: (m) => publish(legacyUplinkTopic(id), m.json),
      raw: (format, kind, bytes) =>
        publish(format === 'compact' ? uplinkTopic(id, kind) : legacyUplinkTopic(id), bytes),
      [Symbol.asyncDispose]: () => client.endAsync(),
    };
  },
  restartBroker: () => broker.restart(),
};

linkContract(t, () => harness);

describe('MQTT edge security (mosquitto ACL)', () => {
  it('lets an edge publish and subscribe only its own topics', async () => {
    const keyspace = t.keyspace();
    await using link = await harness.link({ bus: t.bus(keyspace, t.connect()) });
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
    // Reading E-2's commands: refused at SUBSCRIBE (0x87, dynsec's subscribeLiteral for its own
    // downlink only; edge/broker has the whole matrix), and never delivered; E-2 itself gets them.
    await assert.rejects(a.subscribeAsync(downlinkTopic('E-2'), { qos: 1 }), (error: unknown) =>
      ((error as { packet?: { granted?: number[] } }).packet?.granted ?? []).includes(0x87),
    );
    const b = await edgeClient('E-2');
    await b.subscribeAsync(downlinkTopic('E-2'), { qos: 1 });
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.on('message', (topic) => seenByA.push(topic));
    b.on('message', (topic) => seenByB.push(topic));
    const hub = await mqtt.connectAsync(broker.url, {
      username: LINK_USER,
      password: users[LINK_USER],
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
});

describe('MQTT link batching', () => {
  // Five QoS 0 statuses, each published once the broker delivered the one before (a watcher
  // hears it): with a long linger they share one or two pipelines, with none they go one by one.
  async function batchesFor(
    lingerMs: number,
    batchMax?: number,
  ): Promise<{ batches: number; enqueued: number }> {
    const keyspace = t.keyspace();
    let batches = 0;
    await using link = await new MqttLink({
      bus: t.bus(keyspace, t.connect()),
      ...hub(),
      clientId: `linger-${keyspace.prefix}`,
      group: keyspace.prefix,
      lingerMs,
      ...(batchMax === undefined ? {} : { batchMax }),
      hooks: { beforeEnqueue: () => void batches++ },
    }).start();
    const watcher = await mqtt.connectAsync(broker.url, { ...hub(), protocolVersion: 5, reconnectPeriod: 0 });
    let heard = 0;
    watcher.on('message', () => void heard++);
    await watcher.subscribeAsync(uplinkTopic('E-7', 'status'), { qos: 0 });
    const edge = await edgeClient('E-7');
    for (let seq = 1; seq <= 5; seq++) {
      const status = encodeCompact({ kind: 'status', seq, ts: seq, snapshot: false, status: { floor: seq } });
      await edge.publishAsync(uplinkTopic('E-7', 'status'), Buffer.from(status), { qos: 0 });
      await waitFor(() => heard === seq, { message: `the broker to deliver status ${seq}` });
    }
    await waitFor(() => link.stats.enqueued === 5, { message: 'the link to enqueue all five' });
    await Promise.all([edge.endAsync(), watcher.endAsync()]);
    return { batches, enqueued: link.stats.enqueued };
  }

  it('lets QoS 0 messages wait `lingerMs` for company, so a slow trickle shares a pipeline', async () => {
    const long = await batchesFor(2000);
    assert.equal(long.enqueued, 5);
    assert.ok(long.batches <= 2, `five statuses within a 2 s linger: ${long.batches} batches, expected 1-2`);
    const none = await batchesFor(0);
    assert.equal(none.enqueued, 5);
    assert.ok(none.batches >= 3, `five statuses one by one without a linger: ${none.batches} batches`);
  });

  it('sends a batch that reached `batchMax` at once, without waiting out its linger', async () => {
    // A minute's linger: the five arrive (batchesFor waits for them) only because the fifth fills the batch.
    const full = await batchesFor(60_000, 5);
    assert.equal(full.enqueued, 5);
    assert.equal(full.batches, 1, 'the five went together, as soon as the fifth came');
  });
});
