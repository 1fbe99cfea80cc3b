/**
 * Kafka with authentication (issue 14, items 3 and 6) against one real KRaft broker started with
 * a SASL_SSL listener (SCRAM-SHA-512, the fleet CA's server certificate), ACLs, and — the
 * operator's explicit migration step — a PLAINTEXT listener for legacy edges: a producer without
 * credentials is refused on SASL_SSL; an edge's own credentials let it produce to the uplink
 * topics and nothing else; the link consumes over SASL_SSL into the edge actors and the agent takes
 * commands over it; a wrong password is refused and logged with a reason, never the password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { Logger } from '../../actors/mod.ts';
import { type KafkaServer, startKafka, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { startTestPki } from '../../infra/tls.ts';
import { openUplink } from '../agent/uplink.ts';
import { KafkaAuthError, KafkaIdentities, kafkaClientSecurity, ScramAdmin } from '../kafka-auth/mod.ts';
import { encodeCompact, KAFKA_TOPICS, legacyFault } from '../protocol/mod.ts';
import { kafkaDownlink } from './downlink-relay.ts';
import { KafkaLink } from './kafka-link.ts';

const t = useRedis();
let kafka: KafkaServer;
let identities: KafkaIdentities;

before(async () => {
  kafka = await startKafka({ auth: { pki: await startTestPki(), legacyPlaintext: true } });
  identities = new KafkaIdentities({ brokers: [kafka.broker], ca: auth().ca, ...auth().hub });
  await identities.ensureFleet();
  // The hub creates the topics (edges may not): as the link does at its start.
  const admin = client(auth().hub).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [...Object.values(KAFKA_TOPICS)].map((topic) => ({ topic, numPartitions: 2 })),
  });
  await admin.disconnect();
});
after(async () => {
  await identities?.close();
  await kafka?.stop();
});

const auth = () => kafka.auth!;
const noRetry = { retries: 0 };
/** A kafkajs client of the SASL_SSL listener as `login` (none: plaintext to the SASL_SSL port). */
function client(login?: { username: string; password: string }, extra: Partial<KafkaConfig> = {}) {
  return new Kafka({
    brokers: [kafka.broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    ...(login === undefined ? {} : kafkaClientSecurity({ ca: auth().ca, ...login })),
    ...extra,
  });
}
/** Sends one record; resolves to the error's type (or message) when refused, 'ok' when taken. */
async function produce(c: Kafka, topic: string, key = 'E-1'): Promise<string> {
  const producer = c.producer({ allowAutoTopicCreation: true, retry: noRetry });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key, value: 'x' }] });
    return 'ok';
  } catch (error) {
    const e = error as { type?: string; name?: string; message?: string };
    return e.type ?? e.name ?? String(e.message);
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

type Line = Record<string, unknown> & { level: string; msg?: string };
function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ ...obj, level, msg });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

