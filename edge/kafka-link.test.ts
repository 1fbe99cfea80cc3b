/**
 * The Kafka link against a real single-node Kafka (KRaft) and Redis: today's legacy edges keep
 * working unchanged, compact edges may use Kafka too, bad messages are dead-lettered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type EdgeState, readActorState } from '../actors/mod.ts';
import { readDeadLetters } from '../bus/mod.ts';
import { type KafkaServer, spawnDevicehub, startKafka, waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { encodeCompact } from './compact.ts';
import { KafkaLink } from './kafka-link.ts';
import { legacyDetection, legacyFault, legacyStatus } from './legacy-encoder.ts';
import type { Birth, Status } from './normalized.ts';
import { KAFKA_TOPICS } from './protocol.ts';

const t = useRedis();
let kafka: KafkaServer;

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
      redis: t.connect(),
      keyspace,
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
          messages: [{ key: 'E-7', value: legacyStatus('E-7', ts, status, birth) }],
        },
        {
          topic: KAFKA_TOPICS.detection,
          messages: [
            { key: 'E-7', value: legacyDetection('E-7', ts, { ebike: true, doorBlocked: false }, 1) },
          ],
        },
        {
          topic: KAFKA_TOPICS.fault,
          messages: [{ key: 'E-7', value: legacyFault('E-7', ts, 'trapped', 'start', 5) }],
        },
        {
          topic: KAFKA_TOPICS.status,
          messages: [
            { key: 'E-8', value: legacyStatus('E-7', ts, status, birth) }, // names another edge
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
    const e7 = (await readActorState<EdgeState>(t.redis, keyspace, 'edge/E-7'))!.state;
    assert.deepEqual(e7.shadow.status, status);
    assert.deepEqual(e7.shadow.birth, birth);
    assert.deepEqual(e7.shadow.vision, { ebike: true, doorBlocked: false });
    await waitFor(async () => (await t.edgeState(keyspace, 'E-9'))?.openAlarms.smoke !== undefined, {
      message: 'E-9’s compact alarm applied',
    });
    const reasons = (await readDeadLetters(t.redis, keyspace)).map((l) => l.reason).sort();
    assert.deepEqual(reasons, [
      'EDGE_MISMATCH: message names device "E-7" but came from E-8',
      'NOT_JSON: legacy message is not JSON',
    ]);
    assert.deepEqual(link.stats.deadLettered, { EDGE_MISMATCH: 1, NOT_JSON: 1 });
    assert.equal(link.stats.enqueued, 4);
  });

  it('reads a batch again when its link process died before the entries reached Redis', async () => {
    const keyspace = t.keyspace();
    await using _node = await t.hub(keyspace);
    const args = ['link', 'kafka', ...t.cliArgs(keyspace)];
    args.push('--brokers', kafka.broker, '--group', `crash-${keyspace.prefix}`);
    const env = { DH_LOG_LEVEL: 'warn', DH_KAFKA_FROM_BEGINNING: '1' };
    const producer = new Kafka({ brokers: [kafka.broker], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: KAFKA_TOPICS.fault,
      messages: [{ key: 'E-77', value: legacyFault('E-77', 1795490000000, 'smoke', 'start', 3) }],
    });
    await producer.disconnect();
    const first = spawnDevicehub(args, { env: { ...env, DH_TEST_CRASH_BEFORE_ENQUEUE: '1' } });
    assert.equal(await first.exited, 70, 'the link died after receiving the batch, before enqueueing');
    assert.equal(await readActorState<EdgeState>(t.redis, keyspace, 'edge/E-77'), undefined);
    await using second = spawnDevicehub(args, { env });
    await second.ready;
    await waitFor(async () => (await t.edgeState(keyspace, 'E-77'))?.openAlarms.smoke !== undefined, {
      timeoutMs: 30_000,
      message: 'the uncommitted batch to be read again',
    });
  });
});
