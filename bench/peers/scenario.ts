/**
 * `peers`: the same legacy workload (N edges, 1.3 msg/s each), the same Redis, the same wrapped
 * edge-actor handler and state (measure.ts), processed in turn by DeviceHub (2 hub nodes), BullMQ
 * (2 worker processes, a job per message) and a Kafka consumer group (2 consumer processes, 8
 * partitions), each under a kill -9 of one worker mid-run. One system runs at a time on this
 * machine; Kafka's broker runs only during its own turn. Settings and fairness: decision 047.
 */
import { Kafka, logLevel } from 'kafkajs';
import { connectRedis, createKeyspace, openBus } from '../../bus/mod.ts';
import { startKafka, startRedisServer } from '../../infra/mod.ts';
import { measureFloors } from '../floors.ts';
import type { ScenarioOptions, ScenarioResult } from '../scenarios/common.ts';
import { type Floor, peersReport } from './peers-report.ts';
import { type RunOptions, runSystem, type SystemResult } from './run-system.ts';
import { type PeerSystem, peerKeys } from './state-store.ts';

/** Jobs each BullMQ worker process runs at once (the handler waits on Redis: BullMQ's concurrency guide). */
export const BULLMQ_CONCURRENCY = 50;
const PARTITIONS = 8;

export interface PeersOptions extends Partial<Omit<RunOptions, 'edges' | 'seconds'>> {
  /** The systems to run, in order (default all three). */
  readonly systems?: readonly PeerSystem[];
  /**
   * Start Kafka's broker at once, beside the other systems' runs, instead of in its own turn:
   * saves its start-up in smoke runs, at the price of the other systems' figures.
   */
  readonly kafkaEarly?: boolean;
  /**
   * The Kafka consumers' session timeout (default 10 s, decision 047; the broker's least is 6 s):
   * a smoke run waits that long after the kill -9 for the killed consumer's partitions.
   */
  readonly kafkaSessionMs?: number;
}

export async function peersScenario(o: ScenarioOptions, options: PeersOptions = {}): Promise<ScenarioResult> {
  const run: RunOptions = {
    edges: o.edges,
    seconds: o.seconds,
    warmupSeconds: options.warmupSeconds ?? Math.min(10, Math.max(1, Math.floor(o.seconds / 3))),
    killPhaseSeconds: options.killPhaseSeconds ?? Math.max(3, o.seconds),
    restartSeconds: options.restartSeconds ?? Math.min(5, Math.max(1, Math.floor(o.seconds / 6))),
    drainSeconds: options.drainSeconds ?? 180,
  };
  await using redis = await startRedisServer({ fsync: 'everysec' });
  // The floor first, on a quiet Redis: the bus's Redis work in a bare ioredis loop (floors.ts).
  const floors = await measureFloors({
    redisUrl: redis.url,
    redisMessages: o.edges * 1.3 * o.seconds,
    mqtt: false,
  });
  const floor: Floor = {
    name: 'redis: pipelined XADD + XREADGROUP/XACK',
    microsPerMsg: floors.redisMicrosPerMsg,
  };
  const connection = connectRedis(redis.url, { name: 'peers-bench' });
  const bus = openBus({
    redis: connection,
    keyspace: createKeyspace({ prefix: peerKeys.hubPrefix, shards: 1024 }),
  });
  const results: SystemResult[] = [];
  const early = options.kafkaEarly === true ? startKafka({ partitions: PARTITIONS }) : undefined;
  early?.catch(() => {}); // awaited in Kafka's turn
  try {
    for (const system of options.systems ?? (['devicehub', 'bullmq', 'kafka-consumer'] as const)) {
      const setup = {
        redisUrl: redis.url,
        redisPid: redis.pid,
        bus,
        concurrency: BULLMQ_CONCURRENCY,
        ...(options.kafkaSessionMs === undefined ? {} : { kafkaSessionMs: options.kafkaSessionMs }),
      };
      if (system !== 'kafka-consumer') {
        results.push(await runSystem(system, setup, run));
        continue;
      }
      await using kafka = await (early ?? startKafka({ partitions: PARTITIONS }));
      await createTopic(kafka.broker);
      results.push(await runSystem(system, { ...setup, broker: kafka.broker, brokerPid: kafka.pid }, run));
    }
    return peersReport(results, { ...run, concurrency: BULLMQ_CONCURRENCY, floor });
  } finally {
    connection.disconnect();
    if (!results.some((r) => r.name === 'kafka-consumer'))
      await (await early?.catch(() => undefined))?.stop();
  }
}

async function createTopic(broker: string): Promise<void> {
  const admin = new Kafka({ clientId: 'peers-admin', brokers: [broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: peerKeys.topic, numPartitions: PARTITIONS }],
    });
  } finally {
    await admin.disconnect();
  }
}