describe('Kafka with authentication (SASL_SSL, SCRAM-SHA-512, ACLs)', { timeout: 120_000 }, () => {
  it('refuses a producer without credentials on the SASL_SSL listener, with TLS alone too', async () => {
    assert.notEqual(await produce(client(undefined, { retry: noRetry }), KAFKA_TOPICS.status), 'ok');
    assert.notEqual(
      await produce(client(undefined, { retry: noRetry, ssl: { ca: [auth().ca] } }), KAFKA_TOPICS.status),
      'ok',
    );
  });

  it('lets an edge produce to the uplink topics and nothing else', async () => {
    await identities.ensureEdges([
      { id: 'E-1', password: 'secret-of-E-1' },
      { id: 'E-2', password: 'secret-of-E-2' },
    ]);
    assert.deepEqual(
      (await identities.listEdges()).filter((id) => id.startsWith('E-')),
      ['E-1', 'E-2'],
    );
    const e1 = client({ username: 'E-1', password: 'secret-of-E-1' });
    for (const topic of [
      KAFKA_TOPICS.status,
      KAFKA_TOPICS.detection,
      KAFKA_TOPICS.heartbeat,
      KAFKA_TOPICS.fault,
      KAFKA_TOPICS.result,
      KAFKA_TOPICS.compact,
    ]) {
      assert.equal(await produce(e1, topic), 'ok', `E-1 produces to ${topic}`);
    }
    assert.equal(
      await produce(e1, KAFKA_TOPICS.downlink),
      'TOPIC_AUTHORIZATION_FAILED',
      'no WRITE on the downlink',
    );
    assert.notEqual(await produce(e1, 'elevator-new-topic'), 'ok', 'no topic creation');
    const admin = e1.admin({ retry: noRetry });
    await admin.connect();
    const refusedFor = (e: unknown) =>
      /AUTHORIZATION_FAILED/.test(
        JSON.stringify((e as { errors?: unknown[] }).errors ?? [(e as { type?: string }).type]),
      );
    await assert.rejects(admin.createTopics({ topics: [{ topic: 'made-by-an-edge' }] }), refusedFor);
    await assert.rejects(admin.deleteTopics({ topics: [KAFKA_TOPICS.compact] }), /authoriz/i);
    await admin.disconnect();
    // Another edge's downlink group (whose commands it would take): no. kafkajs reports the refusal
    // as "Failed to find group coordinator" and says why only in its debug log.
    const seen: string[] = [];
    const e1Logged = client(
      { username: 'E-1', password: 'secret-of-E-1' },
      {
        logLevel: logLevel.DEBUG,
        logCreator: () => (entry) => void seen.push(`${entry.log.message} ${String(entry.log.error ?? '')}`),
      },
    );
    const other = e1Logged.consumer({ groupId: 'edge-E-2', retry: noRetry });
    await other.connect();
    await other.subscribe({ topic: KAFKA_TOPICS.downlink });
    const crashed = new Promise<string>((resolve) => {
      other.on(other.events.CRASH, ({ payload }) => resolve(payload.error.message));
    });
    await other.run({ eachMessage: async () => {} });
    assert.match(await crashed, /group coordinator/);
    assert.ok(
      seen.some((line) => /Tried to find group coordinator.*authoriz/i.test(line)),
      `the group was refused for authorization: ${seen.filter((l) => /coordinator/.test(l)).join(' | ')}`,
    );
    await other.disconnect();
  });

  it('carries an edge’s records through the link over SASL_SSL to its actor, and commands back to the agent', async () => {
    await identities.ensureEdge('E-5', 'secret-of-E-5');
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const security = { ca: auth().ca, ...auth().hub };
    await using link = await new KafkaLink({
      brokers: [kafka.broker],
      security,
      bus: t.bus(keyspace, t.connect()),
      groupId: `g-${keyspace.prefix}`,
      ensureTopics: 0, // the hub's topics exist; from now on (earlier tests' records are not this test's)
    }).start();
    // A legacy edge's fault with the edge's own credentials…
    const ts = Date.now();
    const legacy = client({ username: 'E-5', password: 'secret-of-E-5' }).producer();
    await legacy.connect();
    await legacy.send({
      topic: KAFKA_TOPICS.fault,
      acks: -1,
      messages: [
        { key: 'E-5', value: legacyFault({ edgeId: 'E-5', ts, alarm: 'trapped', phase: 'start', floor: 3 }) },
      ],
    });
    await legacy.disconnect();
    // …and the agent's compact uplink, kafkas:// with its id and password, the fleet CA.
    const commands: string[] = [];
    const uplink = await openUplink(
      { transport: 'kafka', brokers: [kafka.broker], security: 'sasl_ssl' },
      {
        edgeId: 'E-5',
        password: 'secret-of-E-5',
        brokerTls: { ca: auth().ca },
        onCommand: (payload) => void commands.push(payload.toString()),
        onConnect: () => {},
        log: recordingLogger([]),
        pending: new Set(),
      },
    );
    await uplink.send({
      topic: 'ignored-on-kafka',
      qos: 1,
      payload: encodeCompact({ kind: 'alarm', seq: 1, ts, alarm: 'smoke', phase: 'start', floor: 3 }),
    });
    await waitFor(
      async () => {
        const alarms = (await t.edgeState(keyspace, 'E-5'))?.openAlarms;
        return alarms?.smoke !== undefined && alarms.trapped !== undefined;
      },
      { timeoutMs: 30_000, message: 'E-5’s two alarms applied through the SASL_SSL link' },
    );
    await waitFor(() => link.stats.enqueued === 2, { timeoutMs: 30_000, message: 'both records enqueued' });
    assert.deepEqual(link.stats.deadLettered, {});
    // Commands: the hub's downlink sender (a super user) to the agent's own group.
    const sender = await kafkaDownlink({ brokers: [kafka.broker], security });
    await sender.send('E-5', { id: 'c-1', type: 'echo', args: {}, deadline: Date.now() + 30_000, epoch: 1 });
    await sender.close();
    await waitFor(() => commands.length > 0, { timeoutMs: 60_000, message: 'the command at the agent' });
    assert.equal((JSON.parse(commands[0]!) as { id: string }).id, 'c-1');
    await uplink.close();
  });

  it('refuses a wrong password and logs the reason, never the password', async () => {
    await identities.ensureEdge('E-6', 'right-secret-of-E-6');
    const lines: Line[] = [];
    const wrong = 'wrong-secret-of-E-6';
    await assert.rejects(
      openUplink(
        { transport: 'kafka', brokers: [kafka.broker], security: 'sasl_ssl' },
        {
          edgeId: 'E-6',
          password: wrong,
          brokerTls: { ca: auth().ca },
          onCommand: () => {},
          onConnect: () => {},
          log: recordingLogger(lines),
          pending: new Set(),
        },
      ),
      { name: 'KafkaJSSASLAuthenticationError' },
    );
    const refusal = lines.find((l) => l.msg === 'Kafka refused the edge’s login');
    assert.equal(refusal?.reason, 'authentication failed');
    assert.match(String((refusal?.err as Error | undefined)?.message), /invalid credentials/);
    const logged = JSON.stringify(lines, (_k, v: unknown) =>
      v instanceof Error ? { message: v.message, stack: v.stack } : v,
    );
    assert.ok(!logged.includes(wrong), 'the wrong password is not in the logs');
    assert.ok(!logged.includes('right-secret-of-E-6'));
  });

  it('stops new logins of a removed edge, and refuses a wrong hub login to the credential admin', async () => {
    await identities.ensureEdge('E-7', 'secret-of-E-7');
    assert.equal(await identities.hasEdge('E-7'), true);
    assert.equal(
      await produce(client({ username: 'E-7', password: 'secret-of-E-7' }), KAFKA_TOPICS.compact),
      'ok',
    );
    await identities.removeEdge('E-7');
    await identities.removeEdge('E-7'); // idempotent
    assert.equal(await identities.hasEdge('E-7'), false);
    assert.notEqual(
      await produce(client({ username: 'E-7', password: 'secret-of-E-7' }), KAFKA_TOPICS.compact),
      'ok',
    );
    await assert.rejects(identities.ensureEdge('devicehub-controller', 'x'), { code: 'INVALID_USER' });
    await using admin = new ScramAdmin({
      broker: kafka.broker,
      ca: auth().ca,
      username: auth().hub.username,
      password: 'not-it',
    });
    await assert.rejects(
      admin.describe(),
      (e: unknown) => e instanceof KafkaAuthError && e.code === 'AUTHENTICATION_FAILED',
    );
  });

  it('lets legacy edges on the explicit PLAINTEXT listener produce only to the uplink topics', async () => {
    const legacy = new Kafka({ brokers: [auth().legacyBroker!], logLevel: logLevel.NOTHING, retry: noRetry });
    assert.equal(await produce(legacy, KAFKA_TOPICS.status), 'ok');
    assert.equal(await produce(legacy, KAFKA_TOPICS.downlink), 'TOPIC_AUTHORIZATION_FAILED');
    assert.notEqual(await produce(legacy, 'elevator-new-topic'), 'ok');
  });
});
