/**
 * Kafka with authentication (issue 14, items 3 and 6) against one real KRaft broker started with
 * SASL_SSL (SCRAM-SHA-512, the fleet CA's server certificate) and ACLs: the hub's side and the
 * simulator over it. The link consumes an edge's records over SASL_SSL into the edge actors and the
 * agent takes commands over it; `devicehub link kafka` runs from its settings and stops on a wrong
 * password with the reason, never the password; the simulator's shared producers log in as one
 * box. Who may log in and do what: kafka-auth.test.ts.
 */
// Redis Cluster pass: once (what this tests is Kafka's SASL_SSL and ACLs; its Redis use is incidental).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnDevicehub, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { brokerName, openUplink, parseBroker } from '../agent/uplink.ts';
import { encodeCompact, KAFKA_TOPICS, legacyFault } from '../protocol/mod.ts';
import { KafkaProducers } from '../sim/kafka-producers.ts';
import type { SimEdge } from '../sim/sim-edge.ts';
import { kafkaDownlink } from './downlink-relay.ts';
import { KafkaLink } from './kafka-link.ts';
import { recordingLogger, useAuthenticatedKafka } from './testdata/kafka-auth-broker.ts';

const t = useRedis();
const k = useAuthenticatedKafka();
const auth = () => k.auth;
const client = k.client;

describe('Kafka with authentication: the link and the simulator over SASL_SSL', { timeout: 120_000 }, () => {
  it('carries an edge’s records through the link over SASL_SSL to its actor, and commands back to the agent', async () => {
    await k.identities.ensureEdge('E-5', 'secret-of-E-5');
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const security = { ca: auth().ca, ...auth().hub };
    await using link = await new KafkaLink({
      brokers: [k.kafka.broker],
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
    const broker = parseBroker(`kafkas://${k.kafka.broker}`);
    assert.deepEqual(broker, { transport: 'kafka', brokers: [k.kafka.broker], security: 'sasl_ssl' });
    assert.equal(brokerName(broker), `kafkas://${k.kafka.broker}`);
    const uplink = await openUplink(broker, {
      edgeId: 'E-5',
      password: 'secret-of-E-5',
      brokerTls: { ca: auth().ca },
      onCommand: (payload) => void commands.push(payload.toString()),
      onConnect: () => {},
      log: recordingLogger([]),
      pending: new Set(),
    });
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
    const sender = await kafkaDownlink({ brokers: [k.kafka.broker], security });
    await sender.send('E-5', { id: 'c-1', type: 'echo', args: {}, deadline: Date.now() + 30_000, epoch: 1 });
    await sender.close();
    await waitFor(() => commands.length > 0, { timeoutMs: 60_000, message: 'the command at the agent' });
    assert.equal((JSON.parse(commands[0]!) as { id: string }).id, 'c-1');
    await uplink.close();
  });

  it('runs `devicehub link kafka` over SASL_SSL from its settings; a wrong password stops it with the reason, not the password', async () => {
    await k.identities.ensureEdge('E-8', 'secret-of-E-8');
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const args = [
      'link',
      'kafka',
      ...t.cliArgs(keyspace),
      '--brokers',
      k.kafka.broker,
      '--group',
      `cli-${keyspace.prefix}`,
      '--kafka-username',
      auth().hub.username,
      '--kafka-ca',
      auth().caFile,
    ];
    await using link = spawnDevicehub(args, {
      env: { DH_LOG_LEVEL: 'warn', KAFKA_PASSWORD: auth().hub.password },
    });
    await link.ready;
    const edge = client({ username: 'E-8', password: 'secret-of-E-8' }).producer();
    await edge.connect();
    await edge.send({
      topic: KAFKA_TOPICS.compact,
      acks: -1,
      messages: [
        {
          key: 'E-8',
          value: Buffer.from(
            encodeCompact({ kind: 'status', seq: 1, ts: Date.now(), snapshot: false, status: { floor: 4 } }),
          ),
        },
      ],
    });
    await edge.disconnect();
    await waitFor(async () => (await t.edgeState(keyspace, 'E-8'))?.shadow.status?.floor === 4, {
      timeoutMs: 30_000,
      message: 'E-8’s status through the link process',
    });

    const wrongPassword = 'not-the-hub-password';
    await using refused = spawnDevicehub(args, {
      env: { DH_LOG_LEVEL: 'warn', KAFKA_PASSWORD: wrongPassword },
    });
    assert.notEqual(await refused.exited, 0);
    const said = `${refused.stderrTail()}${JSON.stringify(refused.logs)}`;
    assert.match(said, /authentication failed/i);
    assert.ok(!said.includes(wrongPassword), 'the password is not in what it said');
  });

  it('lets the simulator’s shared producers in as one box’s credential, and refuses them without it', async () => {
    await k.identities.ensureEdge('BOX-1', 'secret-of-BOX-1');
    const run = async (security?: { ca: string; username: string; password: string }) => {
      const producers = await KafkaProducers.start(
        [k.kafka.broker],
        1,
        security === undefined ? {} : { security },
      );
      try {
        const answers: { count: number; error?: unknown }[] = [];
        for (const [index, id] of ['S-1', 'S-2'].entries()) {
          const edge = { id, index } as SimEdge;
          producers.add(edge, {
            compact: { kind: 'alarm', seq: 1, ts: Date.now(), alarm: 'smoke', phase: 'start', floor: 1 },
          });
        }
        producers.flush((_edge, count, error) => void answers.push({ count, error }));
        await waitFor(() => answers.length > 0, { timeoutMs: 30_000, message: 'the batch answered' });
        return answers;
      } finally {
        await producers.disconnect();
      }
    };
    const taken = await run({ ca: auth().ca, username: 'BOX-1', password: 'secret-of-BOX-1' });
    assert.deepEqual(
      taken.map((a) => [a.count, a.error]),
      [
        [1, undefined],
        [1, undefined],
      ],
    );
    await assert.rejects(run(undefined));
  });
});
