/**
 * Kafka with authentication (issue 14, items 3 and 6) against one real KRaft broker started with
 * a SASL_SSL listener (SCRAM-SHA-512, the fleet CA's server certificate), ACLs, and — the
 * operator's explicit migration step — a PLAINTEXT listener for legacy edges: who may log in and
 * do what. A producer without credentials is refused on SASL_SSL; an edge's own credentials let it
 * produce to the uplink topics and nothing else; a wrong password is refused and logged with a
 * reason, never the password; a removed edge's logins and open sessions end. The link, the link
 * process and the simulator over SASL_SSL: kafka-auth-link.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../../infra/mod.ts';
import { openUplink } from '../agent/uplink.ts';
import { KafkaAuthError, ScramAdmin } from '../kafka-auth/mod.ts';
import { KAFKA_TOPICS, KAFKA_UPLINK_TOPICS } from '../protocol/mod.ts';
import {
  type Line,
  noRetry,
  produce,
  REAUTH_MS,
  recordingLogger,
  useAuthenticatedKafka,
} from './testdata/kafka-auth-broker.ts';

const k = useAuthenticatedKafka();
const auth = () => k.auth;
const client = k.client;

describe('Kafka with authentication (SASL_SSL, SCRAM-SHA-512, ACLs)', { timeout: 120_000 }, () => {
  it('refuses a producer without credentials on the SASL_SSL listener, with TLS alone too', async () => {
    assert.notEqual(await produce(client(undefined, { retry: noRetry }), KAFKA_TOPICS.status), 'ok');
    assert.notEqual(
      await produce(client(undefined, { retry: noRetry, ssl: { ca: [auth().ca] } }), KAFKA_TOPICS.status),
      'ok',
    );
  });

  it('lets an edge produce to the uplink topics and nothing else', async () => {
    await k.identities.ensureEdges([
      { id: 'E-1', password: 'secret-of-E-1' },
      { id: 'E-2', password: 'secret-of-E-2' },
    ]);
    assert.deepEqual(
      (await k.identities.listEdges()).filter((id) => id.startsWith('E-')),
      ['E-1', 'E-2'],
    );
    const e1 = client({ username: 'E-1', password: 'secret-of-E-1' });
    for (const topic of KAFKA_UPLINK_TOPICS) {
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

  it('refuses a wrong password and logs the reason, never the password', async () => {
    await k.identities.ensureEdge('E-6', 'right-secret-of-E-6');
    const lines: Line[] = [];
    const wrong = 'wrong-secret-of-E-6';
    await assert.rejects(
      openUplink(
        { transport: 'kafka', brokers: [k.kafka.broker], security: 'sasl_ssl' },
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
    await k.identities.ensureEdge('E-7', 'secret-of-E-7');
    assert.equal(await k.identities.hasEdge('E-7'), true);
    assert.equal(
      await produce(client({ username: 'E-7', password: 'secret-of-E-7' }), KAFKA_TOPICS.compact),
      'ok',
    );
    await k.identities.removeEdge('E-7');
    await k.identities.removeEdge('E-7'); // idempotent
    assert.equal(await k.identities.hasEdge('E-7'), false);
    assert.notEqual(
      await produce(client({ username: 'E-7', password: 'secret-of-E-7' }), KAFKA_TOPICS.compact),
      'ok',
    );
    await assert.rejects(k.identities.ensureEdge('devicehub-controller', 'x'), { code: 'INVALID_USER' });
    await using admin = new ScramAdmin({
      broker: k.kafka.broker,
      ca: auth().ca,
      username: auth().hub.username,
      password: 'not-it',
    });
    await assert.rejects(
      admin.describe(),
      (e: unknown) => e instanceof KafkaAuthError && e.code === 'AUTHENTICATION_FAILED',
    );
  });

  it('ends an open session of a removed edge at its next re-authentication', async () => {
    await k.identities.ensureEdge('E-10', 'secret-of-E-10');
    const producer = client({ username: 'E-10', password: 'secret-of-E-10' }, { retry: noRetry }).producer({
      retry: noRetry,
    });
    await producer.connect();
    const send = () =>
      producer.send({ topic: KAFKA_TOPICS.compact, acks: -1, messages: [{ key: 'E-10', value: 'x' }] }).then(
        () => 'ok',
        (error: unknown) => String((error as Error).message),
      );
    assert.equal(await send(), 'ok');
    await k.identities.removeEdge('E-10');
    // The session outlives the credential only until it must log in again (REAUTH_MS).
    let last = '';
    await waitFor(
      async () => {
        last = await send();
        return last !== 'ok';
      },
      {
        timeoutMs: REAUTH_MS * 3,
        intervalMs: 500,
        message: 'the removed edge’s session to end',
      },
    );
    assert.match(last, /authentication|closed|connect/i);
    await producer.disconnect().catch(() => {});
  });

  it('lets legacy edges on the explicit PLAINTEXT listener produce only to the uplink topics', async () => {
    const legacy = new Kafka({ brokers: [auth().legacyBroker!], logLevel: logLevel.NOTHING, retry: noRetry });
    assert.equal(await produce(legacy, KAFKA_TOPICS.status), 'ok');
    assert.equal(await produce(legacy, KAFKA_TOPICS.downlink), 'TOPIC_AUTHORIZATION_FAILED');
    assert.notEqual(await produce(legacy, 'elevator-new-topic'), 'ok');
  });
});
