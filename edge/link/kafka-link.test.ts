/**
 * The Kafka link against a real single-node Kafka (KRaft) and Redis: today's legacy edges keep
 * working unchanged on their own topics, compact edges may use Kafka too; and the shared link
 * contract, with commands on the downlink topic keyed by edge id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { readActorState } from '../../actors/mod.ts';
import { readDeadLetters } from '../../bus/mod.ts';
import { type KafkaServer, startKafka, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import type { LogRecord } from '../../logs/mod.ts';
import type { EdgeState } from '../actor/mod.ts';
import type { DownlinkCommand } from '../protocol/mod.ts';
import {
  type Birth,
  encodeCompact,
  encodeLogBatch,
  type Health,
  KAFKA_TOPICS,
  legacyDetection,
  legacyFault,
  legacyStatus,
  PROTOCOL_VERSION,
  type Status,
  UplinkKind,
} from '../protocol/mod.ts';
import { kafkaDownlink } from './downlink-relay.ts';
import { KafkaLink } from './kafka-link.ts';
import { linkMetricsText } from './link-metrics.ts';
import { type Line, recordingLogger } from './testdata/kafka-auth-broker.ts';
import { type LinkHarness, linkContract } from './testdata/link-contract.ts';

const t = useRedis();
let kafka: KafkaServer;
const HEALTH: Health = {
  uptimeSeconds: 10,
  cpuPercent: 3,
  memoryFreeMb: 100,
  diskFreeMb: 900,
  elenetAlive: true,
  litefcccoreAlive: true,
};

before(async () => {
  kafka = await startKafka();
});
after(async () => {
  await kafka?.stop();
});

const birth: Birth = {
  model: 'RV1126-ELEV',
  firmware: '3.2.14',
  registrationCode: 'R-7',
  buildingId: 'B-7',
  elevatorNo: 'A',
};
const status: Status = {
  running: false,
  floor: 5,
  door: 'open',
  direction: 'idle',
  hasPerson: false,
  brakeEngaged: true,
  safetyCircuitClosed: false,
  maintenance: false,
  faultCode: 0,
  speed: 0,
  load: 0,
  temperature: 22.5,
  motorAmps: 0.5,
  levelingMm: 2,
  positionMm: 12000,
  signalDbm: -70,
  runCount: 9,
  runSeconds: 90,
  doorOpenCount: 10,
};

describe('Kafka link (KRaft broker)', { timeout: 90_000 }, () => {
  it('takes legacy JSON and compact messages keyed by edge id, and dead-letters what it cannot decode', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    await using link = await new KafkaLink({
      brokers: [kafka.broker],
      bus: t.bus(keyspace, t.connect()),
      groupId: `g-${keyspace.prefix}`,
      fromBeginning: true,
    }).start();
    const producer = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING }).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    const ts = 1795490000000;
    await producer.sendBatch({
      topicMessages: [
        {
          topic: KAFKA_TOPICS.status,
          messages: [{ key: 'E-7', value: legacyStatus({ edgeId: 'E-7', ts, status, birth }) }],
        },
        {
          topic: KAFKA_TOPICS.detection,
          messages: [
            {
              key: 'E-7',
              value: legacyDetection({
                edgeId: 'E-7',
                ts,
                vision: { ebike: true, doorBlocked: false },
                peopleCount: 1,
              }),
            },
          ],
        },
        {
          topic: KAFKA_TOPICS.fault,
          messages: [
            {
              key: 'E-7',
              value: legacyFault({ edgeId: 'E-7', ts, alarm: 'trapped', phase: 'start', floor: 5 }),
            },
          ],
        },
        {
          topic: KAFKA_TOPICS.status,
          messages: [
            { key: 'E-8', value: legacyStatus({ edgeId: 'E-7', ts, status, birth }) }, // names another edge
            { key: 'E-7', value: '{"msgType":' }, // not JSON
          ],
        },
        {
          topic: KAFKA_TOPICS.compact,
          messages: [
            {
              key: 'E-9',
              value: Buffer.from(
                encodeCompact({ kind: 'alarm', seq: 1, ts, alarm: 'smoke', phase: 'start', floor: 2 }),
              ),
            },
          ],
        },
      ],
    });
    await producer.disconnect();
    await waitFor(() => link.stats.received === 6, {
      timeoutMs: 30_000,
      message: 'all six messages consumed',
    });
    // Topics are not ordered with each other: wait for all three of E-7's messages.
    await waitFor(
      async () => {
        const s = await t.edgeState(keyspace, 'E-7');
        return (
          s?.openAlarms.trapped !== undefined &&
          s.shadow.status !== undefined &&
          s.shadow.vision !== undefined
        );
      },
      { message: 'E-7’s status, detection and fault applied' },
    );
    const e7 = (await readActorState<EdgeState>(t.bus(keyspace), 'edge/E-7'))!.state;
    assert.deepEqual(e7.shadow.status, status);
    assert.deepEqual(e7.shadow.birth, birth);
    assert.deepEqual(e7.shadow.vision, { ebike: true, doorBlocked: false });
    await waitFor(async () => (await t.edgeState(keyspace, 'E-9'))?.openAlarms.smoke !== undefined, {
      message: 'E-9’s compact alarm applied',
    });
    const reasons = (await readDeadLetters(t.bus(keyspace))).map((l) => l.reason).sort();
    assert.deepEqual(reasons, [
      'EDGE_MISMATCH: message names device "E-7" but came from E-8',
      'NOT_JSON: legacy message is not JSON',
    ]);
    assert.deepEqual(link.stats.deadLettered, { EDGE_MISMATCH: 1, NOT_JSON: 1 });
    assert.equal(link.stats.enqueued, 4);
  });

  it('starts a new consumer when kafkajs gives one up, and the batch it held arrives', async () => {
    // kafkajs does not restart a consumer after an error it does not retry (a TypeError, or
    // "Failed to find group coordinator" when a broker stays away past its retries): without the
    // link's own restart the link would read nothing more, without a word.
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const lines: Line[] = [];
    let failures = 1;
    await using link = await new KafkaLink({
      brokers: [kafka.broker],
      bus: t.bus(keyspace, t.connect()),
      groupId: `g-${keyspace.prefix}`,
      fromBeginning: true,
      logger: recordingLogger(lines),
      hooks: {
        beforeEnqueue: () => {
          if (failures-- > 0) throw new TypeError('a bug met in one batch');
        },
      },
    }).start();
    const producer = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING }).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    const fault = legacyFault({
      edgeId: 'E-30',
      ts: 1795490000000,
      alarm: 'trapped',
      phase: 'start',
      floor: 3,
    });
    await producer.send({ topic: KAFKA_TOPICS.fault, messages: [{ key: 'E-30', value: fault }] });
    await producer.disconnect();
    await waitFor(async () => (await t.edgeState(keyspace, 'E-30'))?.openAlarms.trapped !== undefined, {
      timeoutMs: 30_000,
      message: 'the alarm applied by a new consumer',
      explain: async () =>
        `restarts ${link.consumerRestarts}; log ${JSON.stringify(lines.map((l) => l.msg))}`,
    });
    assert.equal(link.consumerRestarts, 1);
    assert.ok(
      lines.some((l) => l.level === 'error' && /does not retry; starting a new one/.test(l.msg ?? '')),
      'the link said why',
    );
    assert.match(
      linkMetricsText([link]).text(),
      /\ndevicehub_link_consumer_restarts_total\{transport="kafka"\} 1\n/,
    );
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const harness: LinkHarness = {
  transport: 'kafka',
  edgeIds: ['K-1', 'K-2', 'K-3', 'K-4', 'K-5', 'K-6', 'K-7', 'K-8'],
  link: (o) =>
    new KafkaLink({ ...o, brokers: [kafka.broker], groupId: `g-${o.bus.keyspace.prefix}` }).start(),
  linkProcess: (keyspace) => ({
    args: [
      'link',
      'kafka',
      ...t.cliArgs(keyspace),
      '--brokers',
      kafka.broker,
      '--group',
      `crash-${keyspace.prefix}`,
    ],
    // A new group: read from the beginning, so the restarted process finds the uncommitted message.
    env: { DH_LOG_LEVEL: 'warn', DH_KAFKA_FROM_BEGINNING: '1' },
  }),
  sender: () => kafkaDownlink({ brokers: [kafka.broker] }),
  async edge(id) {
    const client = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING, clientId: id });
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const commands: DownlinkCommand[] = [];
    // A short fetch wait: disposing the edge waits for the fetch in flight (kafkajs's 5 s by default).
    const consumer = client.consumer({ groupId: `edge-${id}-${Date.now()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: KAFKA_TOPICS.downlink, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() === id)
          commands.push(JSON.parse(String(message.value)) as DownlinkCommand);
      },
    });
    // Like an edge's store-and-forward: resend until the broker has it (through a restart).
    const send = async (topic: string, value: Uint8Array | string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await producer.send({
            topic,
            acks: -1,
            messages: [{ key: id, value: typeof value === 'string' ? value : Buffer.from(value) }],
          });
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(500); // an edge's resend delay: time passing is the point
        }
      }
    };
    return {
      id,
      commands,
      compact: (m) => send(KAFKA_TOPICS.compact, encodeCompact(m)),
      legacy: (m) => send(m.topic, m.json),
      raw: (format, _kind, bytes) =>
        send(format === 'compact' ? KAFKA_TOPICS.compact : KAFKA_TOPICS.status, bytes),
      async [Symbol.asyncDispose]() {
        await Promise.all([producer.disconnect(), consumer.disconnect()]);
      },
    };
  },
  restartBroker: () => kafka.restart(),
};

describe('Kafka link: edge logs', { timeout: 90_000 }, () => {
  it('sends a log batch on dh-uplink to the log sink with the key’s edge id, beside mailbox messages; dead-letters a bad one', async () => {
    const keyspace = t.keyspace();
    const records: LogRecord[] = [];
    await using _node = await t.hub(keyspace);
    await using link = await new KafkaLink({
      brokers: [kafka.broker],
      bus: t.bus(keyspace, t.connect()),
      groupId: `logs-${keyspace.prefix}`,
      fromBeginning: true,
      logs: { push: (r) => records.push(r) },
    }).start();
    const producer = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const ts = Date.now();
    const lines = [
      { time: ts, level: 'warn', source: 'elenet', msg: 'camera slow' },
      { time: ts + 1, level: 'info', source: 'agent', msg: 'reconnected' },
    ] as const;
    await producer.send({
      topic: KAFKA_TOPICS.compact,
      messages: [
        { key: 'K-1', value: Buffer.from(encodeLogBatch(lines)) },
        { key: 'K-1', value: Buffer.from(encodeCompact({ kind: 'health', seq: 1, ts, health: HEALTH })) },
        { key: 'K-2', value: Buffer.from([(PROTOCOL_VERSION << 4) | UplinkKind.log, 0xc1, 0xc1]) },
      ],
    });
    await producer.disconnect();
    // The topics are the broker's, shared with the test above, and a new group reads them from the
    // beginning: this link also takes that test's messages, so count what only this test sent
    // (log batches: the sink's lines and the malformed batch), not everything received.
    await waitFor(() => records.length === 2 && link.logLines.malformed === 1, {
      timeoutMs: 60_000,
      message: 'the two lines in the sink and the bad batch counted',
    });
    assert.deepEqual(
      records.map((r) => [r.edgeId, r.service, r.level, r.msg]),
      [
        ['K-1', 'elenet', 'warn', 'camera slow'],
        ['K-1', 'agent', 'info', 'reconnected'],
      ],
    );
    // K-1's health message went to its mailbox and was applied; its log batch did not.
    await waitFor(async () => ((await t.edgeState(keyspace, 'K-1'))?.lastSeen ?? null) !== null, {
      message: 'K-1’s health applied',
    });
    const k2 = (await readDeadLetters(t.bus(keyspace))).filter((l) => l.address === 'edge/K-2');
    assert.deepEqual(
      k2.map((l) => l.reason.split(':')[0]),
      ['INVALID_FIELD'],
      'the bad batch is K-2’s one dead letter',
    );
    assert.equal(link.logLines.malformed, 1);
  });
});

linkContract(t, () => harness);
