/**
 * What the agent's end-to-end tests share: edge E-5 (its credentials, birth and status readings),
 * two real mosquitto brokers (and a KRaft Kafka when asked) started for the file, a hub node with
 * an MQTT link per broker, and the configuration contract of GET /v1/config/edge/{id} served by a
 * small real HTTP server (ETag / If-None-Match).
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type KafkaServer, type MosquittoServer, startKafka, startMosquitto } from '../../../infra/mod.ts';
import { type TestRedis, useRedis } from '../../../infra/test-redis.ts';
import { LINK_USER } from '../../broker/mod.ts';
import { MqttLink } from '../../link/mod.ts';
import type { Birth, Status } from '../../protocol/mod.ts';
import { EdgeAgent, type EdgeAgentOptions } from '../agent.ts';
import type { EdgeConfig } from '../config.ts';

export const users = { [LINK_USER]: 'hub-secret', 'E-5': 'e5-secret' };

export const birth: Birth = {
  model: 'RV1126-ELEV',
  firmware: '3.2.14',
  registrationCode: 'R-5',
  buildingId: 'B-5',
  elevatorNo: 'A',
};

export const reading = (floor: number): Status => ({
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
export async function configServer(initial: EdgeConfig) {
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

/** Edge E-5's agent, with a fresh data folder unless one is given. */
export function agentE5(options: Partial<EdgeAgentOptions>): EdgeAgent {
  return new EdgeAgent({
    edgeId: 'E-5',
    password: users['E-5'],
    birth,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-')),
    ...options,
  });
}

export interface AgentHub {
  readonly t: TestRedis;
  /** Started before the file's tests (Kafka only when asked). */
  readonly brokerA: MosquittoServer;
  readonly brokerB: MosquittoServer;
  readonly kafka: KafkaServer;
  /** A hub node with an MQTT link on each broker. */
  hub(keyspace: ReturnType<TestRedis['keyspace']>): Promise<{
    links: MqttLink[];
    [Symbol.asyncDispose](): Promise<void>;
  }>;
  /** E-5's actor state. */
  stateOf(keyspace: ReturnType<TestRedis['keyspace']>): ReturnType<TestRedis['edgeState']>;
}

/** Registers the file's servers (before/after) and returns what its tests use. */
export function useAgentHub(o: { kafka?: boolean } = {}): AgentHub {
  const t = useRedis();
  const env = { t } as { -readonly [K in keyof AgentHub]: AgentHub[K] };
  before(async () => {
    [env.brokerA, env.brokerB] = await Promise.all([
      startMosquitto({ users }),
      startMosquitto({ users }),
      o.kafka ? startKafka().then((k) => (env.kafka = k)) : undefined,
    ]);
  });
  after(async () => {
    await Promise.all([env.brokerA?.stop(), env.brokerB?.stop(), env.kafka?.stop()]);
  });
  env.hub = async (keyspace) => {
    const node = await t.hub(keyspace);
    const links = await Promise.all(
      [env.brokerA, env.brokerB].map((b) =>
        new MqttLink({
          url: b.url,
          username: LINK_USER,
          password: users[LINK_USER],
          bus: t.bus(keyspace, t.connect()),
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
  };
  env.stateOf = async (keyspace) => await t.edgeState(keyspace, 'E-5');
  return env;
}
