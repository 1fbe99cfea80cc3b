/**
 * The agent end to end: its local input, real mosquitto brokers (per-edge credentials), the hub's
 * MQTT links and a hub node. The configuration service is the gateway's (issue 4); until it
 * exists, a small HTTP server here speaks the same contract (ETag / If-None-Match).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActorClient } from '../../actors/mod.ts';
import {
  freePort,
  type KafkaServer,
  type MosquittoServer,
  startKafka,
  startMosquitto,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { edgeActor } from '../actor/mod.ts';
import { LINK_USER } from '../broker/mod.ts';
import { DownlinkRelay, KafkaLink, kafkaDownlink, MqttLink } from '../link/mod.ts';
import { type Birth, legacyStatus, type Status } from '../protocol/mod.ts';
import { EdgeAgent, type EdgeAgentOptions } from './agent.ts';
import type { EdgeConfig } from './config.ts';
import { DiskQueue } from './disk-queue.ts';
import { startLocalInput } from './local-input.ts';

const t = useRedis();
const users = { [LINK_USER]: 'hub-secret', 'E-5': 'e5-secret' };
let brokerA: MosquittoServer;
let brokerB: MosquittoServer;
let kafka: KafkaServer;
before(async () => {
  [brokerA, brokerB, kafka] = await Promise.all([
    startMosquitto({ users }),
    startMosquitto({ users }),
    startKafka(),
  ]);
});
after(async () => {
  await Promise.all([brokerA?.stop(), brokerB?.stop(), kafka?.stop()]);
});

const birth: Birth = {
  model: 'RV1126-ELEV',
  firmware: '3.2.14',
  registrationCode: 'R-5',
  buildingId: 'B-5',
  elevatorNo: 'A',
};
const reading = (floor: number): Status => ({
  running: false,
  floor,
  door: 'closed',
  direction: 'idle',
  hasPerson: false,
  brakeEngaged: true,
  safetyCircuitClosed: true,
  maintenance: false,
  faultCode: 0,
  speed: 0,
  load: 0,
  temperature: 21,
  motorAmps: 0.5,
  levelingMm: 1,
  positionMm: (floor - 1) * 3000,
  signalDbm: -60,
  runCount: 1,
  runSeconds: 2,
  doorOpenCount: 3,
});

/** The configuration contract of GET /v1/config/edge/{id}, served by a small real HTTP server. */
async function configServer(initial: EdgeConfig) {
  let config = initial;
  let polls = 0;
  const server: Server = createServer((req, res) => {
    polls++;
    const expected = `Basic ${Buffer.from(`E-5:${users['E-5']}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return void res.writeHead(401).end();
    const etag = `"v${config.version}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag, 'content-type': 'application/json' }).end(JSON.stringify(config));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set(next: EdgeConfig) {
      config = next;
    },
    get polls() {
      return polls;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function hub(keyspace: ReturnType<typeof t.keyspace>) {
  const node = await t.hub(keyspace);
  const links = await Promise.all(
    [brokerA, brokerB].map((b) =>
      new MqttLink({
        url: b.url,
        username: LINK_USER,
        password: users[LINK_USER],
        redis: t.connect(),
        keyspace,
      }).start(),
    ),
  );
  return {
    links,
    async [Symbol.asyncDispose]() {
      await Promise.all(links.map((l) => l.stop()));
      await node.stop();
    },
  };
}

/** Edge E-5's agent, with a fresh data folder unless one is given. */
function agentE5(options: Partial<EdgeAgentOptions>): EdgeAgent {
  return new EdgeAgent({
    edgeId: 'E-5',
    password: users['E-5'],
    birth,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-')),
    ...options,
  });
}

const stateOf = async (keyspace: ReturnType<typeof t.keyspace>) => await t.edgeState(keyspace, 'E-5');

describe('edge agent', { timeout: 60_000 }, () => {
  it('takes today’s JSON on its local input and delivers it compact, then follows a broker switch without loss', async () => {
    const keyspace = t.keyspace();
    await using h = await hub(keyspace);
    const config = await configServer({ version: 1, broker: { transport: 'mqtt', url: brokerA.url } });
    await using agent = await agentE5({
      configUrl: config.url,
      pollMs: 100,
    }).start();
    await using input = await startLocalInput(agent);
    const post = (path: string, body: string) => fetch(`${input.url}${path}`, { method: 'POST', body });
    assert.equal((await post('/v1/legacy', legacyStatus('E-5', Date.now(), reading(3), birth))).status, 202);
    assert.equal(
      (await post('/v1/alarm', JSON.stringify({ alarm: 'trapped', phase: 'start', floor: 3 }))).status,
      202,
    );
    const bad = await post('/v1/legacy', '{"msgType":"elevatorStatus","deviceId":"E-6","timestamp":1}');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { code: string } }).error.code, /EDGE_MISMATCH/);
    await waitFor(
      async () =>
        (await stateOf(keyspace))?.openAlarms.trapped !== undefined &&
        (await stateOf(keyspace))?.shadow.status?.floor === 3,
      {
        message: 'status and alarm via broker A',
      },
    );
    assert.equal(h.links[0]!.stats.enqueued, 3, 'birth, status, alarm came through A');

    config.set({ version: 2, broker: { transport: 'mqtt', url: brokerB.url } });
    await waitFor(() => agent.stats.brokerUrl === brokerB.url, { message: 'the agent to switch to B' });
    for (let floor = 4; floor <= 8; floor++) agent.status(reading(floor));
    await post('/v1/alarm', JSON.stringify({ alarm: 'trapped', phase: 'end', floor: 8 }));
    await waitFor(
      async () =>
        (await stateOf(keyspace))?.openAlarms.trapped === undefined &&
        (await stateOf(keyspace))?.shadow.status?.floor === 8,
      {
        message: 'the rest via broker B',
      },
    );
    const s = (await stateOf(keyspace))!;
    assert.equal(s.seq.gaps, 0, 'nothing lost across the switch');
    assert.equal(s.seq.last, agent.stats.sent);
    assert.ok(h.links[1]!.stats.enqueued >= 6, 'B carried what came after the switch');
    assert.equal(agent.stats.configVersion, 2);
    await config.close();
  });

  it('keeps what it could not send on disk and delivers it after a restart', async () => {
    const keyspace = t.keyspace();
    await using _h = await hub(keyspace);
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-'));
    const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
    const offline = agentE5({
      dataDir,
      brokerUrl: nowhere,
    });
    void offline.start(); // never connects: the broker is not there
    for (let floor = 1; floor <= 10; floor++)
      offline.alarm('doorOpenMoving', floor % 2 ? 'start' : 'end', floor);
    await waitFor(() => offline.stats.queued === 11, { message: 'birth and 10 alarms queued' });
    await offline.stop();
    await using online = await agentE5({
      dataDir,
      brokerUrl: brokerA.url,
    }).start();
    await waitFor(() => online.stats.queued === 0, { message: 'the old queue to drain' });
    await waitFor(async () => (await stateOf(keyspace))?.seq.received === 12, {
      message: 'all 12 messages applied',
    });
    const s = (await stateOf(keyspace))!;
    assert.equal(s.alarmsRaised, 5);
    assert.deepEqual(s.openAlarms, {});
    assert.equal(s.seq.gaps, 0);
  });
});

describe('edge agent over Kafka', { timeout: 90_000 }, () => {
  it('moves from MQTT to Kafka by configuration without loss, and takes commands from the Kafka downlink', async () => {
    const keyspace = t.keyspace();
    await using h = await hub(keyspace);
    await using kafkaLink = await new KafkaLink({
      brokers: [kafka.broker],
      redis: t.connect(),
      keyspace,
      groupId: `g-${keyspace.prefix}`,
    }).start();
    await using _relay = await new DownlinkRelay({
      redis: t.connect(),
      keyspace,
      sender: await kafkaDownlink({ brokers: [kafka.broker] }),
    }).start();
    const config = await configServer({ version: 1, broker: { transport: 'mqtt', url: brokerA.url } });
    await using agent = await agentE5({
      configUrl: config.url,
      pollMs: 100,
      executors: { echo: async (args) => args },
    }).start();
    agent.status(reading(2));
    agent.alarm('trapped', 'start', 2);
    await waitFor(async () => (await stateOf(keyspace))?.openAlarms.trapped !== undefined, {
      message: 'the alarm via MQTT',
    });
    config.set({ version: 2, broker: { transport: 'kafka', brokers: [kafka.broker] } });
    await waitFor(() => agent.stats.brokerUrl === `kafka://${kafka.broker}`, {
      timeoutMs: 30_000,
      message: 'the agent to move to Kafka',
    });
    for (let floor = 3; floor <= 7; floor++) agent.status(reading(floor));
    agent.alarm('trapped', 'end', 7);
    await waitFor(
      async () => {
        const s = await stateOf(keyspace);
        return s?.openAlarms.trapped === undefined && s?.shadow.status?.floor === 7;
      },
      { timeoutMs: 30_000, message: 'the rest via Kafka' },
    );
    const s = (await stateOf(keyspace))!;
    assert.equal(s.seq.gaps, 0, 'nothing lost across the move');
    assert.equal(s.transport, 'kafka');
    assert.ok(kafkaLink.stats.enqueued >= 6, 'Kafka carried what came after the move');
    assert.equal(h.links[0]!.stats.enqueued, 3, 'birth, status and alarm came over MQTT');

    await createActorClient(t.redis, keyspace, edgeActor).send('E-5', 'command', {
      id: 'k-1',
      type: 'echo',
      args: { over: 'kafka' },
      deadline: Date.now() + 30_000,
    });
    await waitFor(async () => (await stateOf(keyspace))?.commands?.['k-1']?.status === 'succeeded', {
      timeoutMs: 30_000,
      message: 'the command to go out on dh-downlink and its result to come back',
    });
    assert.deepEqual((await stateOf(keyspace))?.commands?.['k-1']?.result, { over: 'kafka' });
    await config.close();
  });
});

describe('edge agent health', { timeout: 30_000 }, () => {
  it('reports its own health on the configured period, with which programs are feeding it', async () => {
    const keyspace = t.keyspace();
    await using _h = await hub(keyspace);
    const config = await configServer({
      version: 1,
      broker: { transport: 'mqtt', url: brokerA.url },
      healthSeconds: 1,
    });
    await using agent = await agentE5({
      configUrl: config.url,
    }).start();
    agent.status(reading(2));
    await waitFor(async () => (await t.edgeState(keyspace, 'E-5'))?.shadow.heartbeat !== undefined, {
      message: 'a health report',
    });
    const health = (await t.edgeState(keyspace, 'E-5'))?.shadow.heartbeat as Record<string, unknown>;
    assert.equal(health.litefcccoreAlive, true, 'litefcccore handed it a status');
    assert.equal(health.elenetAlive, false, 'elenet said nothing');
    assert.ok(Number(health.memoryFreeMb) > 0 && Number(health.diskFreeMb) > 0);
    await config.close();
  });
});

describe('disk queue', () => {
  it('survives reopening, and drops the oldest QoS 0 messages first when full', () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-'));
    const q = new DiskQueue(dir, { maxBytes: 1024 });
    q.push({ topic: 'a', qos: 1, payload: new Uint8Array(300) });
    q.push({ topic: 'b', qos: 0, payload: new Uint8Array(300) });
    q.push({ topic: 'c', qos: 1, payload: new Uint8Array(300) });
    q.push({ topic: 'd', qos: 0, payload: new Uint8Array(300) });
    assert.equal(q.dropped, 1);
    q.shift();
    const reopened = new DiskQueue(dir, { maxBytes: 1024 });
    assert.deepEqual([reopened.length, reopened.peek()?.topic], [2, 'c']);
  });
});
